"""Class 13: TOML and JSON nested deeper than the standard parsers recurse.

tomllib and json recurse once per level, so a file of ``[[[[...`` raises RecursionError, not
their own decode error. Every parse of a file from the project catches it: a lock file is one
located line, and a pyproject.toml imagec only peeks at for a hint is simply not hinted about."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.hostile import imagec, refused
from support.timeout import time_limit_fixture

_limit = time_limit_fixture(60)

DEEP_TOML = "x = " + "[" * 50_000 + "]" * 50_000 + "\n"


def _project(tmp_path: Path, spec: str) -> Path:
    (tmp_path / "app.py").write_text("x = 1\n")
    (tmp_path / "imagec.yaml").write_text("copy_stack: false\n" + spec)
    return tmp_path


def test_a_deep_pylock(tmp_path: Path) -> None:
    root = _project(tmp_path, "lock_files: [pylock.toml]\n")
    (root / "pylock.toml").write_text(DEEP_TOML)
    refused(imagec("compile", "imagec.yaml", cwd=root), r"imagec\.yaml:2:14: lock_files\[0\]: .*")


@pytest.mark.parametrize("lock", ["uv.lock", "poetry.lock"])
def test_a_deep_lock_for_a_tool(tmp_path: Path, lock: str) -> None:
    root = _project(tmp_path, f"lock_files: [{lock}]\n")
    (root / lock).write_text(DEEP_TOML)
    (root / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    result = imagec("compile", "imagec.yaml", cwd=root)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr


def test_a_deep_pyproject_at_the_source_root(tmp_path: Path) -> None:
    root = _project(tmp_path, "")
    (root / "pyproject.toml").write_text(DEEP_TOML)
    result = imagec("compile", "imagec.yaml", cwd=root)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 0, result.stderr
