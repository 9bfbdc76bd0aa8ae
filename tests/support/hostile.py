"""Running imagec on hostile input as a user does, and what a refusal must look like: exit 2,
exactly one line on stderr (``file:line:col: field: message``), no traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from support.cli import Result, cli_env

# Every hostile run is bounded: a hang is a failure, not a stuck test run.
RUN_SECONDS = 60


def imagec(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "imagec", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=cli_env(env),
        timeout=RUN_SECONDS,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def refused(result: Result, pattern: str) -> str:
    """Assert ``result`` is a clean refusal whose one stderr line matches ``pattern``
    (``re.fullmatch``); return that line."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert len(lines) == 1, result.stderr[-2000:]
    assert re.fullmatch(pattern, lines[0]), lines[0]
    return lines[0]
