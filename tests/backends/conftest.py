"""Fixtures for the engine backend tests: sample projects and the images built from them,
shared by the whole session so each engine builds each project once."""

from __future__ import annotations

import shutil

import pytest
from support.builds import GIT_REMOTE, Builds, Project, git
from support.cli import cli_env
from support.projects import write_native, write_pipeline, write_quickstart


@pytest.fixture(scope="session")
def session_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The CLI's environment: no engine variables, a private cache directory."""
    return cli_env({"XDG_CACHE_HOME": str(tmp_path_factory.mktemp("xdg-cache"))})


@pytest.fixture(scope="session")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Project]:
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
    native = write_native(base / "native")
    return {
        "quickstart": Project(spec),
        "pipeline": Project(pipeline / "pipeline.py"),
        # Reaches Debian's archive and PyPI: RUN steps need the host's network.
        "native": Project(native / "imagec.yaml", ("-O", "network=host")),
    }


@pytest.fixture(scope="session")
def builds(session_env: dict[str, str], projects: dict[str, Project]) -> Builds:
    return Builds(session_env, projects)
