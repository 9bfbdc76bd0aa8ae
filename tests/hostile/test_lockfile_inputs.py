"""Class 10: lock files make their tools follow host paths.

A lock file and the file it is made from (pyproject.toml, Pipfile) come from the pull request,
and their tools obey what they say: uv's ``[tool.uv]`` ``cache-dir`` (uv then writes there),
``find-links`` (uv lists that directory), path sources and a lock's local packages (the tool
reads their metadata), poetry's and pipenv's path dependencies. A value that leaves the project
is refused in one located line before any tool runs; nothing is written outside the project.
The files themselves are read as every user file is: regular files only, bounded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.hostile import imagec, refused
from support.timeout import time_limit_fixture

from imagec.resolve.lockfiles.tools import ToolError

_limit = time_limit_fixture(120)

UV = str(Path(sys.executable).parent / "uv")
HOST_PATH = r"\S+ names the host path '.*, outside the project; .*"
PROJECT = '[project]\nname = "proj"\nversion = "0.1"\nrequires-python = ">=3.11"\n'


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A directory outside the project, standing for the CI host's own files."""
    outside = tmp_path / "host"
    (outside / "dep").mkdir(parents=True)
    (outside / "dep" / "pyproject.toml").write_text('[project]\nname = "dep"\nversion = "1"\n')
    return outside


def _uv_project(root: Path, pyproject: str) -> None:
    """A real uv.lock of a project without dependencies, then ``pyproject`` put in place."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text("x = 1\n")
    (root / "pyproject.toml").write_text(PROJECT + "dependencies = []\n")
    env = {**os.environ, "UV_CACHE_DIR": str(root.parent / "uv-cache")}
    subprocess.run(
        [UV, "lock", "--offline", "--no-config"], cwd=root, env=env, check=True, timeout=60,
        capture_output=True,
    )  # fmt: skip
    (root / "pyproject.toml").write_text(pyproject)


def _compile(root: Path, lock: str):
    (root / "imagec.yaml").write_text(f"copy_stack: false\nlock_files: [{lock}]\n")
    return imagec("compile", "imagec.yaml", cwd=root)


def test_uv_cache_dir_outside_is_refused_and_never_written(tmp_path: Path, host: Path) -> None:
    root = tmp_path / "project"
    cache = host / "uv-cache-written-by-the-pr"
    _uv_project(root, PROJECT + f'dependencies = []\n[tool.uv]\ncache-dir = "{cache}"\n')
    refused(
        _compile(root, "uv.lock"), rf"imagec\.yaml:2:14: lock_files\[0\]: uv\.lock: {HOST_PATH}"
    )
    assert not cache.exists()


@pytest.mark.parametrize(
    "tool_uv",
    [
        'find-links = ["{host}"]',
        'find-links = ["../../host"]',
        'find-links = ["file://{host}"]',
        '[[tool.uv.index]]\nname = "x"\nurl = "file://{host}"',
        '[tool.uv.sources]\ndep = {{ path = "{host}/dep" }}',
        '[tool.uv.sources]\ndep = {{ path = "../host/dep" }}',
        '[tool.uv.workspace]\nmembers = ["../host/*"]',
        'cache-dir = "~/.cache/elsewhere"',
    ],
)
def test_uv_settings_naming_host_paths(tmp_path: Path, host: Path, tool_uv: str) -> None:
    root = tmp_path / "project"
    table = tool_uv.format(host=host)
    if not table.startswith("[["):
        table = ("[tool.uv]\n" if not table.startswith("[") else "") + table
    _uv_project(root, PROJECT + "dependencies = []\n" + table + "\n")
    refused(
        _compile(root, "uv.lock"), rf"imagec\.yaml:2:14: lock_files\[0\]: uv\.lock: {HOST_PATH}"
    )


def test_a_lock_with_a_host_directory_package(tmp_path: Path, host: Path) -> None:
    root = tmp_path / "project"
    _uv_project(root, PROJECT + "dependencies = []\n")
    lock = (root / "uv.lock").read_text()
    lock += f'\n[[package]]\nname = "dep"\nversion = "1"\nsource = {{ directory = "{host}/dep" }}\n'
    (root / "uv.lock").write_text(lock)
    refused(
        _compile(root, "uv.lock"), rf"imagec\.yaml:2:14: lock_files\[0\]: uv\.lock: {HOST_PATH}"
    )


def test_poetry_path_dependency_outside(tmp_path: Path, host: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        PROJECT + "[tool.poetry]\npackage-mode = false\n"
        f'[tool.poetry.dependencies]\ndep = {{ path = "{host}/dep" }}\n'
    )
    (root / "poetry.lock").write_text('[metadata]\nlock-version = "2.1"\n')
    refused(
        _compile(root, "poetry.lock"),
        rf"imagec\.yaml:2:14: lock_files\[0\]: poetry\.lock: {HOST_PATH}",
    )


def test_pipfile_lock_path_outside(tmp_path: Path, host: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "Pipfile").write_text("[packages]\n")
    lock = {"_meta": {"sources": []}, "default": {"dep": {"path": "../host/dep"}}, "develop": {}}
    (root / "Pipfile.lock").write_text(json.dumps(lock))
    refused(
        _compile(root, "Pipfile.lock"),
        rf"imagec\.yaml:2:14: lock_files\[0\]: Pipfile\.lock: {HOST_PATH}",
    )


@pytest.mark.parametrize("which", ["uv.lock", "pyproject.toml"])
def test_a_fifo_in_place_of_a_lock_or_its_pyproject(tmp_path: Path, which: str) -> None:
    root = tmp_path / "project"
    _uv_project(root, PROJECT + "dependencies = []\n")
    (root / which).unlink()
    os.mkfifo(root / which)  # opened for reading, it would block until a writer came
    result = _compile(root, "uv.lock")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_a_huge_lock_is_refused_unread(tmp_path: Path) -> None:
    root = tmp_path / "project"
    _uv_project(root, PROJECT + "dependencies = []\n")
    with open(root / "uv.lock", "r+b") as f:
        f.truncate(64 * 1024 * 1024 * 1024)  # sparse: 64 GiB that cost nothing
    result = _compile(root, "uv.lock")
    refused(result, r"imagec\.yaml:2:14: lock_files\[0\]: uv\.lock: .*")


def test_a_deeply_nested_pipfile_lock_is_one_line(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "Pipfile").write_text("[packages]\n")
    (root / "Pipfile.lock").write_text('{"a":' * 200_000 + "1" + "}" * 200_000)
    result = _compile(root, "Pipfile.lock")
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode != 0 or "lock_files" not in result.stderr


def test_values_inside_the_project_still_reach_the_tool(tmp_path: Path) -> None:
    """Not every path is refused: a source inside the project is the tool's to judge."""
    root = tmp_path / "project"
    _uv_project(root, PROJECT + 'dependencies = []\n[tool.uv]\ncache-dir = ".uv-cache"\n')
    result = _compile(root, "uv.lock")
    assert "host path" not in result.stderr, result.stderr


