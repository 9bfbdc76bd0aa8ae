"""Images a test session builds with ``imagec build``: each sample project once per engine,
every tag removed at the end of the session."""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from support.cli import Result, run_imagec
from support.containers import TEST_REPOSITORY
from support.engines import Engine

#: The quick-start project's remote: the credentials must never reach an image.
GIT_REMOTE = "https://ci-bot:s3cret@git.example.com/team/quickstart.git"
#: What ``imagec build`` prints on success.
BUILT = re.compile(r"^(built|up to date): (sha256:[0-9a-f]{64}) (.+)$")


def build_tagged(
    engine: Engine, spec: Path | str, *args: str, env: dict[str, str] | None = None
) -> tuple[Result, str]:
    """``imagec build SPEC`` on ``engine`` with the host's network (for the test index and
    Debian's archive), which must succeed: its result and the content-hash tag, which is
    removed when the engine stops, like every session build."""
    result = run_imagec(
        "build", str(spec), "--backend", engine.kind, "--url", engine.url,
        "-O", "network=host", *args, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    m = BUILT.match(result.stdout.strip())
    assert m, result.stdout
    tag = m.group(3).split()[0]
    engine.keep_until_stop(tag)
    return result, tag


@dataclass(frozen=True)
class Built:
    """An image a test session built with ``imagec build``."""

    engine: Engine
    spec: Path
    result: Result
    image_id: str
    tag: str  # the content-hash tag
    extra_tag: str


@dataclass(frozen=True)
class Project:
    """A sample project: its spec and the extra ``imagec build`` arguments it needs."""

    spec: Path
    args: Sequence[str] = ()


class Builds:
    """Builds each (project, engine) once; every tag it made is removed when the engine stops."""

    def __init__(self, env: dict[str, str], projects: dict[str, Project]) -> None:
        self.env = env
        self.projects = projects
        self._built: dict[tuple[str, str], Built] = {}

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
        """Remove ``tags`` when the engine stops (at the end of the session)."""
        engine.keep_until_stop(*tags)

    def get(self, engine: Engine, project: str) -> Built:
        key = (project, engine.kind)
        if key not in self._built:
            sample = self.projects[project]
            extra = f"{TEST_REPOSITORY}/{project}-{uuid.uuid4().hex[:8]}:e2e"
            self.remember(engine, extra)
            result = self.cli(
                engine, sample.spec, *sample.args, "--tag", extra, "--label", "team=ml"
            )
            assert result.returncode == 0, result.stderr[-3000:]
            m = BUILT.match(result.stdout.strip())
            assert m, result.stdout
            tag = m.group(3).split()[0]
            self.remember(engine, tag)
            self._built[key] = Built(engine, sample.spec, result, m.group(2), tag, extra)
        return self._built[key]


def git(cwd: Path, *args: str) -> None:
    """``git`` with a fixed identity and no user configuration."""
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)
