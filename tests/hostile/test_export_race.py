"""Export and tarball under attack: tree entries swapped for symlinks while they are read.

A thread keeps swapping a file for a symlink to a host file, and a directory for a symlink
to a host directory, while ``imagec export`` copies the tree and ``imagec context --tar``
archives it. Whatever the timing, no byte of a host file reaches the export or the archive (a
symlink may be sent as a symlink: it is never followed). Exported modes are never wider than
the source's, and the umask applies.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest
from support.limited_run import imagec, python, write_project

TRIES = 60
TIME_LIMIT = 180.0  # all tries together
MARKER = b"HOST-SECRET-7f3a"
ROOT = Path(__file__).resolve().parents[2]


def run_export(project: Path, out: Path, umask: int | None = None) -> subprocess.CompletedProcess:
    return imagec(
        ["export", "imagec.yaml", "-o", str(out)],
        project,
        limit=60,
        preexec_fn=None if umask is None else (lambda: os.umask(umask)),
    )


def _swap(path: Path, link_to: Path, make: callable) -> None:
    """Replace ``path`` by a symlink to ``link_to`` and back, atomically each way."""
    tmp = path.with_name(path.name + ".swap")
    try:
        os.symlink(link_to, tmp)
        os.replace(tmp, path)
        time.sleep(0.0005)
        if os.path.islink(path):
            os.unlink(path)
        make(path)
    except OSError:
        pass  # the export or the other swap got there first; try again


def host_bytes(out: Path) -> list[str]:
    """Exported regular files holding the host marker (symlinks are not followed)."""
    leaks = []
    for dirpath, _, files in os.walk(out):
        for name in files:
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            if MARKER in path.read_bytes():
                leaks.append(str(path.relative_to(out)))
    return leaks


# Runs in a child process (one interpreter start for all tries, under a time limit): the
# attacker thread swaps entries while the CLI exports in the main thread.
_DRIVER = """
import json, os, sys, threading, time
from pathlib import Path
sys.path[:0] = [os.getcwd(), os.path.join(os.getcwd(), "tests")]  # tests.*, support.*
from tests.hostile.test_export_race import MARKER, attack_until, host_bytes
from imagec.cli import main

project, tries = Path(sys.argv[1]), int(sys.argv[2])
stop = threading.Event()
attacker = threading.Thread(target=attack_until, args=(project, stop), daemon=True)
attacker.start()
leaked, codes = {}, set()
os.chdir(project)
for i in range(tries):
    out = project.parent / f"out{i}"
    codes.add(main(["export", "imagec.yaml", "-o", str(out)]))
    if leaks := host_bytes(out):
        leaked[i] = leaks
    # The tarball reads the same way: a source root and a spec's whole context.
    for n, target in enumerate(("src", "imagec.yaml")):
        tar = project.parent / f"ctx{i}-{n}.tar"
        codes.add(main(["context", target, "--tar", str(tar)]))
        if MARKER in tar.read_bytes():
            leaked.setdefault(i, []).append(tar.name)
stop.set()
attacker.join(5)
print(json.dumps({"leaked": leaked, "codes": sorted(codes)}))
"""


def attack_until(project: Path, stop: threading.Event) -> None:
    tree, host = project / "src", project.parent / "host"

    def make_file(path: Path) -> None:
        path.write_bytes(b"harmless\n")

    def make_dir(path: Path) -> None:
        path.mkdir()
        (path / "inner.txt").write_bytes(b"inside dir\n")

    while not stop.is_set():
        _swap(tree / "secret.txt", host / "secret.txt", make_file)
        _swap(tree / "dir", host / "dir", make_dir)


def test_swapping_entries_for_symlinks_never_copies_a_host_file(tmp_path: Path) -> None:
    write_project(
        tmp_path / "host",
        {"secret.txt": MARKER + b" file\n", "dir/inner.txt": MARKER + b" dir\n"},
    )
    project = write_project(
        tmp_path / "proj",
        {
            "src/dir/inner.txt": b"inside dir\n",
            # entries around the swapped ones, so the timing varies
            **{f"src/f{i:03}.txt": b"plain\n" * 50 for i in range(100)},
            "src/secret.txt": b"harmless\n",
            "imagec.yaml": "source_root: src\n",
        },
    )
    proc = python(_DRIVER, str(project), str(TRIES), cwd=ROOT, limit=TIME_LIMIT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["codes"] == [0], proc.stderr[-2000:]
    leaked = result["leaked"]
    assert leaked == {}, f"host files copied in {len(leaked)} of {TRIES} tries: {leaked}"


@pytest.mark.parametrize(("umask", "expect"), [(0o022, 0o600), (0o077, 0o600)])
def test_modes_are_no_wider_than_the_source_and_the_umask(
    tmp_path: Path, umask: int, expect: int
) -> None:
    project = write_project(
        tmp_path / "proj",
        {
            "src/.env": "TOKEN=x\n",
            "src/run.sh": "#!/bin/sh\n",
            "src/wide.txt": "x\n",
            "src/private/key": "k\n",
            "imagec.yaml": "source_root: src\n",
        },
    )
    tree = project / "src"
    for rel, mode in ((".env", 0o600), ("run.sh", 0o775), ("wide.txt", 0o666), ("private", 0o700)):
        (tree / rel).chmod(mode)
    out = tmp_path / "out"
    proc = run_export(project, out, umask)
    assert proc.returncode == 0, proc.stderr

    def mode(rel: str) -> int:
        return stat.S_IMODE(os.lstat(out / rel).st_mode)

    keep = ~umask & 0o777
    assert mode("src/.env") == expect
    assert mode("src/run.sh") == 0o755 & keep
    assert mode("src/wide.txt") == 0o644 & keep
    assert mode("src/private") == 0o700
    assert mode("src") == 0o755 & keep
    assert mode(".") == 0o755 & keep
    assert mode("Dockerfile") == 0o644 & keep
    for dirpath, dirs, files in os.walk(out):
        for name in dirs + files:
            assert not mode(os.path.relpath(Path(dirpath) / name, out)) & umask
