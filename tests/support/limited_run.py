"""``imagec`` in a child process under a time limit, and the small projects it runs on.

The hostile tests run the real CLI (or a Python driver of it) as a user would: in a new
interpreter, standard input closed, no stack of the machine's user (``IMAGEC_STACK`` empty).
A run that overruns its limit fails the test with the command line instead of hanging the
test run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

TIME_LIMIT = 30.0  # seconds for one command; a driver running many passes its own


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "IMAGEC_STACK": "", **(extra or {})}


def run_limited(
    argv: Sequence[str],
    cwd: Path,
    *,
    limit: float = TIME_LIMIT,
    text: bool = True,
    stdout: Any = subprocess.PIPE,
    env: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> subprocess.CompletedProcess[Any]:
    """Run ``argv`` in ``cwd``; ``text=False`` keeps stdout and stderr as bytes, ``stdout``
    may be a file, other keywords (``preexec_fn``) go to ``subprocess.run``."""
    try:
        return subprocess.run(
            list(argv),
            cwd=cwd,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=text,
            timeout=limit,
            env=child_env(env),
            stdin=subprocess.DEVNULL,
            check=False,
            **kwargs,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(map(str, argv))[:200]} ran for more than {limit} s")


def imagec(argv: Sequence[str | Path], cwd: Path, **kwargs: Any) -> subprocess.CompletedProcess:
    """``python -m imagec ARGV`` through :func:`run_limited`."""
    return run_limited([sys.executable, "-m", "imagec", *map(str, argv)], cwd, **kwargs)


def python(code: str, *args: str, cwd: Path, **kwargs: Any) -> subprocess.CompletedProcess:
    """``python -c CODE ARGS`` (a driver that calls imagec in-process many times)."""
    return run_limited([sys.executable, "-c", code, *args], cwd, **kwargs)


def write_project(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Make ``root`` holding ``files`` (relative path -> text or bytes; a path ending in
    ``/`` is an empty directory), parents made as needed; returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        if rel.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root
