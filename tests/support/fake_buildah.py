"""A stand-in ``buildah`` that records the argv of every call a generated script makes."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FakeBuildah:
    """A stand-in ``buildah`` executable that logs its argv.

    It shows exactly which strings a generated script hands to buildah, after bash has done
    all its quoting and expansion; the engine tests run the real thing.
    """

    bin_dir: Path
    log: Path

    @classmethod
    def create(cls, root: Path) -> FakeBuildah:
        bin_dir = root / "bin"
        bin_dir.mkdir(parents=True)
        exe = bin_dir / "buildah"
        # Each call is logged as its argument count and arguments, NUL-terminated: no
        # argument can contain a NUL, so this reads back exactly. bash, for speed.
        exe.write_text(
            "#!/usr/bin/env bash\n"
            'printf \'%s\\0\' "$#" "$@" >> "$FAKE_BUILDAH_LOG"\n'
            "if [[ $1 == from ]]; then echo fake-working-container; fi\n"
        )
        exe.chmod(0o755)
        return cls(bin_dir, root / "calls")

    def run(self, script: str, *args: str, env: Mapping[str, str] | None = None) -> list[list[str]]:
        """Run ``script`` with bash in a fresh directory; the argv of every buildah call."""
        workdir = self.log.parent / "context"
        workdir.mkdir(exist_ok=True)
        (workdir / "build.sh").write_text(script, encoding="utf-8")
        self.log.unlink(missing_ok=True)
        full_env = {
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ['PATH']}",
            "FAKE_BUILDAH_LOG": str(self.log),
            **(env or {}),
        }
        subprocess.run(
            ["bash", "build.sh", *args],
            cwd=workdir,
            env=full_env,
            check=True,
            capture_output=True,
            text=True,
        )
        fields = self.log.read_bytes().decode().split("\0")[:-1]
        calls = []
        while fields:
            count, fields = int(fields[0]), fields[1:]
            calls.append(fields[:count])
            fields = fields[count:]
        return calls
