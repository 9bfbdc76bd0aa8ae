"""A parent Dockerfile (``dockerfile``) and ``skip_build`` at compile time: what the plan's
FROM names, what the parent's content hash covers, the errors, and the export's layout.

Regenerate the golden after an intended change with ``IMAGEC_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from imagec_containerfile import ContainerfileBackend
from support.containerfile_check import assert_round_trips

from imagec.backend.containerfile import render
from imagec.backend.engine.asis import missing_parts, requirements_of
from imagec.backend.engine.buildlog import Step
from imagec.backend.engine.parent import ParentLog, instruction_lines
from imagec.cli import main
from imagec.errors import SpecError
from imagec.plan.ir import From
from imagec.project import build_for, load_project
from imagec.resolve.parent import PARENT_BUILD_FILE, PARENT_IGNORE_FILE

HERE = Path(__file__).parent
PROJECT = HERE / "project"
GOLDEN = HERE / "golden" / "parent.Containerfile"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example project (its files are changed by the tests)."""
    monkeypatch.delenv("IMAGEC_STACK", raising=False)
    copy = tmp_path / "project"
    shutil.copytree(PROJECT, copy)
    return copy


def parent_of(spec: Path):
    loaded = load_project(str(spec))
    assert loaded.parent is not None
    return loaded


def test_compile_matches_golden(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("IMAGEC_STACK", raising=False)
    monkeypatch.chdir(HERE)
    assert main(["compile", "project/imagec.yaml"]) == 0
    out = capsys.readouterr().out
    if os.environ.get("IMAGEC_UPDATE_GOLDEN"):
        GOLDEN.write_text(out)
    assert out == GOLDEN.read_text()


def test_from_names_the_parent_by_content_and_reads_back(project: Path) -> None:
    loaded = parent_of(project / "imagec.yaml")
    parent = loaded.parent
    first = loaded.plan.steps[0]
    assert isinstance(first, From)
    assert first.image == parent.ref == f"example/app-parent:{parent.content_hash[:16]}"
    assert first.origin.field == "dockerfile" and first.origin.line == 3
    text = render(loaded.plan, comments=True)
    assert_round_trips(loaded.plan, text)


def test_parent_hash_covers_dockerfile_context_and_options(project: Path) -> None:
    spec = project / "imagec.yaml"
    base = parent_of(spec).parent.content_hash

    def changed(edit) -> str:
        edit()
        return parent_of(spec).parent.content_hash

    # A file its .dockerignore leaves out is not part of it.
    assert changed(lambda: (project / "docker" / "ignored.txt").write_text("other\n")) == base
    # A project file outside its context neither.
    assert changed(lambda: (project / "notes.txt").write_text("x\n")) == base
    hashes = {base}
    for edit in (
        lambda: (project / "docker" / "marker.txt").write_text("changed\n"),
        lambda: (project / "docker" / "new.txt").write_text("new\n"),
        lambda: (project / "docker" / "Dockerfile").write_text(
            (project / "docker" / "Dockerfile").read_text() + "RUN true\n"
        ),
        lambda: spec.write_text(spec.read_text().replace("GREETING: hi", "GREETING: ho")),
        lambda: spec.write_text(spec.read_text().replace("target: runtime", "target: base")),
        lambda: (project / "docker" / ".dockerignore").write_text("ignored.txt\nnew.txt\n"),
    ):
        new = changed(edit)
        assert new not in hashes
        hashes.add(new)


def test_imagec_plan_changes_with_the_parent(project: Path) -> None:
    """The image built on the parent gets a new content hash when the parent's does."""
    spec = project / "imagec.yaml"
    before = parent_of(spec).plan.digest()
    (project / "docker" / "marker.txt").write_text("changed\n")
    assert parent_of(spec).plan.digest() != before


def test_parent_context_sent(project: Path) -> None:
    parent = parent_of(project / "imagec.yaml").parent
    (project / "docker" / ".imagec").mkdir()
    (project / "docker" / ".imagec" / "stack.yaml").write_text("x: 1\n")
    names = sorted(e.path for e in parent.entries())
    assert names == [".dockerignore", "Dockerfile", "marker.txt"]
    assert sorted(parent.extra_files()) == [PARENT_BUILD_FILE, PARENT_IGNORE_FILE]


def test_short_form_and_context_default(project: Path) -> None:
    spec = project / "imagec.yaml"
    spec.write_text("image_name: example/app\ndockerfile: docker/Dockerfile\n")
    parent = parent_of(spec).parent
    assert parent.context == project / "docker"
    assert parent.build_args == () and parent.target is None


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        (
            "dockerfile: docker/Nope\n",
            "imagec.yaml:1:13: dockerfile: 'docker/Nope' not found",
        ),
        (
            "dockerfile: {path: docker}\n",
            "imagec.yaml:1:20: dockerfile.path: 'docker' is not a file",
        ),
        (
            "base_image: python:3.11-slim\ndockerfile: docker/Dockerfile\n",
            "imagec.yaml:2:13: dockerfile: the Dockerfile's FROM names the base; remove "
            "base_image (or dockerfile)",
        ),
        (
            "dockerfile: {path: docker/Dockerfile, context: nope}\n",
            "imagec.yaml:1:48: dockerfile.context: 'nope' does not exist",
        ),
        (
            "dockerfile: {path: docker/Dockerfile, target: '-x'}\n",
            "imagec.yaml:1:47: dockerfile.target: invalid stage name '-x'",
        ),
        (
            "skip_build: true\n",
            "imagec.yaml:1:13: skip_build: names no image to use as it is; set base_image",
        ),
        (
            "base_image: python:3.11-slim\nskip_build: true\ndockerfile: docker/Dockerfile\n",
            "imagec.yaml:2:13: skip_build: a Dockerfile is built; remove dockerfile or skip_build",
        ),
        (
            "base_image: python:3.11-slim\nskip_build: true\nenvironment: {A: '1'}\n",
            "imagec.yaml:3:14: environment: needs a build, and skip_build uses the image as it is",
        ),
    ],
)
def test_errors_are_one_line_naming_the_field(project: Path, spec: str, error: str) -> None:
    (project / "imagec.yaml").write_text(spec)
    proc = subprocess.run(
        [sys.executable, "-m", "imagec", "compile", "imagec.yaml"],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "IMAGEC_STACK": ""},
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(error), proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stdout == ""


