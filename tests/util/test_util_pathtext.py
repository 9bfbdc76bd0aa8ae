"""``util.pathtext`` answers what pathlib answers (the context command imports no pathlib), and
the modules split out of ``fsutil`` keep its names and behaviour."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagec.context import find_ignore_file, read_ignore_file, select_context
from imagec.errors import SpecError
from imagec.util import fsutil, outputs, treereader, userfiles
from imagec.util.pathtext import exists, is_dir, path_text

SPELLINGS = [
    "", ".", "./", "/", "//", "///", "////a", "//a/./b/", "a", "a/", "a//b", "./a/./b/.",
    "a/../b", "/x/y/..", ".a", "..", "../", "a/.../b", "~", " a ", "a/.", "a\\b",
]  # fmt: skip


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_path_text_is_str_of_path(spelling: str) -> None:
    assert path_text(spelling) == str(Path(spelling))
    assert path_text(Path(spelling)) == str(Path(spelling))


def test_is_dir_and_exists_answer_as_pathlib(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("x")
    (tmp_path / "to-d").symlink_to("d")
    (tmp_path / "dangling").symlink_to("nowhere")
    (tmp_path / "loop").symlink_to("loop")
    names = ["d", "f", "to-d", "dangling", "loop", "missing", "f/below", "d/", "f/", "a\0b"]
    for name in names:
        path = tmp_path / name if "\0" not in name else str(tmp_path) + "/" + name
        assert is_dir(path) == Path(path).is_dir(), name
        assert exists(path) == Path(path).exists(), name


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any directory")
def test_a_permission_error_is_raised_as_pathlib_raises(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    (locked / "d").mkdir(parents=True)
    locked.chmod(0)
    try:
        with pytest.raises(PermissionError):
            Path(locked / "d").is_dir()
        with pytest.raises(PermissionError):
            is_dir(locked / "d")
    finally:
        locked.chmod(0o755)


def test_fsutil_keeps_the_names_of_the_split_modules() -> None:
    assert fsutil.read_user_bytes is userfiles.read_user_bytes
    assert fsutil.write_target is outputs.write_target
    assert fsutil.TreeReader is treereader.TreeReader
    assert fsutil.without_outputs is outputs.without_outputs


def test_the_split_modules_import_no_pathlib_typing_or_re() -> None:
    code = (
        "import sys\n"
        "import imagec.util.outputs, imagec.util.treereader, imagec.util.userfiles\n"
        "print(sorted(m for m in ('pathlib', 'typing', 're', 'contextlib') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.splitlines()[-1:] == ["[]"], result.stderr


def test_selection_and_rules_still_give_paths(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("*.pyc\n")
    selection = select_context(f"{tmp_path}/./")
    assert selection.root == tmp_path
    assert selection.ignore_file == tmp_path / ".dockerignore"
    assert find_ignore_file(tmp_path) == tmp_path / ".dockerignore"
    assert read_ignore_file(f"{tmp_path}//.dockerignore").path == tmp_path / ".dockerignore"


def test_errors_name_files_as_pathlib_spells_them(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        read_ignore_file(f"{tmp_path}/./missing/")
    assert caught.value.file == str(tmp_path / "missing")
    with pytest.raises(SpecError) as caught:
        outputs.write_target(f"{tmp_path}//", lambda f: f.write(b""))
    assert str(caught.value) == f"{tmp_path}: is a directory"


def test_an_ignore_file_symlinked_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "outside").write_text("*\n")
    (root / ".dockerignore").symlink_to(tmp_path / "outside")
    with pytest.raises(SpecError, match="symlink out of the build context"):
        find_ignore_file(root)
    # A root whose name starts like the target's directory is no parent of it.
    (tmp_path / "root-x").write_text("*\n")
    (root / ".dockerignore").unlink()
    (root / ".dockerignore").symlink_to(tmp_path / "root-x")
    with pytest.raises(SpecError, match="symlink out of the build context"):
        find_ignore_file(root)
    (root / ".dockerignore").unlink()
    (root / "inside").write_text("*\n")
    (root / ".dockerignore").symlink_to("inside")
    assert find_ignore_file(root) == root / ".dockerignore"


def test_without_outputs_takes_text_and_paths(tmp_path: Path, monkeypatch) -> None:
    from imagec.context import walk_context

    (tmp_path / "a").write_text("a")
    (tmp_path / "out.tar").write_text("old")
    (tmp_path / ".out.tar.abc.tmp").write_text("scratch")
    monkeypatch.chdir(tmp_path)
    for target in ("out.tar", "./out.tar", tmp_path / "out.tar", f"{tmp_path}//out.tar"):
        kept = [e.path for e in outputs.without_outputs(walk_context(tmp_path), [target])]
        assert kept == ["a"], target


def test_a_large_file_replaced_by_a_failed_write_keeps_its_content(tmp_path: Path) -> None:
    """Its cached pages are dropped before the new file is written (outputs._drop_cached):
    a hint only; the content stays until the new file is moved into place."""
    target = tmp_path / "big.tar"
    old = os.urandom(3 << 20)
    target.write_bytes(old)

    def fail(f) -> None:
        f.write(b"x" * (2 << 20))
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        outputs.write_target(str(target), fail)
    assert target.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.tar"]
    outputs.write_target(str(target), lambda f: f.write(b"new"))
    assert target.read_bytes() == b"new"
