"""The import check agrees with the build context about symbolic links.

The context archives a link as a link, never followed (the host file it names is not read and
not sent). So a module that is a link (or sits below a linked directory) is in the image only
when the link, resolved there, stays inside the source root and reaches a file the ignore file
sends. The oracle is the context itself: ``imagec context ROOT --tar`` extracted, links as
links, and Python importing the module from the extracted source root."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.hostile import imagec
from support.timeout import time_limit_fixture

_limit = time_limit_fixture(120)

PIPELINE = (
    "from imagec import pipeline\nimport {module}\n\n@pipeline(copy_stack=False)\n"
    "def p():\n    pass\n"
)
NOT_IN_IMAGE = (
    "is a symbolic link out of the source root: the build context sends the link, "
    "not what it points to"
)


def _outside(tmp_path: Path) -> None:
    """The host's files beside the project: a module and a package."""
    (tmp_path / "host.py").write_text("HOST = 1\n")
    (tmp_path / "hostpkg").mkdir()
    (tmp_path / "hostpkg" / "mod.py").write_text("HOST = 1\n")


# Each layout: (module imported, how the root is made, expected link named in the error or None)
Layout = Callable[[Path], None]


def _link(name: str, target: str) -> Layout:
    def make(root: Path) -> None:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).symlink_to(target)

    return make


def _lib(root: Path) -> None:
    (root / "lib" / "inner").mkdir(parents=True)
    (root / "lib" / "helper.py").write_text("X = 1\n")
    (root / "lib" / "inner" / "mod.py").write_text("X = 1\n")


CASES = {
    "relative-inside": ("helper", [_lib, _link("helper.py", "lib/helper.py")], None),
    "dir-inside": ("pkg.mod", [_lib, _link("pkg", "lib/inner")], None),
    "chain-inside": (
        "helper",
        [_lib, _link("a.py", "lib/helper.py"), _link("helper.py", "a.py")],
        None,
    ),
    "relative-out": ("helper", [_link("helper.py", "../host.py")], "helper.py"),
    "dir-out": ("pkg.mod", [_link("pkg", "../hostpkg")], "pkg"),
    "inside-then-out": (
        "helper",
        [_lib, _link("lib/out.py", "../../host.py"), _link("helper.py", "lib/out.py")],
        "lib/out.py",
    ),
    "dotdot-out-and-back": (
        "helper",
        [_lib, _link("helper.py", "../p/lib/helper.py")],
        "helper.py",
    ),
}


def _context_imports(root: Path, module: str, tmp_path: Path) -> bool:
    """Does Python import ``module`` from the source root the build context holds?"""
    tar = tmp_path / "context.tar"
    # The source root's own selection (a directory argument: what the spec's context holds
    # under src/, without the import check that `context SPEC` runs first).
    result = imagec("context", ".", "--tar", str(tar), cwd=root)
    assert result.returncode == 0, result.stderr
    # As in the image: nothing of the host's around the source (its parent is empty).
    extracted = tmp_path / "image" / "src"
    extracted.mkdir(parents=True)
    # GNU tar extracts links as links, as an engine does.
    subprocess.run(["tar", "-xf", str(tar), "-C", str(extracted)], check=True, timeout=60)
    code = f"import sys; sys.path.insert(0, sys.argv[1]); import {module}"
    proc = subprocess.run(
        [sys.executable, "-I", "-c", code, str(extracted)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return proc.returncode == 0


@pytest.mark.parametrize("case", list(CASES))
def test_the_check_agrees_with_the_context(tmp_path: Path, case: str) -> None:
    module, makers, link = CASES[case]
    _outside(tmp_path)
    root = tmp_path / "p"
    root.mkdir()
    (root / "pipe.py").write_text(PIPELINE.format(module=module))
    for make in makers:
        make(root)
    result = imagec("compile", "pipe.py", cwd=root)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    in_context = _context_imports(root, module, tmp_path)
    if link is None:
        assert result.returncode == 0, result.stderr
        assert in_context
    else:
        assert result.returncode == 2, result.stdout
        assert result.stderr == (
            f"pipe.py:2: '{module}' is not in the image: {link} {NOT_IN_IMAGE}\n"
        )
        assert "host" not in result.stderr  # the link's target, a host path, is not shown
        assert not in_context


def test_an_absolute_link_is_not_in_the_image(tmp_path: Path) -> None:
    """An absolute target names a path on the machine that builds, not in the image: even one
    into the project itself (the image holds the project elsewhere)."""
    _outside(tmp_path)
    root = tmp_path / "p"
    root.mkdir()
    _lib(root)
    (root / "pipe.py").write_text(PIPELINE.format(module="helper"))
    for target in (tmp_path / "host.py", root / "lib" / "helper.py"):
        (root / "helper.py").unlink(missing_ok=True)
        (root / "helper.py").symlink_to(target)
        result = imagec("compile", "pipe.py", cwd=root)
        assert result.returncode == 2, result.stdout
        assert (
            result.stderr == f"pipe.py:2: 'helper' is not in the image: helper.py {NOT_IN_IMAGE}\n"
        )


def test_a_link_to_a_file_the_ignore_file_excludes(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    _lib(root)
    (root / "pipe.py").write_text(PIPELINE.format(module="helper"))
    (root / "helper.py").symlink_to("lib/helper.py")
    (root / ".dockerignore").write_text("lib/\n")
    result = imagec("compile", "pipe.py", cwd=root)
    assert result.returncode == 2, result.stdout
    assert result.stderr == "pipe.py:2: 'helper' is excluded from the image by .dockerignore\n"
    assert not _context_imports(root, "helper", tmp_path)
