"""The walk: what is sent for real trees, compared with what the docker CLI sent."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest
from support.context import ids, make_tree, vectors

from imagec.context import IgnoreMatcher, leaf_listing, select_context, walk_context
from imagec.context.walk import FILE, SYMLINK
from imagec.errors import SpecError

V = vectors()


def build(tmp_path: Path, case: dict) -> Path:
    root = make_tree(tmp_path / "ctx", case["tree"])
    root.mkdir(exist_ok=True)
    if "dockerignore" in case:
        (root / ".dockerignore").write_text(case["dockerignore"], encoding="utf-8")
    return root


@pytest.mark.parametrize("case", V["trees"], ids=ids(V["trees"]))
def test_tree_matches_docker_cli(tmp_path: Path, case: dict) -> None:
    root = build(tmp_path, case)
    selection = select_context(root, dockerfile=case["dockerfile"])
    assert selection.leaf_listing() == case["expect"]


@pytest.mark.parametrize("case", V["trees_beyond_docker"], ids=ids(V["trees_beyond_docker"]))
def test_dockerfile_always_sent(tmp_path: Path, case: dict) -> None:
    root = build(tmp_path, case)
    listing = select_context(root, dockerfile=case["dockerfile"]).leaf_listing()
    assert listing == case["expect"]
    assert case["dockerfile"] in listing


def test_order_is_depth_first_by_name(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {"a/b": "", "a.txt": "", "a-b": "", "B": "", "a/c/d": ""})
    paths = [e.path for e in walk_context(root)]
    # A directory comes right before its contents, names compared as bytes.
    assert paths == ["B", "a", "a/b", "a/c", "a/c/d", "a-b", "a.txt"]
    assert leaf_listing(walk_context(root)) == ["B", "a-b", "a.txt", "a/b", "a/c/d"]


def test_symlinks_are_sent_not_followed(tmp_path: Path) -> None:
    outside = make_tree(tmp_path / "outside", {"secret": "s", "dir/x": ""})
    root = make_tree(
        tmp_path / "ctx",
        {
            "to-file": {"symlink": str(outside / "secret")},
            "to-dir": {"symlink": str(outside / "dir")},
        },
    )
    entries = {e.path: e.kind for e in walk_context(root)}
    assert entries == {"to-dir": SYMLINK, "to-file": SYMLINK}


def test_ignore_file_that_is_used_is_always_sent(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {".containerignore": "*\n", ".dockerignore": "", "a": ""})
    selection = select_context(root)
    assert selection.ignore_file == root / ".containerignore"
    assert selection.leaf_listing() == [".containerignore"]


def test_explicit_ignore_file_inside_the_root_is_sent(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {"cfg/build.ignore": "*\n", "a": "", "cfg/other": ""})
    selection = select_context(root, ignore_file=root / "cfg" / "build.ignore")
    assert selection.leaf_listing() == ["cfg/build.ignore"]


def test_relative_ignore_file_is_taken_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_tree(tmp_path / "ctx", {"rules.ignore": "*\n", "a": ""})
    monkeypatch.chdir(root)
    selection = select_context(root, ignore_file="rules.ignore")
    assert selection.kept == ("rules.ignore",)
    assert selection.leaf_listing() == ["rules.ignore"]


def test_explicit_ignore_file_outside_the_root(tmp_path: Path) -> None:
    make_tree(tmp_path, {"rules": "*.log\n", "ctx/a.log": "", "ctx/b.py": ""})
    selection = select_context(tmp_path / "ctx", ignore_file=tmp_path / "rules")
    assert selection.leaf_listing() == ["b.py"]
    assert selection.kept == ()


def test_no_ignore_file_sends_everything_including_empty_dirs(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {"a/b/c": "", "empty": None, "x/empty2": None})
    selection = select_context(root)
    assert selection.ignore_file is None
    assert selection.leaf_listing() == ["a/b/c", "empty/", "x/empty2/"]


def test_special_files_are_skipped(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {"regular": ""})
    os.mkfifo(root / "fifo")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(root / "sock"))
        entries = [(e.path, e.kind) for e in walk_context(root)]
    assert entries == [("regular", FILE)]


_SCANNED: list[str] | None = None


def _record_scandir(event: str, args: tuple) -> None:
    if event == "os.scandir" and _SCANNED is not None:
        _SCANNED.append(os.fsdecode(args[0]))


sys.addaudithook(_record_scandir)


def test_excluded_directories_are_not_entered(tmp_path: Path) -> None:
    global _SCANNED
    root = make_tree(tmp_path, {"keep/a": "", "skip/b": "", "data/big": "", "data/keep.csv": ""})
    matcher = IgnoreMatcher(["skip", "data", "!data/keep.csv"])
    _SCANNED = []
    try:
        listing = leaf_listing(walk_context(root, matcher))
        scanned = sorted(os.path.relpath(p, root) for p in _SCANNED)
    finally:
        _SCANNED = None
    assert listing == ["data/keep.csv", "keep/a"]
    assert scanned == [".", "data", "keep"]  # "skip" was never listed


def test_root_must_be_a_directory(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(SpecError, match="does not exist"):
        select_context(tmp_path / "missing")
    with pytest.raises(SpecError, match="not a directory"):
        select_context(tmp_path / "f")
    with pytest.raises(SpecError, match="not a directory"):
        list(walk_context(tmp_path / "f"))


def test_undecodable_names_are_walked_and_sorted_by_bytes(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/\xff-name"
    with open(raw, "wb"):
        pass
    (tmp_path / "\ufffd").write_text("")  # U+FFFD is EF BF BD: before the 0xFF byte
    paths = [e.path for e in walk_context(tmp_path)]
    assert paths == ["\ufffd", os.fsdecode(b"\xff-name")]
