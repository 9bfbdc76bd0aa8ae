"""Output targets that are not plain new files: ``compile -o`` and ``context --tar``.

Devices and FIFOs are written into as the user asked and never replaced (their device, inode
and type are the same afterwards); ``-`` is standard output; a directory, a socket or any file
the command read as an input (the spec, a requirements file, the ignore file) is refused with
one located line and exit code 2, the file untouched. Every case runs the real CLI in a child
process under a time limit.
"""

from __future__ import annotations

import io
import os
import socket
import stat
import tarfile
import threading
from pathlib import Path

import pytest
from support.limited_run import TIME_LIMIT, imagec, write_project

SPEC = "requirements: requirements.txt\nsource_root: src\ndockerignore_file: src/.dockerignore\n"


def run(argv: list[str], cwd: Path, **kwargs):
    """The CLI with bytes out: what reaches standard output is compared byte for byte."""
    return imagec(argv, cwd, text=False, **kwargs)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(
        tmp_path / "proj",
        {
            "src/app.py": "print('hi')\n",
            "src/.dockerignore": "*.pyc\n",
            "imagec.yaml": SPEC,
            "requirements.txt": "requests\n",
        },
    )


def identity(path: Path) -> tuple[int, int, int, int]:
    info = os.lstat(path)
    return info.st_dev, info.st_ino, stat.S_IFMT(info.st_mode), info.st_rdev


def compiled(project: Path) -> bytes:
    proc = run(["compile", "imagec.yaml"], project)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_dev_null_is_written_into_not_replaced(project: Path) -> None:
    before = identity(Path("/dev/null"))
    for argv in (
        ["compile", "imagec.yaml", "-o", "/dev/null"],
        ["context", "imagec.yaml", "--tar", "/dev/null"],
        ["context", "src", "--tar", "/dev/null"],
    ):
        proc = run(argv, project)
        assert (proc.returncode, proc.stdout) == (0, b""), (argv, proc.stderr)
        assert identity(Path("/dev/null")) == before
        assert not list(Path("/dev").glob(".null.*"))  # no scratch file left beside it


@pytest.mark.parametrize("name", ["/dev/stdout", "-"])
def test_tar_to_standard_output(project: Path, name: str) -> None:
    proc = run(["context", "src", "--tar", name], project)
    assert proc.returncode == 0, proc.stderr
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        assert sorted(tar.getnames()) == [".dockerignore", "app.py"]
    assert not (project / "-").exists()


def test_tar_to_stdout_redirected_to_a_file_appends_nothing_else(
    project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "redirected.tar"
    with out.open("wb") as f:
        proc = run(["context", "src", "--tar", "/dev/stdout"], project, stdout=f)
    assert proc.returncode == 0
    before = identity(out)
    with tarfile.open(out) as tar:
        assert tar.getnames() == [".dockerignore", "app.py"]
    assert identity(out) == before


def test_compile_dash_is_standard_output(project: Path) -> None:
    proc = run(["compile", "imagec.yaml", "-o", "-"], project)
    assert (proc.returncode, proc.stdout) == (0, compiled(project))
    assert not (project / "-").exists()


@pytest.mark.parametrize("command", ["compile", "tar", "tar-dir"])
def test_fifo_is_written_into(project: Path, tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    before = identity(fifo)
    argv = {
        "compile": ["compile", "imagec.yaml", "-o", str(fifo)],
        "tar": ["context", "imagec.yaml", "--tar", str(fifo)],
        "tar-dir": ["context", "src", "--tar", str(fifo)],
    }[command]
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as f:
            got.append(f.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    proc = run(argv, project)
    reader.join(TIME_LIMIT)
    assert proc.returncode == 0, proc.stderr
    assert identity(fifo) == before
    assert got and got[0]
    if command == "compile":
        assert got[0] == compiled(project)
    else:
        with tarfile.open(fileobj=io.BytesIO(got[0])) as tar:
            assert "app.py" in "\n".join(tar.getnames())


@pytest.mark.parametrize(
    ("target", "command"),
    [
        ("imagec.yaml", "compile"),
        ("requirements.txt", "compile"),
        ("imagec.yaml", "tar"),
        ("requirements.txt", "tar"),
        ("src/.dockerignore", "tar"),
        ("flow.py", "compile-py"),
    ],
)
def test_an_input_is_never_overwritten(project: Path, target: str, command: str) -> None:
    (project / "flow.py").write_text(
        "from imagec import pipeline\n\n@pipeline()\ndef train() -> None:\n    pass\n"
    )
    spec = "flow.py" if command == "compile-py" else "imagec.yaml"
    argv = (
        ["context", spec, "--tar", target] if command == "tar" else ["compile", spec, "-o", target]
    )
    before = (identity(project / target), (project / target).read_bytes())
    proc = run(argv, project)
    assert (proc.returncode, proc.stdout) == (2, b""), proc.stderr
    err = proc.stderr.decode()
    assert err.endswith(f"{target}: is an input of this command; not overwriting it\n"), err
    assert err.splitlines()[-1] == f"{target}: is an input of this command; not overwriting it"
    assert (identity(project / target), (project / target).read_bytes()) == before
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".")) == []


def test_input_named_through_a_symlink_is_refused(project: Path) -> None:
    (project / "alias.yaml").symlink_to("imagec.yaml")
    before = (project / "imagec.yaml").read_bytes()
    proc = run(["compile", "imagec.yaml", "-o", "alias.yaml"], project)
    assert proc.returncode == 2
    assert proc.stderr == b"alias.yaml: is an input of this command; not overwriting it\n"
    assert (project / "imagec.yaml").read_bytes() == before
    assert (project / "alias.yaml").is_symlink()


def test_directory_and_socket_are_refused(project: Path, tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    proc = run(["compile", "imagec.yaml", "-o", str(tmp_path / "dir")], project)
    assert (proc.returncode, proc.stderr) == (2, f"{tmp_path / 'dir'}: is a directory\n".encode())
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        before = identity(path)
        proc = run(["context", "src", "--tar", str(path)], project)
    assert proc.returncode == 2
    assert proc.stderr == f"{path}: is not a regular file, FIFO or character device\n".encode()
    assert identity(path) == before


def test_symlink_to_a_regular_file_stays_a_symlink(project: Path, tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old\n")
    real.chmod(0o640)
    (tmp_path / "link").symlink_to(real)
    proc = run(["compile", "imagec.yaml", "-o", str(tmp_path / "link")], project)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "link").is_symlink()
    assert real.read_bytes() == compiled(project)
    assert stat.S_IMODE(real.stat().st_mode) == 0o640  # the replaced file's mode is kept


def test_new_file_follows_the_umask(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "Containerfile"
    proc = run(
        ["compile", "imagec.yaml", "-o", str(out)], project, preexec_fn=lambda: os.umask(0o077)
    )
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
