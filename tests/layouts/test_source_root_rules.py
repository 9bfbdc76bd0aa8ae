"""Each source-root rule (docs/image.md, "Which directory is the source root"), first match
wins: an explicit source_root, an imagec repository, a package's import root (or a src/
layout's src/), the directory of the file named. Each is shown on the examples where one
applies, and on a copy changed just enough to bring the rule before it into play."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from imagec.project import Project, load_project

EXAMPLES = Path(__file__).parents[2] / "examples"


def command_of(project: Project) -> list[str]:
    """The image's default CMD (what ``python -m imagec.runtime`` is given)."""
    (cmd,) = [s for s in project.plan.steps if s.kind == "cmd"]
    return list(cmd.argv)


@pytest.fixture
def copy(tmp_path: Path):
    def make(example: str) -> Path:
        return Path(shutil.copytree(EXAMPLES / example, tmp_path / example))

    return make


@pytest.fixture(autouse=True)
def _no_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMAGEC_CEILING_DIRECTORIES", raising=False)


# Rule 4: the directory of the file named.


def test_single_file_project_is_its_own_directory() -> None:
    project = load_project(str(EXAMPLES / "single-file" / "report.py"))
    assert project.source_root == EXAMPLES / "single-file"
    assert project.root_rule == "directory of report.py, the file named"
    assert command_of(project) == ["report.py:report"]


def test_run_file_roots_at_its_own_directory() -> None:
    project = load_project(str(EXAMPLES / "starter" / "run.py"))
    assert project.source_root == EXAMPLES / "starter"
    assert project.root_rule == "directory of run.py, the file named"
    assert command_of(project) == ["pipelines.training:training"]


# Rule 3: a package's import root; a src/ layout's src/.


def test_pipeline_in_a_package_roots_at_the_import_root() -> None:
    project = load_project(str(EXAMPLES / "starter" / "pipelines" / "training.py"))
    assert project.source_root == EXAMPLES / "starter"
    assert project.root_rule == "import root of package pipelines"
    assert command_of(project) == ["pipelines.training:training"]


def test_src_layout_package_roots_at_src() -> None:
    project = load_project(str(EXAMPLES / "src-layout" / "src" / "churn" / "pipeline.py"))
    assert project.source_root == EXAMPLES / "src-layout" / "src"
    assert project.root_rule == "import root of package churn"
    assert command_of(project) == ["churn.pipeline:score"]


def test_src_layout_namespace_package_roots_at_src(copy) -> None:
    # Without __init__.py, churn is a namespace package: src/ next to pyproject.toml decides.
    root = copy("src-layout")
    (root / "src" / "churn" / "__init__.py").unlink()
    project = load_project(str(root / "src" / "churn" / "pipeline.py"))
    assert project.source_root == root / "src"
    assert project.root_rule == f"src/ layout of {root}"
    assert command_of(project) == ["churn.pipeline:score"]


def test_src_without_a_project_file_is_no_layout(copy) -> None:
    # No pyproject.toml: src/ is an ordinary directory, so the file's own directory is the
    # root, and the import check sees that churn.features would not import in the image.
    from imagec.errors import SpecError
    from imagec.resolve.source_root import detect_source_root

    root = copy("src-layout")
    (root / "src" / "churn" / "__init__.py").unlink()
    (root / "pyproject.toml").unlink()
    pipeline = root / "src" / "churn" / "pipeline.py"
    found = detect_source_root(pipeline.parent, python_file=pipeline)
    assert (found.path, found.rule) == (root / "src" / "churn", "directory of the spec file")
    with pytest.raises(SpecError) as info:
        load_project(str(pipeline))
    assert str(info.value) == (
        f"{pipeline}:5: 'churn.features' is not in the image: source root is {pipeline.parent}/"
    )


# Rule 2: an imagec repository wins over the package rule.


