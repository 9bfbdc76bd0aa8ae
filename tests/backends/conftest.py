"""Fixtures for the engine backend tests: sample projects and the images built from them,
shared by the whole session so each engine builds each project once."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from engine_support import Engine, remove_image

from .support import Result, cli_env, run_imagec, write_pipeline, write_quickstart

GIT_REMOTE = "https://ci-bot:s3cret@git.example.com/team/quickstart.git"
BUILT = re.compile(r"^(built|up to date): (sha256:[0-9a-f]{64}) (.+)$")


@dataclass(frozen=True)
class Built:
    """An image a test session built with ``imagec build``."""

    engine: Engine
    spec: Path
    result: Result
    image_id: str
    tag: str  # the content-hash tag
    extra_tag: str


class Builds:
    """Builds each (project, engine) once; removes every tag it made at the end."""

    def __init__(self, env: dict[str, str], projects: dict[str, Path]) -> None:
        self.env = env
        self.projects = projects
        self._built: dict[tuple[str, str], Built] = {}
        self._made: list[tuple[Engine, str]] = []

    def cli(self, engine: Engine, spec: Path | str, *args: str, **kwargs) -> Result:
        """``imagec build SPEC --backend KIND --url URL ARGS`` in a subprocess."""
        return run_imagec(
            "build",
            str(spec),
            "--backend",
            engine.kind,
            "--url",
            kwargs.pop("url", engine.url),
            *args,
            env=kwargs.pop("env", self.env),
            **kwargs,
        )

    def remember(self, engine: Engine, *tags: str) -> None:
        self._made.extend((engine, tag) for tag in tags)

    def get(self, engine: Engine, project: str) -> Built:
        key = (project, engine.kind)
        if key not in self._built:
            spec = self.projects[project]
            extra = f"localhost/imagec-test/{project}-{uuid.uuid4().hex[:8]}:e2e"
            self.remember(engine, extra)
            result = self.cli(engine, spec, "--tag", extra, "--label", "team=ml")
            assert result.returncode == 0, result.stderr[-3000:]
            m = BUILT.match(result.stdout.strip())
            assert m, result.stdout
            tag = m.group(3).split()[0]
            self.remember(engine, tag)
            self._built[key] = Built(engine, spec, result, m.group(2), tag, extra)
        return self._built[key]

    def cleanup(self) -> None:
        for engine, tag in reversed(self._made):
            with contextlib.suppress(Exception):
                remove_image(engine, tag)


@pytest.fixture(scope="session")
def session_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The CLI's environment: no engine variables, a private cache directory."""
    return cli_env({"XDG_CACHE_HOME": str(tmp_path_factory.mktemp("xdg-cache"))})


def git(cwd: Path, *args: str) -> None:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.fixture(scope="session")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One copy of each sample project for the session: both engines build the same files."""
    base = tmp_path_factory.mktemp("projects")
    quickstart = write_quickstart(base / "quickstart")
    spec = quickstart / "imagec.yaml"
    spec.write_text(spec.read_text() + "image_name: imagec-test/quickstart\n")
    if shutil.which("git"):
        (quickstart / ".gitignore").write_text("wheels/\n")
        git(quickstart, "init", "-q", "-b", "main")
        git(quickstart, "add", ".")
        git(quickstart, "commit", "-q", "-m", "initial")
        git(quickstart, "remote", "add", "origin", GIT_REMOTE)
    pipeline = write_pipeline(base / "pipeline")
    return {"quickstart": spec, "pipeline": pipeline / "pipeline.py"}


@pytest.fixture(scope="session")
def builds(session_env: dict[str, str], projects: dict[str, Path]) -> Iterator[Builds]:
    b = Builds(session_env, projects)
    try:
        yield b
    finally:
        b.cleanup()
