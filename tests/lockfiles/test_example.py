"""examples/lockfile compiles: its layer pins exactly what its uv.lock pins, development group
left out, hashes required."""

from __future__ import annotations

import json
from pathlib import Path

from support.cli import run_imagec

from lockfiles.projects import locked_pins, pins

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lockfile"


def test_lockfile_example_compiles_to_its_lock() -> None:
    result = run_imagec("ir", str(EXAMPLE / "imagec.yaml"))
    assert result.returncode == 0, result.stderr
    files = json.loads(result.stdout)["files"]
    [content] = [f["content"] for f in files if f["path"].endswith("-lock.txt")]
    assert "--require-hashes" in content.splitlines()
    exported = pins(content)
    assert exported == locked_pins(EXAMPLE / "uv.lock")
    assert set(exported) == {"python-dateutil", "tzdata"}  # not `six`, the dev group
    compiled = run_imagec("compile", str(EXAMPLE / "imagec.yaml"))
    assert compiled.returncode == 0, compiled.stderr
    assert "lock_files (imagec.yaml:" in compiled.stdout
