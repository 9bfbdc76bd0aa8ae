"""Lowering is a dispatch table keyed by IR step type, and nothing is dropped silently.

Like datasette's test that every plugin hook has a test: every step type of the IR has a
lowering in every built-in backend, and a step a backend cannot write -- an unknown step type,
a value with no exact encoding -- goes through ``Backend.unsupported()``: an error (exit 2),
or under ``--on-unsupported warn`` a warning and the step left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from imagec.backend import UnsupportedStep
from imagec.backend.containerfile import LOWERINGS, render
from imagec.cli import main
from imagec.errors import SpecError
from imagec.plan.ir import (
    STEP_TYPES,
    Arg,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    From,
    IRError,
    Label,
    Origin,
    Plan,
    Run,
    Step,
    User,
    Workdir,
)
from imagec.plugins import PluginInfo, get_plugins, hookimpl

BUILTIN_BACKENDS = ("containerfile", "docker", "podman")
AT = Origin("environment", "imagec.yaml", 3)
BASE = From(Origin("base_image"), "python:3.11-slim")

# One step of every IR type and the instruction it lowers to. A new step type fails
# test_every_step_type_has_a_sample until it has an entry here, and a lowering.
SAMPLES: dict[type[Step], tuple[Step, str]] = {
    From: (BASE, "FROM python:3.11-slim"),
    Arg: (Arg(AT, "MODE", "fast"), 'ARG MODE="fast"'),
    Env: (Env(AT, (("A", "1"),)), 'ENV A="1"'),
    Label: (Label(AT, (("team", "ml"),)), 'LABEL "team"="ml"'),
    Run: (Run(AT, ("python", "-V")), 'RUN ["python", "-V"]'),
    Copy: (Copy(AT, ("src/",), "/app/"), 'COPY ["src/", "/app/"]'),
    Workdir: (Workdir(AT, "/app"), "WORKDIR /app"),
    User: (User(AT, "app"), "USER app"),
    Entrypoint: (Entrypoint(AT, ("python",)), 'ENTRYPOINT ["python"]'),
    Cmd: (Cmd(AT, ("train.py",)), 'CMD ["train.py"]'),
}


@dataclass(frozen=True)
class Healthcheck(Step):
    """A step type this imagec has no lowering for, as a plugin's transform might add."""

    kind = "healthcheck"
    command: str


def backend(name: str, policy: str = "error"):
    return get_plugins().backend(name).from_options({}, unsupported=policy)


def test_every_step_type_has_a_sample() -> None:
    assert set(SAMPLES) == set(STEP_TYPES.values())


def test_every_step_type_has_a_lowering() -> None:
    assert set(STEP_TYPES.values()) <= set(LOWERINGS)


@pytest.mark.parametrize("name", BUILTIN_BACKENDS)
def test_every_builtin_backend_lowers_every_step_type(name: str, capsys) -> None:
    plan = Plan(steps=tuple(step for step, _ in SAMPLES.values()))
    lines = backend(name).render(plan).splitlines()
    for step_type, (_, instruction) in SAMPLES.items():
        assert instruction in lines, step_type.__name__
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("name", BUILTIN_BACKENDS)
def test_an_unknown_step_type_is_an_error_by_default(name: str) -> None:
    plan = Plan(steps=(BASE, Healthcheck(AT, "curl -f localhost")))
    with pytest.raises(UnsupportedStep) as info:
        backend(name).render(plan)
    assert info.value.exit_code == 2
    assert str(info.value) == (
        f"backend {name!r} cannot express healthcheck from environment (imagec.yaml:3): "
        "no Containerfile instruction for a Healthcheck step"
    )


@pytest.mark.parametrize("name", BUILTIN_BACKENDS)
def test_under_warn_an_unknown_step_is_left_out_with_a_warning(name: str, capsys) -> None:
    plan = Plan(steps=(BASE, Healthcheck(AT, "curl -f localhost"), SAMPLES[Run][0]))
    text = backend(name, "warn").render(plan)
    assert "curl" not in text and 'RUN ["python", "-V"]' in text
    assert capsys.readouterr().err == (
        f"imagec: warning: backend {name!r} cannot express healthcheck from environment "
        "(imagec.yaml:3): no Containerfile instruction for a Healthcheck step; left out\n"
    )


def test_an_unencodable_value_goes_through_the_policy(capsys) -> None:
    plan = Plan(steps=(BASE, Env(AT, (("A", "1\nRUN id"),)), SAMPLES[Run][0]))
    with pytest.raises(UnsupportedStep, match=r"cannot write ENV exactly: value '1\\nRUN id'"):
        backend("containerfile").render(plan)
    text = backend("containerfile", "warn").render(plan)
    assert "RUN id" not in text and 'RUN ["python", "-V"]' in text
    assert "cannot write ENV exactly" in capsys.readouterr().err


def test_without_a_backend_an_unwritable_step_is_an_error_at_its_origin() -> None:
    with pytest.raises(SpecError) as info:
        render(Plan(steps=(BASE, Healthcheck(AT, "x"))))
    assert str(info.value) == (
        "imagec.yaml:3: environment: no Containerfile instruction for a Healthcheck step"
    )


class AddsHealthcheck:
    @hookimpl
    def imagec_transform_plan(self, plan: Plan) -> Plan:
        return Plan(steps=(*plan.steps, Healthcheck(Origin("healthcheck plugin"), "x")))


@pytest.fixture
def healthcheck_plugin():
    plugins = get_plugins()
    plugin = AddsHealthcheck()
    plugins.register(plugin, PluginInfo("healthcheck", "imagec-healthcheck", "1.0"))
    yield
    plugins.pm.unregister(plugin)
    del plugins.info["healthcheck"]


def test_on_unsupported_warn_reaches_the_builtin_backends(
    tmp_path: Path, healthcheck_plugin, capsys
) -> None:
    spec = tmp_path / "imagec.yaml"
    spec.write_text("requirements: [six]\n")
    assert main(["compile", str(spec)]) == 2
    assert "cannot express healthcheck from healthcheck plugin" in capsys.readouterr().err
    assert main(["compile", str(spec), "--on-unsupported", "warn"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("# Containerfile generated by imagec") and "healthcheck" not in out
    assert err == (
        "imagec: warning: backend 'containerfile' cannot express healthcheck from healthcheck "
        "plugin: no Containerfile instruction for a Healthcheck step; left out\n"
    )


def test_a_plan_with_an_unknown_step_kind_is_a_clean_error() -> None:
    data = json.loads(Plan(steps=(BASE,)).to_json())
    data["steps"].append({"kind": "healthcheck", "origin": {"field": "x"}, "command": "y"})
    with pytest.raises(IRError) as info:
        Plan.from_json(json.dumps(data))
    assert str(info.value).startswith("unknown step kind 'healthcheck' (this imagec knows: arg,")
    data["steps"][-1] = {"kind": "env", "origin": {"field": "x"}, "pairs": [], "extra": 1}
    with pytest.raises(IRError, match="malformed plan: TypeError"):
        Plan.from_json(json.dumps(data))
