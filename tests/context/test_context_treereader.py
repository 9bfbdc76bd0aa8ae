"""Opening a walked tree's files for the archive, beneath its root (``util.treereader``), and the
``imagec context ROOT --tar`` archive made with it."""

from __future__ import annotations

import io
import os
import shutil
import threading
import time
from pathlib import Path

from support.context import make_tree

from imagec.cli import main
from imagec.context import select_context, walk_context, write_context_tar
from imagec.util.treereader import TreeReader

TREE = {
    "a.txt": "a",
    "src/pkg/__init__.py": "",
    "src/pkg/core.py": "print('hi')\n",
    "src/pkg/sub/deep.py": "deep\n",
    "src/top.py": "top\n",
    "z/last.txt": "z",
    "link": {"symlink": "src/pkg/core.py"},
}


def read(files: TreeReader, rel: str) -> bytes | None:
    opened = files.open_file(rel)
    if opened is None:
        return None
    fd, info = opened
    try:
        return os.read(fd, info.st_size + 1)
    finally:
        os.close(fd)


def test_opens_each_file_in_walk_order_and_out_of_it(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "root", TREE)
    files = TreeReader(root)
    try:
        walked = [e.path for e in walk_context(root) if e.kind == "file"]
        for rel in [*walked, *reversed(walked), "src/top.py", "src/pkg/sub/deep.py", "a.txt"]:
            assert read(files, rel) == (root / rel).read_bytes(), rel
        assert read(files, "missing.txt") is None
        assert read(files, "nowhere/x.txt") is None
        assert read(files, "link") is None  # a symlink is not followed
        assert read(files, "src") is None  # nor is a directory a file
    finally:
        files.close()


def test_a_directory_swapped_for_a_symlink_out_of_the_tree_is_not_followed(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "root", TREE)
    outside = make_tree(tmp_path / "outside", {"pkg/core.py": "secret\n", "top.py": "secret\n"})
    entries = list(walk_context(root))
    shutil.rmtree(root / "src")
    os.symlink(outside, root / "src")
    buf = io.BytesIO()
    files = TreeReader(root)
    try:
        write_context_tar(buf, entries, opener=files.open_file, digest=False)
    finally:
        files.close()
    assert b"secret" not in buf.getvalue()
    assert b"z/last.txt" in buf.getvalue()


def test_a_file_swapped_for_a_fifo_is_skipped_without_blocking(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "root", TREE)
    (root / "a.txt").unlink()
    os.mkfifo(root / "a.txt")
    files = TreeReader(root)
    try:
        assert read(files, "a.txt") is None
        assert read(files, "z/last.txt") == b"z"
    finally:
        files.close()


def test_context_tar_is_the_archive_of_the_walk(tmp_path: Path) -> None:
    """The command's archive is byte for byte the one written by path, without TreeReader."""
    root = make_tree(tmp_path / "root", {**TREE, ".dockerignore": "src/pkg/sub\n*.txt\n!z\n"})
    out = tmp_path / "ctx.tar"
    assert main(["context", str(root), "--tar", str(out)]) == 0
    buf = io.BytesIO()
    write_context_tar(buf, select_context(root).entries())
    assert out.read_bytes() == buf.getvalue()


def test_open_regular_leaves_the_descriptor_non_blocking_and_archives_the_same(
    tmp_path: Path,
) -> None:
    root = make_tree(tmp_path / "root", TREE)
    files = TreeReader(root)
    try:
        fd, _ = files.open_regular("src/pkg/core.py")
        assert not os.get_blocking(fd)
        os.close(fd)
        fd, _ = files.open_file("src/pkg/core.py")
        assert os.get_blocking(fd)
        os.close(fd)
        archives = []
        for opener in (files.open_regular, files.open_file):
            buf = io.BytesIO()
            write_context_tar(buf, walk_context(root), opener=opener, digest=False)
            archives.append(buf.getvalue())
    finally:
        files.close()
    assert archives[0] == archives[1]


def test_a_read_that_would_block_is_retried_blocking(tmp_path: Path) -> None:
    """A descriptor that heeds O_NONBLOCK (a pipe stands in for such a file system): the
    first read raises BlockingIOError, the archive makes it blocking and reads on."""
    root = make_tree(tmp_path / "root", {"a.txt": "x"})
    data = b"late data\n" * 100
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)

    def opener(name: str) -> tuple[int, os.stat_result]:
        return read_end, os.stat_result((0o100644, 0, 0, 1, 0, 0, len(data), 0, 0, 0))

    def late() -> None:
        time.sleep(0.2)
        os.write(write_end, data)
        os.close(write_end)

    writer = threading.Thread(target=late)
    writer.start()
    buf = io.BytesIO()
    write_context_tar(buf, walk_context(root), opener=opener, digest=False)
    writer.join()
    assert data in buf.getvalue()
