"""Choosing and reading the ignore file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.context import make_tree

from imagec.context import find_ignore_file, read_ignore_file
from imagec.errors import SpecError


def test_explicit_file_wins(tmp_path: Path) -> None:
    make_tree(tmp_path, {".dockerignore": "", ".containerignore": "", "mine": ""})
    assert find_ignore_file(tmp_path, tmp_path / "mine") == tmp_path / "mine"


def test_containerignore_wins_over_dockerignore(tmp_path: Path) -> None:
    make_tree(tmp_path, {".dockerignore": "", ".containerignore": ""})
    assert find_ignore_file(tmp_path) == tmp_path / ".containerignore"


@pytest.mark.parametrize("name", [".dockerignore", ".containerignore"])
def test_either_name_alone(tmp_path: Path, name: str) -> None:
    make_tree(tmp_path, {name: ""})
    assert find_ignore_file(tmp_path) == tmp_path / name


def test_none_and_dangling_symlink(tmp_path: Path) -> None:
    assert find_ignore_file(tmp_path) is None
    os.symlink("nowhere", tmp_path / ".dockerignore")
    assert find_ignore_file(tmp_path) is None


def test_read_parses_and_compiles(tmp_path: Path) -> None:
    make_tree(tmp_path, {".dockerignore": "# c\n/build/\n!build/keep\n"})
    rules = read_ignore_file(tmp_path / ".dockerignore")
    assert rules.patterns == ("build", "!build/keep")
    assert [line.line for line in rules.lines] == [2, 3]
    assert rules.matcher.excluded("build/x") and not rules.matcher.excluded("build/keep")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not found") as info:
        read_ignore_file(tmp_path / "nope")
    assert info.value.file == str(tmp_path / "nope")
    assert info.value.exit_code == 2


def test_directory(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").mkdir()
    with pytest.raises(SpecError, match="is a directory") as info:
        read_ignore_file(tmp_path / ".dockerignore")
    assert info.value.file == str(tmp_path / ".dockerignore")


def test_unreadable(tmp_path: Path) -> None:
    os.symlink(".dockerignore", tmp_path / ".dockerignore")  # a loop: ELOOP on open
    with pytest.raises(SpecError, match="cannot read ignore file") as info:
        read_ignore_file(tmp_path / ".dockerignore")
    assert info.value.file == str(tmp_path / ".dockerignore")


def test_line_too_long_is_refused_like_docker(tmp_path: Path) -> None:
    make_tree(tmp_path, {"ok": "a" * 65535 + "\n", "long": "a\n" + "b" * 65536 + "\n"})
    assert read_ignore_file(tmp_path / "ok").patterns == ("a" * 65535,)
    with pytest.raises(SpecError, match="longer than") as info:
        read_ignore_file(tmp_path / "long")
    assert info.value.line == 2
