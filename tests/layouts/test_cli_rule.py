"""``imagec context SPEC`` and ``imagec ir SPEC`` say which rule chose the source root (on
stderr; ``imagec ir``'s plan also records it with the source directory)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imagec.cli import main
from imagec.plan.ir import CTX_SOURCE, Plan

ROOT = Path(__file__).parents[2]
CASES = {
    "examples/starter/run.py": ("examples/starter", "directory of run.py, the file named"),
    "examples/starter/pipelines/training.py": (
        "examples/starter",
        "import root of package pipelines",
    ),
    "examples/src-layout/src/churn/pipeline.py": (
        "examples/src-layout/src",
        "import root of package churn",
    ),
    "examples/single-file/report.py": (
        "examples/single-file",
        "directory of report.py, the file named",
    ),
    "examples/quickstart/imagec.yaml": ("examples/quickstart", "directory of the spec file"),
}


@pytest.mark.parametrize("command", ["context", "ir"])
@pytest.mark.parametrize("target", sorted(CASES))
def test_command_names_the_rule(
    command: str, target: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("IMAGEC_STACK", raising=False)
    assert main([command, target]) == 0
    out, err = capsys.readouterr()
    root, rule = CASES[target]
    assert err.splitlines()[0] == f"source root: {ROOT / root} ({rule})"
    if command == "ir":
        assert Plan.from_json(out).to_json() == out  # stdout stays the plan, nothing else
        # ...which records the rule with the source directory, for scripts to read.
        dirs = json.loads(out)["dirs"]
        assert [(d["root"], d["rule"]) for d in dirs if d["dest"] == CTX_SOURCE] == [
            (str(ROOT / root), rule)
        ]
