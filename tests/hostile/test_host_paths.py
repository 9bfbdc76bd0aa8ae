"""Class 9: host files are not pulled in by paths.

The rule (docs/spec.md, "Paths"): a requirements file the spec names may be anywhere, but one
outside the source root must be named like a requirements file; its ``-r``/``-c`` includes
stay inside the source root (or, for a file outside it, beside or below that file). A
``source_root`` or local ``find_links`` directory must lie inside the project (the spec's
directory or its imagec repository). Lines of a file not named like a requirements file are
never repeated in a message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.hostile import imagec, refused
from support.timeout import time_limit_fixture

_limit = time_limit_fixture(60)

OUTSIDE = r"is outside the project \([^)]*\); a directory the spec names must be inside it"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    root = home / "project"
    root.mkdir()
    (root / "app.py").write_text("print('hi')\n")
    return root


def _run(project: Path, spec: str, home: Path | None = None):
    (project / "imagec.yaml").write_text(spec)
    env = {"HOME": str(home or project.parent)}
    return imagec("export", "imagec.yaml", "-o", project.parent / "out", cwd=project, env=env)


@pytest.mark.parametrize(
    "value, column",
    [("~", 14), ("..", 14), ("../.ssh", 14), ("/etc", 14)],
)
def test_find_links_outside_the_project(project: Path, value: str, column: int) -> None:
    result = _run(project, f"find_links: ['{value}']\n")
    refused(result, rf"imagec\.yaml:1:{column}: find_links\[0\]: '{value}' {OUTSIDE}")
    assert not (project.parent / "out").exists()


def test_find_links_through_a_symlink_out(project: Path) -> None:
    (project / "wheels").symlink_to(project.parent / ".ssh")
    result = _run(project, "find_links: [wheels]\n")
    refused(result, rf"imagec\.yaml:1:14: find_links\[0\]: 'wheels' {OUTSIDE}")


def test_find_links_inside_the_project(project: Path) -> None:
    (project / "wheels").mkdir()
    result = _run(project, "find_links: [wheels]\ncopy_stack: false\n")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("value", ["..", "~", "/", "../.ssh"])
def test_source_root_outside_the_project(project: Path, value: str) -> None:
    result = _run(project, f"source_root: '{value}'\n")
    refused(result, rf"imagec\.yaml:1:14: source_root: '{re.escape(value)}' {OUTSIDE}")
    assert not (project.parent / "out").exists()


def test_source_root_up_to_the_repository(project: Path) -> None:
    (project / ".imagec").mkdir()
    (project / "deploy").mkdir()
    (project / "deploy" / "imagec.yaml").write_text("source_root: ..\ncopy_stack: false\n")
    out = project.parent / "out"
    result = imagec("export", "deploy/imagec.yaml", "-o", out, cwd=project)
    assert result.returncode == 0, result.stderr
    assert (out / "src" / "app.py").is_file()


def test_host_file_named_as_requirements_is_not_read(project: Path) -> None:
    secret = project.parent / ".ssh" / "id_rsa"
    for spec in (f"requirements: {secret}\n", f"requirements: ['-r {secret}']\n"):
        result = _run(project, spec)
        line = refused(result, r"imagec\.yaml:1:\d+: .* is outside the source root and not named "
                               r"like a requirements file .*; not reading it")  # fmt: skip
        assert "BEGIN" not in line


def test_includes_may_not_leave_the_source_root(project: Path) -> None:
    (project / "requirements.txt").write_text("-r ../.ssh/id_rsa\n")
    result = _run(project, "requirements: requirements.txt\n")
    line = refused(result, r"requirements\.txt:1: '-r \.\./\.ssh/id_rsa' is outside .*")
    assert "BEGIN" not in result.stderr and line


def test_includes_of_an_outside_file_stay_beside_it(project: Path) -> None:
    shared = project.parent / "shared"
    shared.mkdir()
    (shared / "base.txt").write_text("-r ../.ssh/id_rsa\n")
    result = _run(project, f"requirements: {shared / 'base.txt'}\n")
    refused(result, r".*/shared/base\.txt:1: '-r \.\./\.ssh/id_rsa' is outside .*/shared; .*")
    assert "BEGIN" not in result.stderr
    (shared / "base.txt").write_text("-r pins.txt\n")
    (shared / "pins.txt").write_text("requests==2.31.0\n")
    result = _run(project, f"requirements: {shared / 'base.txt'}\ncopy_stack: false\n")
    assert result.returncode == 0, result.stderr


def test_lines_of_other_files_are_not_echoed(project: Path) -> None:
    (project / "deps.conf").write_text("API_KEY=do-not-print-me\n")
    result = _run(project, "requirements: deps.conf\n")
    refused(
        result,
        r"deps\.conf:1: not a valid requirements line \(content not shown: the file is not named "
        r"like a requirements file\)",
    )
    assert "do-not-print-me" not in result.stderr


def test_lines_of_requirements_files_are_echoed(project: Path) -> None:
    (project / "requirements.txt").write_text("reqests=2\n")
    result = _run(project, "requirements: requirements.txt\n")
    refused(result, r"requirements\.txt:1:8: invalid requirement 'reqests=2'.*")
