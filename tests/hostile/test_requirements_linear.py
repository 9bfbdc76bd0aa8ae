"""Class 4c: reading a requirements file is linear in its size.

pip cuts comments with `(^|\\s+)#.*$`, which rescans a run of blanks from each of its
positions: a line of a few megabytes of spaces in a pull request's requirements file would
take hours. imagec cuts at the same place in one pass."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support.hostile import imagec
from support.timeout import time_limit_fixture

from imagec.util.fsutil import MAX_USER_FILE_BYTES

_limit = time_limit_fixture(60)

SIZE = MAX_USER_FILE_BYTES - 64


@pytest.mark.parametrize(
    "line",
    [
        "requests" + " " * SIZE + "x",  # blanks, then no comment
        " " * SIZE + "# a comment",
        "requests" + " \t" * (SIZE // 2),
    ],
    ids=["blanks-no-comment", "blanks-then-comment", "trailing-blanks"],
)
def test_a_line_of_blanks(tmp_path: Path, line: str) -> None:
    (tmp_path / "app.py").write_text("x = 1\n")
    (tmp_path / "requirements.txt").write_text(line + "\n")
    (tmp_path / "imagec.yaml").write_text("copy_stack: false\nrequirements: requirements.txt\n")
    started = time.monotonic()
    result = imagec("compile", "imagec.yaml", cwd=tmp_path)
    assert time.monotonic() - started < 30
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert len(result.stderr.splitlines()) <= 1
