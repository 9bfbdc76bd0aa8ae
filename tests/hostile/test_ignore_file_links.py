"""Class 9b: an ignore file found (not named) that is a symlink out of its directory.

imagec finds `.containerignore`/`.dockerignore` by itself in the source root and in a parent
Dockerfile's context. Nobody named that file, so a symlink from it to a host file must not get
the host file read, nor its lines quoted back in a pattern error (Docker would follow it). An
ignore file the user names may be anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.hostile import imagec, refused
from support.timeout import time_limit_fixture

_limit = time_limit_fixture(60)

HOST_LINE = "HOSTLINE-only-on-the-host-["  # also an invalid pattern: an error would quote it


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "hostfile").write_text(HOST_LINE + "\n")
    root = tmp_path / "p"
    (root / "ctx").mkdir(parents=True)
    (root / "app.py").write_text("x = 1\n")
    (root / "ctx" / "Dockerfile").write_text("FROM python:3.11-slim\n")
    return root


@pytest.mark.parametrize("name", [".dockerignore", ".containerignore"])
@pytest.mark.parametrize(
    "spec", ["dockerfile: ctx/Dockerfile\n", "dockerfile: {path: ctx/Dockerfile, context: ctx}\n"]
)
def test_parent_context_ignore_file_linked_out(project: Path, name: str, spec: str) -> None:
    (project / "ctx" / name).symlink_to(project.parent / "hostfile")
    (project / "imagec.yaml").write_text("copy_stack: false\n" + spec)
    result = imagec("compile", "imagec.yaml", cwd=project)
    line = refused(
        result, rf"imagec\.yaml:2:\d+: dockerfile(\.context)?: \{name} is a symlink out of the .*"
    )
    assert "HOSTLINE" not in line


def test_parent_context_ignore_file_linked_inside_is_used(project: Path) -> None:
    (project / "ctx" / "ignore-rules").write_text("*.tmp\n")
    (project / "ctx" / ".dockerignore").symlink_to("ignore-rules")
    (project / "imagec.yaml").write_text("copy_stack: false\ndockerfile: ctx/Dockerfile\n")
    result = imagec("compile", "imagec.yaml", cwd=project)
    assert result.returncode == 0, result.stderr


def test_source_root_ignore_file_linked_out(project: Path) -> None:
    (project / ".dockerignore").symlink_to(project.parent / "hostfile")
    (project / "imagec.yaml").write_text("copy_stack: false\n")
    for command in ("context", "compile"):
        result = imagec(command, "imagec.yaml", cwd=project)
        assert "HOSTLINE" not in result.stderr + result.stdout
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.splitlines()[-1].endswith(
            ".dockerignore: .dockerignore is a symlink out of the build context; name the file "
            "it points to as the ignore file to use it"
        ), result.stderr


def test_source_root_ignore_file_named_may_be_anywhere(project: Path) -> None:
    (project.parent / "rules").write_text("*.tmp\n")
    (project / "imagec.yaml").write_text("copy_stack: false\ndockerignore_file: ../rules\n")
    result = imagec("compile", "imagec.yaml", cwd=project)
    assert result.returncode == 0, result.stderr