def test_outside_the_project_is_refused(tmp_path: Path, project: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "Dockerfile").write_text("FROM scratch\n")
    (project / "imagec.yaml").write_text(f"dockerfile: {elsewhere / 'Dockerfile'}\n")
    with pytest.raises(Exception, match="outside the project"):
        load_project(str(project / "imagec.yaml"))


def test_context_file_named_like_imagecs_build_file_is_an_error(project: Path) -> None:
    (project / "docker" / PARENT_BUILD_FILE).write_text("FROM scratch\n")
    with pytest.raises(Exception, match="rename it"):
        load_project(str(project / "imagec.yaml"))


def test_instruction_lines() -> None:
    text = (
        "# syntax=docker/dockerfile:1\n"
        "# a comment\n"
        "FROM a AS b\n"
        "\n"
        "RUN one \\\n"
        "  # inside\n"
        "  two\n"
        "COPY x /x\n"
    )
    assert instruction_lines(text) == [3, 5, 8]
    assert instruction_lines("# escape=`\nFROM a\nRUN a `\n  b\nUSER x\n") == [2, 3, 5]


def test_export_writes_both_builds(project: Path, tmp_path: Path) -> None:
    loaded = parent_of(project / "imagec.yaml")
    backend = ContainerfileBackend()
    out = tmp_path / "out"
    backend.export(build_for(loaded, backend), out)
    parent = loaded.parent
    assert (out / "parent.Dockerfile").read_text() == (project / "docker/Dockerfile").read_text()
    assert (out / "parent.Dockerfile.dockerignore").read_text() == "ignored.txt\n"
    assert sorted(p.name for p in (out / "parent").iterdir()) == [
        ".dockerignore",
        "Dockerfile",
        "marker.txt",
    ]
    assert (out / "Dockerfile").read_text().count(f"FROM {parent.ref}") == 1
    script = (out / "build.sh").read_text()
    assert stat.S_IMODE((out / "build.sh").stat().st_mode) & 0o100
    assert (
        f'"$engine" build -f parent.Dockerfile --build-arg GREETING=hi --target runtime '
        f'-t {parent.ref} "$@" parent\n"$engine" build -f Dockerfile -t example/app "$@" .\n'
    ) in script
    readme = (out / "README.md").read_text()
    assert "docker build -f parent.Dockerfile --build-arg GREETING=hi --target runtime" in readme
    assert (out / ".dockerignore").read_text().splitlines()[0] == "/parent"


