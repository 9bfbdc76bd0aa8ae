"""Class 2c: a secret as the value of a per-requirement option.

A requirements file's per-line options (``--config-settings KEY=VALUE``, ``--global-option``,
``--build-option``) are written into the image's own requirements file. A value for a
secret-looking key (``password=``, ``--token=``) is refused like a credential in a URL, and
the refusal names the key, never the value; ``${VAR}`` in its place and keys that only look
alike (``max_tokens``) pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.hostile import imagec, refused
from support.timeout import time_limit_fixture

_limit = time_limit_fixture(60)

SECRET = "hunter2Value"

REFUSED = [
    f"pkg==1 --config-settings password={SECRET}",
    f"pkg==1 --config-settings=api_key={SECRET}",
    f"pkg==1 -C token={SECRET}",
    f"pkg==1 --global-option=--password={SECRET}",
    f"pkg==1 --global-option --auth-token={SECRET}",
    f"pkg==1 --config-settings=--build-option=--token=ghp_{'A1b2' * 9}",
]
ACCEPTED = [
    "pkg==1 --config-settings=editable_mode=compat",
    "pkg==1 --config-settings password=${PW}",
    "pkg==1 -C max_tokens=5",
    "pkg==1 --global-option=--no-user-cfg",
]


def _run(tmp_path: Path, line: str):
    (tmp_path / "app.py").write_text("x = 1\n")
    (tmp_path / "requirements.txt").write_text(line + "\n")
    spec = "copy_stack: false\nrequirements: requirements.txt\n"
    if "${PW}" in line:
        spec += "secrets: [{id: pw, env: PW}]\n"
    (tmp_path / "imagec.yaml").write_text(spec)
    return imagec("export", "imagec.yaml", "-o", tmp_path / "out", cwd=tmp_path)


@pytest.mark.parametrize("line", REFUSED)
def test_refused_without_echoing_the_value(tmp_path: Path, line: str) -> None:
    shown = refused(_run(tmp_path, line), r"requirements\.txt:1: .*build secret.*")
    assert SECRET not in shown and "ghp_" not in shown
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("line", ACCEPTED)
def test_accepted(tmp_path: Path, line: str) -> None:
    result = _run(tmp_path, line)
    assert result.returncode == 0, result.stderr
