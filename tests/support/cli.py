"""``imagec`` in a subprocess, as a user runs it, with an environment free of engine
variables."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def last_error(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.startswith("imagec: error:")]
        return lines[-1] if lines else ""


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "CONTAINER_HOST")}
    env.pop("SOURCE_DATE_EPOCH", None)
    env.update(extra or {})
    return env


def run_imagec(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "imagec", *args],
        capture_output=True,
        text=True,
        env=env if env is not None else cli_env(),
        timeout=timeout,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
