"""No data loss: the user's tree is only ever read, and an export either fully replaces its
target (with ``--force``) or leaves it exactly as it was.

Trees are compared by a snapshot of every entry's path, type, mode, size, mtime and content
hash, so a rewrite with identical bytes still shows up.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest

from imagec.backend import buildcontext
from imagec.cli import main

ROOT = Path(__file__).resolve().parents[2]

Snapshot = dict[str, tuple]


def snapshot(root: Path) -> Snapshot:
    out: Snapshot = {".": _entry(root)}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            out[path.relative_to(root).as_posix()] = _entry(path)
    return out


def _entry(path: Path) -> tuple:
    info = path.lstat()
    if stat.S_ISREG(info.st_mode):
        content = hashlib.sha256(path.read_bytes()).hexdigest()
    elif stat.S_ISLNK(info.st_mode):
        content = os.readlink(path)
    else:
        content = None
    return (stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode), info.st_size,
            info.st_mtime_ns if not stat.S_ISDIR(info.st_mode) else None, content)  # fmt: skip


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of examples/full with a decorated pipeline next to it, in a fresh directory."""
    monkeypatch.delenv("IMAGEC_STACK", raising=False)
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "examples" / "full", tree, symlinks=True)
    (tree / "helpers.py").write_text("GREETING = 'hi'\n")
    (tree / "flow.py").write_text(
        "from helpers import GREETING\n\nfrom imagec import pipeline\n\n\n"
        "@pipeline(requirements=['requests>=2'])\ndef flow() -> None:\n    print(GREETING)\n"
    )
    return tree


def _export_dir(tmp_path: Path) -> Path:
    (tmp_path / "out").mkdir(exist_ok=True)
    return tmp_path / "out" / "build"


def test_commands_never_write_to_the_users_tree(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(project)
    out = tmp_path / "out"
    out.mkdir()
    spec = str(project)
    for argv in (
        ["validate", spec],
        ["compile", spec],
        ["compile", spec, "-o", str(out / "Containerfile")],
        ["ir", spec],
        ["context", spec, "--list"],
        ["context", spec, "--hash"],
        ["context", str(project / "src"), "--list"],
        ["export", spec, "-o", str(out / "build")],
        ["export", spec, "-o", str(out / "build"), "--force"],
        ["validate", str(project / "flow.py")],
        ["compile", str(project / "flow.py:flow")],
        ["validate", str(project / "flow.py"), "--import"],
    ):
        assert main(argv) == 0, argv
    capsys.readouterr()
    assert snapshot(project) == before


def test_export_refuses_a_non_empty_directory_without_force(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _export_dir(tmp_path)
    target.mkdir(parents=True)
    (target / "precious.txt").write_text("keep me\n")
    before = snapshot(target.parent)
    assert main(["export", str(project), "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err == f"{target}: directory is not empty (use --force to replace it)\n"
    assert snapshot(target.parent) == before


def test_export_refuses_a_file(project: Path, tmp_path: Path, capsys) -> None:
    target = tmp_path / "file"
    target.write_text("not a directory\n")
    before = snapshot(tmp_path / "file")
    assert main(["export", str(project), "-o", str(target)]) == 2
    assert "exists and is not a directory" in capsys.readouterr().err
    assert snapshot(tmp_path / "file") == before


def test_force_replaces_completely_and_leaves_no_staging(
    project: Path, tmp_path: Path, capsys
) -> None:
    target = _export_dir(tmp_path)
    target.mkdir(parents=True)
    (target / "stale.txt").write_text("from an earlier export\n")
    assert main(["export", str(project), "-o", str(target), "--force"]) == 0
    capsys.readouterr()
    assert not (target / "stale.txt").exists()
    assert (target / "Dockerfile").is_file()
    assert sorted(p.name for p in target.parent.iterdir()) == ["build"]


def _fail_third_write(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> list[int]:
    """Fault injection: the third entry an export writes fails, as a full disk or ^C would."""
    real = buildcontext._materialize
    calls: list[int] = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(buildcontext, "_materialize", failing)
    return calls


@pytest.mark.parametrize("existing", [False, True])
@pytest.mark.parametrize(
    "error", [OSError(28, "No space left on device"), KeyboardInterrupt()], ids=["ENOSPC", "^C"]
)
def test_failed_export_leaves_no_trace(
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    existing: bool,
    error: BaseException,
    capsys,
) -> None:
    target = _export_dir(tmp_path)
    if existing:
        target.mkdir()
        (target / "previous.txt").write_text("the previous export\n")
    before = snapshot(target.parent)
    calls = _fail_third_write(monkeypatch, error)
    try:
        main(["export", str(project), "-o", str(target), "--force"])
    except BaseException as exc:  # how the CLI reports it is checked below
        assert exc is error
    capsys.readouterr()
    assert len(calls) == 3
    assert snapshot(target.parent) == before


def test_io_error_during_export_is_one_line(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    _fail_third_write(monkeypatch, OSError(28, "No space left on device"))
    assert main(["export", str(project), "-o", str(_export_dir(tmp_path))]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err
