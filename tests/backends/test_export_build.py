"""The README's promise: `imagec export SPEC -o DIR`, then `docker build DIR` or `podman build
DIR` with the engines' own command-line tools, no imagec and no `-f`, and the image runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.baseimages import BaseImages
from support.containers import ImageTags
from support.engines import Engine

pytestmark = pytest.mark.engine

BUILD_TIMEOUT = 600


def _cli(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    """The engine's own CLI (``docker`` or ``podman``) on this session's daemon."""
    env = engine.cli_env()
    if engine.kind == "docker":
        env["DOCKER_HOST"] = engine.url
    return subprocess.run(
        [engine.kind, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=BUILD_TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_export_builds_with_the_engine_cli(
    engine: Engine, engine_images: BaseImages, image_tags: ImageTags, tmp_path: Path
) -> None:
    project = tmp_path / "proj"
    (project / "src").mkdir(parents=True)
    (project / "src" / "hello.txt").write_text("hello from the export\n")
    (project / "src" / ".env").write_text("LOCAL=1\n")
    (project / "src" / ".env").chmod(0o600)
    (project / "imagec.yaml").write_text(
        f"base_image: {engine_images.python}\n"
        "source_root: src\n"
        'command: ["python", "-c", "print(open(\'/app/hello.txt\').read(), end=\'\')"]\n'
    )
    out = tmp_path / "export"
    exported = subprocess.run(
        [sys.executable, "-m", "imagec", "export", "imagec.yaml", "-o", str(out)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "IMAGEC_STACK": ""},
        check=False,
    )
    assert exported.returncode == 0, exported.stderr
    assert (out / "Dockerfile").is_file() and not (out / "Containerfile").exists()

    tag = image_tags.new(engine, "export")
    built = _cli(engine, "build", "--network", engine.network_mode, "-t", tag, str(out))
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    ran = _cli(engine, "run", "--rm", "--network", engine.network_mode, tag)
    assert (ran.returncode, ran.stdout) == (0, "hello from the export\n"), ran.stderr[-2000:]