def test_repository_wins_over_the_import_root(copy) -> None:
    root = copy("starter")
    (root / ".imagec").mkdir()
    project = load_project(str(root / "pipelines" / "training.py"))
    assert project.source_root == root
    assert project.root_rule == f"imagec repository at {root} (.imagec/)"
    assert command_of(project) == ["pipelines.training:training"]


def test_repository_above_a_single_file(copy) -> None:
    root = copy("single-file")
    (root / "reports").mkdir()
    shutil.move(root / "report.py", root / "reports" / "report.py")
    (root / ".imagec").mkdir()
    project = load_project(str(root / "reports" / "report.py"))
    assert project.source_root == root
    assert project.root_rule.startswith("imagec repository at ")
    assert command_of(project) == ["reports/report.py:report"]


@pytest.mark.parametrize(
    ("layout", "pipeline", "command", "below"),
    [
        # A src/ layout: the package imports from src/, below the repository's root.
        ("src-layout", "src/churn/pipeline.py", "churn.pipeline:score", "src"),
        # The same without __init__.py: a namespace package, src/ next to pyproject.toml.
        ("src-namespace", "src/churn/pipeline.py", "churn.pipeline:score", "src"),
        # Any package whose import root is below the repository's root.
        ("starter", "app/pipelines/training.py", "pipelines.training:training", "app"),
    ],
)
def test_repository_above_an_import_root_runs_the_package_from_there(
    copy, layout: str, pipeline: str, command: str, below: str
) -> None:
    root = copy("src-layout" if layout == "src-namespace" else layout)
    if layout == "src-namespace":
        (root / "src" / "churn" / "__init__.py").unlink()
    if layout == "starter":  # the starter project one directory down, in app/
        shutil.move(root, root.parent / "app")
        root.mkdir()
        shutil.move(root.parent / "app", root / "app")
    (root / ".imagec").mkdir()
    project = load_project(str(root / pipeline))
    assert project.source_root == root
    assert command_of(project) == [command]
    (entrypoint,) = [s for s in project.plan.steps if s.kind == "entrypoint"]
    assert entrypoint.argv == ("python", "-m", "imagec.runtime", "--path", below)
    # The plan says which rule chose the source root (what `imagec ir` prints as JSON).
    (source,) = project.plan.dirs
    assert (source.root, source.rule) == (str(root), f"imagec repository at {root} (.imagec/)")
    # The command runs here as in the image, from the source root (the image's workdir), and
    # prints what the pipeline prints when imported from its import root.
    ran = subprocess.run(
        [sys.executable, *entrypoint.argv[1:], command], cwd=root, capture_output=True, text=True
    )
    module, _, name = command.partition(":")
    expected = subprocess.run(
        [sys.executable, "-c", f"from {module} import {name}; {name}()"],
        cwd=root / below,
        capture_output=True,
        text=True,
        check=True,
    )
    assert (ran.returncode, ran.stdout) == (0, expected.stdout), ran.stderr
    assert expected.stdout.strip()


# Rule 1: an explicit source_root wins over everything.


def test_explicit_source_root_wins_over_repository_and_package(copy) -> None:
    root = copy("starter")
    (root / ".imagec").mkdir()
    training = root / "pipelines" / "training.py"
    # A pipeline that imports nothing local, rooted at its own directory on purpose.
    training.write_text(
        "from imagec import pipeline\n\n\n"
        '@pipeline(python_version="3.11", source_root=".")\n'
        "def training() -> None:\n    print('ok')\n"
    )
    project = load_project(str(training))
    assert project.source_root == root / "pipelines"
    assert project.root_rule == "source_root in the spec"
    assert command_of(project) == ["training.py:training"]


def test_explicit_source_root_in_a_spec_file(tmp_path: Path) -> None:
    (tmp_path / ".imagec").mkdir()
    (tmp_path / "app").mkdir()
    (tmp_path / "imagec.yaml").write_text('python_version: "3.11"\nsource_root: app\n')
    project = load_project(str(tmp_path / "imagec.yaml"))
    assert project.source_root == tmp_path / "app"
    assert project.root_rule == "source_root in the spec"
