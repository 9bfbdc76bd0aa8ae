"""Exports and tarballs written into the project they are made from.

An export or ``--tar`` target inside the source root is left out of the context (with the
scratch files made while writing it), so a second run gives the same result as the first and
never walks into its own output; ``--force`` never deletes a directory holding the spec, the
source root, the working directory or a repository. The real CLI runs in a child process under
a time limit.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest
from support.limited_run import imagec, write_project

from tests.hostile.test_paths import snapshot


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose source root is the project directory itself, with a git repository."""
    return write_project(
        tmp_path / "proj",
        {
            "pkg/app.py": "print('hi')\n",
            "imagec.yaml": "source_root: .\n",
            ".git/HEAD": "ref: refs/heads/main\n",
        },
    )


def exported_sources(out: Path) -> list[str]:
    return sorted(p.relative_to(out / "src").as_posix() for p in (out / "src").rglob("*"))


@pytest.mark.parametrize("target", ["build", "out/build", "pkg/build"])
def test_export_inside_the_source_root_leaves_itself_out(project: Path, target: str) -> None:
    (project / target).parent.mkdir(parents=True, exist_ok=True)
    first = imagec(["export", "imagec.yaml", "-o", target], project)
    assert first.returncode == 0, first.stderr
    listing = exported_sources(project / target)
    assert not any(target in p for p in listing), listing
    second = imagec(["export", "imagec.yaml", "-o", target, "--force"], project)
    assert second.returncode == 0, second.stderr
    assert exported_sources(project / target) == listing  # the first export is not sent
    assert not [p for p in (project / target).parent.iterdir() if p.name.startswith(".build")]


def test_tar_inside_the_source_root_leaves_itself_out(project: Path) -> None:
    for argv in (["context", "imagec.yaml"], ["context", "."]):
        names = []
        for _ in range(2):  # the second run finds the first tarball in the tree
            proc = imagec([*argv, "--tar", "ctx.tar"], project)
            assert proc.returncode == 0, proc.stderr
            with tarfile.open(project / "ctx.tar") as tar:
                names.append(tar.getnames())
        assert names[0] == names[1]
        assert not any(n.endswith("ctx.tar") or ".ctx.tar." in n for n in names[0]), names[0]


def test_tar_to_stdout_matches_tar_to_a_file_in_the_tree(project: Path) -> None:
    proc = imagec(["context", ".", "--tar", "-"], project, text=False)
    assert proc.returncode == 0, proc.stderr
    piped = proc.stdout
    assert imagec(["context", ".", "--tar", "ctx.tar"], project).returncode == 0
    assert (project / "ctx.tar").read_bytes() == piped
    with tarfile.open(fileobj=io.BytesIO(piped)) as tar:
        assert "pkg/app.py" in tar.getnames()


@pytest.mark.parametrize(
    ("target", "cwd", "what"),
    [
        (".", ".", "the spec"),
        ("..", ".", "the spec"),
        ("pkg", ".", "the working directory"),
        ("proj", "..", "the spec"),
        ("/", ".", "the spec"),
    ],
)
def test_force_never_deletes_the_project(project: Path, target: str, cwd: str, what: str) -> None:
    where = (project / cwd).resolve()
    spec = os.path.relpath(project / "imagec.yaml", where)
    if target == "pkg":
        where = project / "pkg"
        spec = "../imagec.yaml"
        target = "."
    before = snapshot(project.parent)
    proc = imagec(["export", spec, "-o", target, "--force"], where)
    assert (proc.returncode, proc.stdout) == (2, ""), proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"{target}: --force would delete {what} ("), proc.stderr
    assert proc.stderr.endswith("; choose another output directory\n")
    assert snapshot(project.parent) == before


def test_force_never_deletes_a_source_root_elsewhere(tmp_path: Path, project: Path) -> None:
    (project / "imagec.yaml").write_text("source_root: pkg\n")
    before = snapshot(project)
    proc = imagec(["export", "imagec.yaml", "-o", "pkg", "--force"], project)
    assert proc.returncode == 2
    assert proc.stderr.startswith("pkg: --force would delete the source root (")
    assert snapshot(project) == before


def test_force_never_deletes_a_repository(tmp_path: Path, project: Path) -> None:
    other = tmp_path / "other"
    (other / ".git").mkdir(parents=True)
    (other / "notes.txt").write_text("mine\n")
    before = snapshot(other)
    proc = imagec(["export", "imagec.yaml", "-o", str(other), "--force"], project)
    assert proc.returncode == 2
    assert proc.stderr == (
        f"{other}: --force would delete a repository (it holds .git or .imagec); "
        "choose another output directory\n"
    )
    assert snapshot(other) == before


def test_force_still_replaces_an_earlier_export(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert imagec(["export", "imagec.yaml", "-o", str(out)], project).returncode == 0
    (out / "stale.txt").write_text("x\n")
    assert imagec(["export", "imagec.yaml", "-o", str(out), "--force"], project).returncode == 0
    assert not (out / "stale.txt").exists()
