"""Special files where imagec expects a small text file: every file it reads (the spec, a
``.py`` spec, pyproject.toml, requirements files, ignore files, stack files) is refused when it
is a FIFO or a device, quickly, with one located line and exit code 2 -- never a hang and never
a ``MemoryError`` from reading ``/dev/zero`` to its end.

Each case runs the real CLI in a child process under a time limit and a memory cap.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

MEMORY_CAP = 768 * 1024 * 1024
TIME_LIMIT = 15.0

SPEC = "requirements: requirements.txt\nsource_root: src\n"
PIPELINE = "from imagec import pipeline\n\n@pipeline()\ndef train() -> None:\n    pass\n"


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "imagec", *argv],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=TIME_LIMIT,
            preexec_fn=_cap_memory,
            env={**os.environ, "IMAGEC_STACK": ""},
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"imagec {' '.join(argv)} ran for more than {TIME_LIMIT} s")
    return proc.returncode, proc.stdout, proc.stderr


def fifo(path: Path) -> None:
    os.mkfifo(path)


def dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")  # st_size 0, endless data


def dev_null(path: Path) -> None:
    path.symlink_to("/dev/null")  # a character device that reads as empty


MAKERS: dict[str, Callable[[Path], None]] = {"fifo": fifo, "zero": dev_zero, "null": dev_null}


def project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("print('hi')\n")
    (tmp_path / "imagec.yaml").write_text(SPEC)
    (tmp_path / "requirements.txt").write_text("requests\n")
    return tmp_path


# (name of the special file, how it is used, what the error calls it)
CASES = {
    "spec": ("imagec.yaml", ["context", "imagec.yaml", "--hash"], "spec file"),
    "py-spec": ("flow.py", ["context", "flow.py", "--hash"], "Python file"),
    "requirements": ("requirements.txt", ["context", "imagec.yaml", "--hash"], "requirements file"),
    "include": ("more.txt", ["context", "imagec.yaml", "--hash"], "requirements file"),
    "dockerignore": ("src/.dockerignore", ["context", "imagec.yaml", "--hash"], "ignore file"),
    "dockerignore-flag": (
        "ignore",
        ["context", "imagec.yaml", "--hash", "--dockerignore", "ignore"],
        "ignore file",
    ),
    "context-root-ignore": ("src/.dockerignore", ["context", "src", "--list"], "ignore file"),
    "stack": (
        "stack.yaml",
        ["context", "imagec.yaml", "--hash", "--stack", "stack.yaml"],
        "stack file",
    ),
    "pyproject": ("pyproject.toml", ["validate", "pyproject.toml"], "spec file"),
}


@pytest.mark.parametrize("kind", sorted(MAKERS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_special_file_is_refused(tmp_path: Path, case: str, kind: str) -> None:
    name, argv, what = CASES[case]
    root = project(tmp_path)
    if case == "include":
        (root / "requirements.txt").write_text("requests\n-r more.txt\n")
    if case == "pyproject":
        (root / "imagec.yaml").unlink()
    special = root / name
    special.unlink(missing_ok=True)
    MAKERS[kind](special)
    code, out, err = run(argv, root)
    assert "Traceback" not in err, err[-2000:]
    assert (code, out) == (2, ""), (code, out, err[-500:])
    # `context SPEC` says which source root and ignore file it uses before it reads them.
    *info, error = err.splitlines()
    assert all(line.startswith(("source root: ", "ignore file: ")) for line in info), err
    assert err.endswith("\n") and name in error, err
    if case == "dockerignore-flag":
        # Checked when the flag is read: the ignore file must be a (regular) file.
        assert error == f"imagec: error: --dockerignore: ignore file {name!r} is not a file"
    elif case in ("include", "requirements") and kind != "fifo":
        # A symlink into /dev resolves outside the project: refused before it is opened.
        assert "outside" in error, err
    elif case in ("dockerignore", "context-root-ignore") and kind != "fifo":
        # Found, not named: a symlink out of the build context is refused before it is opened.
        assert "is a symlink out of the build context" in error, err
    else:
        assert f"not a regular file, expected a {what}" in error, err
    if kind == "fifo":
        assert special.is_fifo()  # nothing replaced or removed it


def test_dev_zero_named_directly_as_requirements(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "imagec.yaml").write_text("requirements: /dev/zero\n")
    code, out, err = run(["validate", "imagec.yaml"], root)
    assert (code, out) == (2, ""), (code, out, err[-500:])
    assert err.count("\n") == 1 and err.startswith("imagec.yaml:1:15: "), err
    assert "/dev/zero" in err and ("not a regular file" in err or "outside" in err), err


def test_python_spec_fifo_with_function_name(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "flow.py")
    code, out, err = run(["compile", "flow.py:train"], tmp_path)
    assert (code, out) == (2, ""), (code, out, err[-500:])
    assert err == "flow.py: not a regular file, expected a Python file\n", err


def test_huge_requirements_file_is_refused_before_reading(tmp_path: Path) -> None:
    root = project(tmp_path)
    with (root / "requirements.txt").open("wb") as f:
        f.write(b"requests\n")
        f.truncate(64 * 1024 * 1024)  # sparse: big on paper, cheap on disk
    code, out, err = run(["validate", "imagec.yaml"], root)
    assert (code, out) == (2, ""), (code, out, err[-500:])
    assert err.count("\n") == 1 and "requirements file too large" in err, err


def test_regular_files_still_work(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "flow.py").write_text(PIPELINE)
    (root / "src" / ".dockerignore").write_text("*.pyc\n")
    assert run(["context", "imagec.yaml", "--hash"], root)[0] == 0
    assert run(["validate", "flow.py"], root)[0] == 0
