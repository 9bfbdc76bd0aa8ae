"""The reproducible context archive."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tracemalloc
from pathlib import Path

import pytest
from support.context import make_tree

from imagec.context import (
    DEFAULT_MTIME,
    ExtraFile,
    IgnoreMatcher,
    context_digest,
    select_context,
    walk_context,
    write_context_tar,
)

TREE = {
    "src/pkg/__init__.py": "",
    "src/pkg/core.py": "print('hi')\n",
    "run.sh": "#!/bin/sh\necho run\n",
    "empty": None,
    "link": {"symlink": "src/pkg/core.py"},
    "out-link": {"symlink": "/etc/passwd"},
    "ünïcode.txt": "u",
    "d" * 120 + "/" + "f" * 90: "long",
    "e" * 150 + "/" + "g" * 150: "longer",
}


def archive(root: Path, **kwargs) -> bytes:
    buf = io.BytesIO()
    digest = write_context_tar(buf, walk_context(root), **kwargs)
    data = buf.getvalue()
    assert digest == hashlib.sha256(data).hexdigest()
    return data


def archive_entries(entries) -> bytes:
    buf = io.BytesIO()
    write_context_tar(buf, entries)
    return buf.getvalue()


def members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: m for m in tar.getmembers()}


def scramble(root: Path, seed: int) -> None:
    """Change everything that must not matter: times, owners, non-exec permission bits."""
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            os.utime(path, (1_000_000 + seed, 2_000_000 + seed * 7), follow_symlinks=False)
            if os.geteuid() == 0:
                os.lchown(path, 1000 + seed, 2000 + seed)
            if not os.path.islink(path) and os.path.isfile(path):
                executable = os.stat(path).st_mode & 0o111
                os.chmod(
                    path, (0o750 if seed else 0o700) if executable else (0o640 if seed else 0o600)
                )


def test_same_tree_same_bytes(tmp_path: Path) -> None:
    one = make_tree(tmp_path / "one", TREE)
    two = make_tree(tmp_path / "elsewhere" / "two", TREE)
    (one / "run.sh").chmod(0o755)
    (two / "run.sh").chmod(0o700)
    scramble(one, 0)
    scramble(two, 3)
    first, second = archive(one), archive(two)
    assert first == second
    assert archive(one) == first  # and again
    assert context_digest(walk_context(two)) == hashlib.sha256(first).hexdigest()


def test_member_metadata(tmp_path: Path) -> None:
    root = make_tree(tmp_path, TREE)
    (root / "run.sh").chmod(0o700)
    got = members(archive(root))
    for info in got.values():
        assert (info.uid, info.gid, info.uname, info.gname) == (0, 0, "", "")
        assert info.mtime == DEFAULT_MTIME
    assert got["run.sh"].mode == 0o755
    assert got["src/pkg/core.py"].mode == 0o644
    assert got["src"].isdir() and got["src"].mode == 0o755
    assert got["empty"].isdir()
    assert got["link"].issym() and got["link"].linkname == "src/pkg/core.py"
    assert got["out-link"].issym() and got["out-link"].linkname == "/etc/passwd"
    assert "ünïcode.txt" in got
    assert "e" * 150 + "/" + "g" * 150 in got


def test_contents_round_trip(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "src", TREE)
    (root / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))  # several read chunks
    data = archive(root)
    out = tmp_path / "out"
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        # Extraction filters came with Python 3.11.4; Debian 12's python3 is 3.11.2.
        safe = {"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}
        tar.extractall(out, **safe)
    for rel in ("big.bin", "src/pkg/core.py", "ünïcode.txt", "e" * 150 + "/" + "g" * 150):
        assert (out / rel).read_bytes() == (root / rel).read_bytes()


def test_gnu_tar_reads_it(tmp_path: Path) -> None:
    if shutil.which("tar") is None:
        pytest.skip("GNU tar is not installed")
    root = make_tree(tmp_path / "src", TREE)
    archive_path = tmp_path / "ctx.tar"
    archive_path.write_bytes(archive(root))
    listing = subprocess.run(
        ["tar", "-tf", str(archive_path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert "d" * 120 + "/" + "f" * 90 in listing
    assert "link" in listing


def test_prefix_and_extra_files(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {"a.py": "a", "pkg/b.py": "b"})
    data = archive(
        root,
        prefix="src",
        extra={"Containerfile": b"FROM x\n", "gen/entry.sh": ExtraFile(b"#!/bin/sh\n", 0o755)},
    )
    got = members(data)
    assert list(got) == [
        "Containerfile",
        "gen",
        "gen/entry.sh",
        "src",
        "src/a.py",
        "src/pkg",
        "src/pkg/b.py",
    ]
    assert got["gen/entry.sh"].mode == 0o755 and got["Containerfile"].mode == 0o644
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert tar.extractfile("Containerfile").read() == b"FROM x\n"


def test_extra_file_inside_the_prefix_merges_in_order(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {"a.py": "", "z.py": "", "pkg/x.py": ""})
    got = members(archive(root, prefix="src", extra={"src/pkg/gen.py": b"", "src/m.py": b""}))
    assert list(got) == [
        "src",
        "src/a.py",
        "src/m.py",
        "src/pkg",
        "src/pkg/gen.py",
        "src/pkg/x.py",
        "src/z.py",
    ]


def test_extra_file_clashing_with_the_tree(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {"Containerfile": ""})
    with pytest.raises(ValueError, match="both in the source tree and an extra file"):
        archive(root, extra={"Containerfile": b""})
    with pytest.raises(ValueError, match="relative path"):
        archive(root, extra={"../x": b""})


def test_mtime_is_a_parameter(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {"a": ""})
    assert members(archive(root, mtime=0))["a"].mtime == 0
    assert archive(root, mtime=0) != archive(root)


def test_hard_links_are_regular_files(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {"a": "same"})
    os.link(root / "a", root / "b")
    got = members(archive(root))
    assert got["a"].isfile() and got["b"].isfile() and got["b"].size == 4


def test_only_selected_entries(tmp_path: Path) -> None:
    root = make_tree(
        tmp_path, {".git/HEAD": "", "keep.py": "", "data/big": "", "data/keep.csv": ""}
    )
    (root / ".dockerignore").write_text(".git\ndata\n!data/keep.csv\n")
    buf = io.BytesIO()
    selection = select_context(root)
    assert selection.write_tar(buf) == selection.digest()
    assert list(members(buf.getvalue())) == [".dockerignore", "data/keep.csv", "keep.py"]
    matcher = IgnoreMatcher([".git", "data", "!data/keep.csv", ".dockerignore"])
    assert list(members(archive_entries(walk_context(root, matcher)))) == [
        "data/keep.csv",
        "keep.py",
    ]


def test_memory_stays_bounded_for_large_files(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(96 * 1024 * 1024)  # sparse: cheap to create, still read in full
    tracemalloc.start()
    try:
        digest = context_digest(walk_context(tmp_path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(digest) == 64
    assert peak < 8 * 1024 * 1024


def test_sizes_around_blocks_and_buffer_round_trip(tmp_path: Path) -> None:
    """Files and extra files around the block size and the 1 MiB read/flush sizes."""
    mib = 1 << 20
    sizes = [0, 1, 511, 512, 513, mib - 1, mib, mib + 1, 3 * mib + 7]
    root = tmp_path / "root"
    root.mkdir()
    for i, size in enumerate(sizes):
        (root / f"f{i:02}").write_bytes(bytes([i + 1]) * size)
    extra = {"x/big": bytes(range(256)) * (8 * 1024 + 3), "x/small": b"s"}
    data = archive(root, extra=extra)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for i, size in enumerate(sizes):
            member = tar.extractfile(f"f{i:02}")
            assert member is not None and member.read() == bytes([i + 1]) * size
        for name, content in extra.items():
            member = tar.extractfile(name)
            assert member is not None and member.read() == content
    assert len(data) % 512 == 0


def test_header_checksums_of_the_largest_plain_names(tmp_path: Path) -> None:
    """The common-case header sums its name and size through adler32: the largest ASCII
    name (100 x "~") still checks out with tarfile, which verifies every checksum."""
    root = tmp_path / "root"
    root.mkdir()
    (root / ("~" * 100)).write_bytes(b"x" * 777_777)
    (root / ("}" * 99)).write_bytes(b"")
    names = {m.name: m.size for m in members(archive(root)).values()}
    assert names == {"~" * 100: 777_777, "}" * 99: 0}


class _FailingOutput(io.BytesIO):
    """Takes ``room`` bytes, then fails as a full disk does."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room

    def write(self, data) -> int:  # type: ignore[override]
        if self.tell() + len(data) > self.room:
            raise OSError(28, "No space left on device")
        return super().write(data)


