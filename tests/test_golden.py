"""Golden Containerfiles: one per example, reviewed by eye once, byte-exact thereafter.

Regenerate after an intended change with ``IMAGEC_UPDATE_GOLDEN=1 python -m pytest
tests/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imagec.cli import main

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden"
EXAMPLES = {
    "quickstart": "examples/quickstart",
    "full": "examples/full",
    "pipeline": "examples/pipeline/pipeline.py",
    "gpu": "examples/gpu",
    "gpu-nvidia-base": "examples/gpu/nvidia-base.yaml",
    "build-steps": "examples/build-steps",
    "multi-platform": "examples/multi-platform",
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_compile_matches_golden(name: str, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("IMAGEC_STACK", raising=False)
    assert main(["compile", EXAMPLES[name]]) == 0
    out = capsys.readouterr().out
    golden = GOLDEN / f"{name}.Containerfile"
    if os.environ.get("IMAGEC_UPDATE_GOLDEN"):
        golden.write_text(out)
    assert out == golden.read_text()


def test_compile_is_byte_identical_across_runs(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(ROOT)
    outputs = []
    for _ in range(2):
        assert main(["compile", "examples/full"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