def test_reading_a_tools_output_is_linear() -> None:
    """A tool's message echoes the user's files; what imagec looks for in it is found in time
    linear in its length (the output is capped at MAX_OUTPUT bytes)."""
    import time

    from imagec.resolve.lockfiles.exporters import NO_BUILD, UV_STALE
    from imagec.resolve.lockfiles.tools import MAX_OUTPUT

    line = ("lockfile " * (MAX_OUTPUT // 9))[:MAX_OUTPUT]
    for pattern in (UV_STALE, NO_BUILD):
        started = time.monotonic()
        assert pattern.search(line) is None
        assert time.monotonic() - started < 2


@pytest.mark.parametrize("constraint", ["~2.31", "~=2.31", "^2.31"])
def test_a_tilde_version_is_no_home_directory(constraint: str) -> None:
    """Poetry's `~2.31` is a version constraint, not `~` (a home directory)."""
    from imagec.resolve.lockfiles.tools import check_no_host_paths

    pyproject = f'[tool.poetry.dependencies]\nrequests = "{constraint}"\npython = "~3.11"\n'
    check_no_host_paths(pyproject.encode(), "pyproject.toml")
    with pytest.raises(ToolError):
        check_no_host_paths(b'[tool.uv]\ncache-dir = "~root/x"\n', "pyproject.toml")