def test_a_failed_write_is_raised_and_nothing_writes_afterwards(tmp_path: Path) -> None:
    """Writes happen on a second thread; its error reaches the caller, and once
    write_context_tar returns or raises, nothing writes to the output any more."""
    import _thread
    import time

    def writer_gone(threads: int) -> bool:  # the thread ends just after its last release
        deadline = time.monotonic() + 5
        while _thread._count() > threads and time.monotonic() < deadline:
            time.sleep(0.01)
        return _thread._count() == threads

    root = tmp_path / "root"
    root.mkdir()
    for i in range(6):
        (root / f"f{i}").write_bytes(bytes([i]) * (700 * 1024))
    threads = _thread._count()
    out = _FailingOutput(room=2 << 20)
    with pytest.raises(OSError, match="No space left"):
        write_context_tar(out, walk_context(root), digest=False)
    assert writer_gone(threads)
    written = out.getvalue()
    assert 0 < len(written) <= 2 << 20

    def opener(name: str):
        if name == "f4":
            raise RuntimeError("stop here")
        fd = os.open(root / name, os.O_RDONLY)
        return fd, os.fstat(fd)

    out = _FailingOutput(room=1 << 30)
    with pytest.raises(RuntimeError, match="stop here"):
        write_context_tar(out, walk_context(root), opener=opener)
    size = len(out.getvalue())
    assert size > 0
    assert writer_gone(threads)
    assert len(out.getvalue()) == size  # nothing was written after the error was raised
