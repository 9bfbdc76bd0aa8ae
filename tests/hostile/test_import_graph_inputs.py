"""Class 11: the static import graph on pathological source.

The import check and run-file following read the project's Python files without running them.
Whatever those files hold, compiling ends in bounded time with the plan or one located line:
nesting Python itself runs (a thousand nested lambdas) is walked, not a RecursionError; import
cycles and symlink loops between packages end; huge files and FIFOs are never read whole or
blocked on; and a module that is a symlink out of the project is never read (the image gets
the link, not the host file, and the check says so)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from support.hostile import imagec
from support.timeout import time_limit_fixture

_limit = time_limit_fixture(120)

PIPELINE = (
    "from imagec import pipeline\n{imports}\n\n@pipeline(copy_stack=False)\ndef p():\n    pass\n"
)


def _project(tmp_path: Path, imports: str) -> Path:
    root = tmp_path / "p"
    root.mkdir()
    (root / "pipe.py").write_text(PIPELINE.format(imports=imports))
    return root


def _ok(root: Path, target: str = "pipe.py") -> None:
    result = imagec("compile", target, cwd=root)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("where", ["module", "pipeline", "run file"])
def test_deep_nesting_python_runs_is_walked(tmp_path: Path, where: str) -> None:
    nested = "y = " + "lambda: " * 1200 + "1\n"
    subprocess.run(["python3", "-c", nested], check=True, timeout=60)  # Python runs it
    root = _project(tmp_path, "import helper")
    (root / "helper.py").write_text(nested if where == "module" else "x = 1\n")
    if where == "pipeline":
        with open(root / "pipe.py", "a") as f:
            f.write(nested)
    if where == "run file":
        (root / "run.py").write_text("import pipe\n" + nested + "pipe.p()\n")
    _ok(root, "run.py" if where == "run file" else "pipe.py")


def test_import_cycles_and_symlink_loops_end(tmp_path: Path) -> None:
    root = _project(tmp_path, "import cyc_a\nimport pkg.loop.loop.loop.mod")
    (root / "cyc_a.py").write_text("import cyc_b\n")
    (root / "cyc_b.py").write_text("import cyc_a\n")
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "loop").symlink_to(".")
    (root / "pkg" / "mod.py").write_text("import pkg.loop.loop.loop.loop.loop.mod\n")
    _ok(root)


def test_a_fifo_module_is_not_blocked_on(tmp_path: Path) -> None:
    root = _project(tmp_path, "import helper")
    os.mkfifo(root / "helper.py")
    result = imagec("compile", "pipe.py", cwd=root)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]


def test_a_huge_module_is_one_line(tmp_path: Path) -> None:
    root = _project(tmp_path, "import helper")
    with open(root / "helper.py", "wb") as f:
        f.truncate(3 * 1024**3)  # sparse
    result = imagec("compile", "pipe.py", cwd=root)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert len(result.stderr.splitlines()) == 1 and "too large" in result.stderr


@pytest.mark.parametrize("target", ["pipe.py", "run.py"])
def test_a_module_linked_out_of_the_project_is_not_read(tmp_path: Path, target: str) -> None:
    host = tmp_path / "host.py"
    host.write_text("HOST-ONLY secret line that is no Python\n")  # a syntax error if parsed
    root = _project(tmp_path, "import helper")
    (root / "helper.py").symlink_to(host)
    (root / "run.py").write_text("import helper\nimport pipe\npipe.p()\n")
    result = imagec("compile", target, cwd=root)
    assert "HOST-ONLY" not in result.stderr and "host.py" not in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    # Nor is it in the image: the context sends the link (test_import_links.py).
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert (
        ": 'helper' is not in the image: helper.py is a symbolic link out of the source "
        "root: the build context sends the link, not what it points to\n"
    ) in result.stderr


@pytest.mark.parametrize(
    "name",
    [
        "helper." + "a." * 100_000 + "b",  # CPython's parser alone would take hours
        "helper" + " . a" * 100_000,
        "helper." + "abcdefghij." * 1_500 + "b",  # longer than any path
        "helper." + "a" * 300,  # a component longer than a file name may be
    ],
    ids=["dotted", "spaced", "longer-than-a-path", "long-component"],
)
@pytest.mark.parametrize("where", ["pipeline", "module"])
def test_long_dotted_imports_end_quickly(tmp_path: Path, name: str, where: str) -> None:
    root = _project(tmp_path, "import helper" if where == "module" else f"import {name}")
    (root / "helper.py").write_text(f"import {name}\n" if where == "module" else "x = 1\n")
    started = time.monotonic()
    result = imagec("compile", "pipe.py", cwd=root)
    assert time.monotonic() - started < 30
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode in (0, 2), result.stderr[-2000:]
    assert all(len(line) < 2000 for line in result.stderr.splitlines()), result.stderr[:2000]