def test_skip_build_plan_is_the_image_with_its_requirements(project: Path) -> None:
    (project / "imagec.yaml").write_text(
        "base_image: python:3.11-slim\nskip_build: true\n"
        "requirements: ['numpy>=1.20', 'pandas', 'tzdata; python_version < \"3\"']\n"
    )
    loaded = load_project(str(project / "imagec.yaml"))
    assert [s.kind for s in loaded.plan.steps] == ["from"]
    backend = ContainerfileBackend()
    build = build_for(loaded, backend)
    reqs = requirements_of(build)
    assert [str(r) for r in reqs] == ["numpy>=1.20", "pandas"]  # a marker: not judged here
    found = {"python": "3.11.2", "dists": {"numpy": "1.19.0", "pandas": None}, "imagec": None}
    missing, _ = missing_parts(build, found, reqs)
    assert missing == ["numpy>=1.20: the image has numpy 1.19.0", "pandas: not installed"]
    missing, _ = missing_parts(build, {"python": None}, reqs)
    assert missing == ["Python: no `python` or `python3` on PATH"]


def test_failing_step_found_by_its_instruction(project: Path) -> None:
    """Engines number steps their own way; the Dockerfile line is found by the text."""
    parent = parent_of(project / "imagec.yaml").parent
    log = ParentLog(lambda kind, value: None, parent)
    # The example's RUN spans two lines; docker shows its first, podman all of it.
    docker = Step(5, 7, 'RUN echo "$GREETING" > /opt/parent/greeting.txt \\')
    podman = Step(4, 6, 'RUN echo "$GREETING" > /opt/parent/greeting.txt     && echo done')
    assert log.origin_of(docker) == log.origin_of(podman) == "docker/Dockerfile:5"
    assert log.origin_of(Step(9, 9, "run echo runtime > /opt/parent/stage.txt")) == (
        "docker/Dockerfile:9"
    )
    assert log.origin_of(Step(2, 9, "LABEL a=b")) is None


def test_dockerfile_symlinked_outside_the_project_is_refused(tmp_path: Path, project: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("FROM scratch\n# not the project's\n")
    (project / "docker" / "Dockerfile").unlink()
    (project / "docker" / "Dockerfile").symlink_to(outside)
    with pytest.raises(Exception, match="outside the project"):
        load_project(str(project / "imagec.yaml"))


def test_skip_build_exports_nothing(project: Path, tmp_path: Path) -> None:
    (project / "imagec.yaml").write_text("base_image: python:3.11-slim\nskip_build: true\n")
    loaded = load_project(str(project / "imagec.yaml"))
    backend = ContainerfileBackend()
    with pytest.raises(SpecError, match="skip_build: nothing is built"):
        backend.export(build_for(loaded, backend), tmp_path / "out")
    assert not (tmp_path / "out").exists()
