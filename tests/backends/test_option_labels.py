"""The labels passed to the engine as options leave out those the build file sets to the same
value (podman 4 makes a LABEL step, and a commit, of each label passed)."""

from __future__ import annotations

from imagec.backend.engine.option_labels import set_by_build_file, to_pass
from imagec.plan.ir import From, Label, Origin, Plan, Run

AT = Origin("test")


def plan(*steps) -> Plan:
    return Plan(steps=(From(AT, "python:3.11-slim"), *steps))


def test_a_label_the_build_file_sets_to_the_same_value_is_not_passed_again() -> None:
    p = plan(Run(AT, ("true",)), Label(AT, (("dev.imagec.version", "0.1.0"), ("team", "ml"))))
    labels = {"dev.imagec.version": "0.1.0", "team": "ops", "dev.imagec.content-hash": "ab"}
    # Another value is passed: options apply last and win, as before.
    assert to_pass(labels, p) == {"team": "ops", "dev.imagec.content-hash": "ab"}


def test_only_the_last_stage_and_its_last_value_count() -> None:
    p = plan(
        Label(AT, (("a", "1"), ("b", "1"))),
        From(AT, "python:3.11-slim"),
        Label(AT, (("b", "1"), ("c", "1"))),
        Label(AT, (("c", "2"),)),
    )
    assert set_by_build_file(p) == {"b": "1", "c": "2"}
    assert to_pass({"a": "1", "b": "1", "c": "1"}, p) == {"a": "1", "c": "1"}


def test_a_label_step_the_containerfile_cannot_hold_sets_nothing() -> None:
    # Left out under --on-unsupported warn: its labels must still be passed.
    p = plan(Label(AT, (("k", "line\nbreak"), ("dev.imagec.version", "0.1.0"))))
    assert set_by_build_file(p) == {}
    assert to_pass({"dev.imagec.version": "0.1.0"}, p) == {"dev.imagec.version": "0.1.0"}
