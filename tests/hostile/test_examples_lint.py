"""The examples' Containerfiles, compiled by the real CLI, read back exactly and lint clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.containerfile_check import assert_round_trips, hadolint

from imagec.cli import main
from imagec.project import load_project

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [
    "examples/quickstart",
    "examples/full",
    "examples/pipeline/pipeline.py",
    "examples/gpu",
    "examples/gpu/nvidia-base.yaml",
    "examples/build-steps",
    "examples/multi-platform",
]


@pytest.mark.parametrize("target", EXAMPLES)
def test_example_containerfile_round_trips_and_lints_clean(
    target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("IMAGEC_STACK", raising=False)
    out = tmp_path / "Containerfile"
    assert main(["compile", target, "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert_round_trips(load_project(target).plan, text)
    assert hadolint([out]) == []
