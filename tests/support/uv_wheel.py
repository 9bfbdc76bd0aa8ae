"""The pinned uv's wheel, for a private test index: an image installs uv from the index its
spec names, like any requirement. Downloaded once per machine into the tests' cache."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from imagec.plan.compiler import UV_REQUIREMENT
from support.engines import cache_dir


class NoUvWheel(Exception):
    """The wheel is not cached and cannot be downloaded (the message says why)."""


def uv_wheel(platform: str = "manylinux_2_17_x86_64") -> Path:
    """The pinned uv's wheel for ``platform`` (pip's platform tag), from the cache or pip."""
    target = cache_dir() / "uv-wheel" / UV_REQUIREMENT.replace("==", "-") / platform
    found = sorted(target.glob("uv-*.whl")) if target.is_dir() else []
    if found:
        return found[0]
    with tempfile.TemporaryDirectory(prefix="imagec-uv-download-") as tmp:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--platform", platform, "--python-version", "3.11",
             "-d", tmp, UV_REQUIREMENT],
            capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
        wheels = list(Path(tmp).glob("uv-*.whl"))
        if proc.returncode != 0 or not wheels:
            raise NoUvWheel(f"cannot download {UV_REQUIREMENT}: {proc.stderr.strip()[-300:]}")
        target.mkdir(parents=True, exist_ok=True)
        for wheel in wheels:
            shutil.copy2(wheel, target / wheel.name)
    return sorted(target.glob("uv-*.whl"))[0]
