"""Class 3b: values of today's spec fields never break out of their instruction.

Build steps (script, environment, user, cache, secrets), the run-time environment, CUDA and
cuDNN versions, platform lists, the managed Python, the parent Dockerfile's target and build
arguments, URL requirements and the workdir an installed project lands in: each gets values
meant to end an instruction (line breaks, a continuation backslash, quotes, `$` expansions,
NUL, Unicode line separators, a BOM, CSV commas for a mount, overlong text). Each is refused
as a spec error or read back by BuildKit's parser as exactly the plan's value, with every
variable poisoned (tests/support/containerfile_check.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.containerfile_check import assert_round_trips

from imagec.backend.containerfile import render
from imagec.errors import ImagecError
from imagec.project import load_project

NASTY = [
    "a\nRUN evil",
    "a\rRUN evil",
    "a\\\nRUN evil",
    'a"b',
    "a'b",
    "a\\",
    "$HOME",
    "${X:-y}",
    "a\x00b",
    "a\u2028b",
    "`id`",
    "-rf",
    "--mount=type=bind,source=/,target=/x",
    "/a,type=bind,source=/",
    "\ufeffa",
    '["x"]',
    "12.4\nRUN x",
    "1" * 5000,
]


def _specs(v: str) -> Iterator[dict]:
    yield {"build_steps": [v]}
    yield {"build_steps": [{"run": "true", "environment": {"X": v}}]}
    yield {"build_steps": [{"run": "true", "user": v}]}
    yield {"build_steps": [{"run": "true", "cache": [v]}]}
    yield {"build_steps": [{"run": "true", "secrets": [v]}], "secrets": [{"id": v}]}
    yield {"secrets": [{"id": "a", "env": v}], "build_steps": [{"run": "true", "secrets": ["a"]}]}
    yield {"runtime_environment": {"X": v}}
    yield {"cuda": v}
    yield {"cuda": "12.4", "cudnn": v}
    yield {"platform": [v, "linux/amd64"]}
    yield {"python_version": v, "managed_python": True}
    yield {"base_image": v, "skip_build": True}
    yield {"dockerfile": {"path": "Dockerfile", "target": v}}
    yield {"dockerfile": {"path": "Dockerfile", "build_args": {"X": v}}}
    yield {"requirements": [v]}
    yield {"requirements": ["https://x.example/p-1.0-py3-none-any.whl#" + v]}
    yield {"install_project": True, "workdir": v}


@pytest.mark.parametrize("value", NASTY, ids=range(len(NASTY)))
def test_every_new_field_round_trips_or_is_refused(tmp_path: Path, value: str) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "app.py").write_text("x = 1\n")
    (root / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    (root / "Dockerfile").write_text("FROM python:3.11-slim AS base\n")
    for spec in _specs(value):
        (root / "imagec.json").write_text(json.dumps({"copy_stack": False, **spec}))
        try:
            project = load_project(str(root / "imagec.json"))
            text = render(project.plan)
        except ImagecError:
            continue
        assert_round_trips(project.plan, text)
