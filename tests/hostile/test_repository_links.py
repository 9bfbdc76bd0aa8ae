"""Class 9c: a repository's `.imagec/` or stack file linked to a host directory.

The stack is found, not named: `.imagec/stack.yaml` (or `.imagec/stacks/NAME.yaml` for
`--stack NAME`) in the repository. A symlink from either out of the repository would have a
host file read, copied into the image (`/etc/imagec/stack.yaml`) and quoted in errors; it is
refused in one line. A stack file the user names by path (`--stack FILE`) is theirs to name."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.hostile import imagec, refused
from support.timeout import time_limit_fixture

_limit = time_limit_fixture(60)

STACK = (
    "name: default\ncomponents:\n  orchestrator: {flavor: local}\n"
    "  artifact_store: {flavor: local}\n# HOST-ONLY-LINE\n"
)
OUT = r".*: is a symlink out of the repository .*"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    host = tmp_path / "host"
    (host / "stacks").mkdir(parents=True)
    (host / "stack.yaml").write_text(STACK)
    (host / "stacks" / "prod.yaml").write_text(STACK.replace("default", "prod"))
    root = tmp_path / "repo"
    root.mkdir()
    (root / "app.py").write_text("x = 1\n")
    (root / "imagec.yaml").write_text("python_version: '3.11'\n")
    return root


def _export(root: Path, *args: str):
    return imagec("export", "imagec.yaml", "-o", root.parent / "out", *args, cwd=root)


def _nothing_from_the_host(root: Path, result) -> None:
    assert "HOST-ONLY" not in result.stdout + result.stderr
    assert not (root.parent / "out").exists()


def test_marker_linked_to_a_host_directory(repo: Path) -> None:
    (repo / ".imagec").symlink_to(repo.parent / "host")
    result = _export(repo)
    refused(result, OUT)
    _nothing_from_the_host(repo, result)


def test_stack_file_linked_out(repo: Path) -> None:
    (repo / ".imagec").mkdir()
    (repo / ".imagec" / "stack.yaml").symlink_to(repo.parent / "host" / "stack.yaml")
    result = _export(repo)
    refused(result, OUT)
    _nothing_from_the_host(repo, result)


@pytest.mark.parametrize("how", ["--stack", "IMAGEC_STACK"])
def test_named_stack_linked_out(repo: Path, how: str) -> None:
    (repo / ".imagec" / "stacks").mkdir(parents=True)
    (repo / ".imagec" / "stacks" / "prod.yaml").symlink_to(
        repo.parent / "host" / "stacks" / "prod.yaml"
    )
    if how == "--stack":
        result = _export(repo, "--stack", "prod")
    else:
        out = repo.parent / "out"
        result = imagec("export", "imagec.yaml", "-o", out, cwd=repo, env={"IMAGEC_STACK": "prod"})
    refused(result, OUT)
    _nothing_from_the_host(repo, result)


def test_links_inside_the_repository_are_followed(repo: Path) -> None:
    (repo / ".imagec").mkdir()
    (repo / "stack-file.yaml").write_text(STACK)
    (repo / ".imagec" / "stack.yaml").symlink_to("../stack-file.yaml")
    result = _export(repo)
    assert result.returncode == 0, result.stderr


def test_a_stack_file_named_by_path_may_be_anywhere(repo: Path) -> None:
    result = _export(repo, "--stack", str(repo.parent / "host" / "stack.yaml"))
    assert result.returncode == 0, result.stderr
