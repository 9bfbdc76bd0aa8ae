"""Reading a pipeline statically and importing it (``--import``) give the same project, for
every Python file under examples/ that is a pipeline or leads to one (a run file): the same
pipeline, source root and rule, default command, and the same image (plan digest)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from imagec.errors import SpecError
from imagec.project import Project, load_project
from imagec.spec.imports import find_module
from imagec.spec.reader import read_document

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"


def pipeline_files() -> list[str]:
    """Every example file ``imagec compile FILE.py`` accepts as a pipeline, found statically."""
    found = []
    for path in sorted(EXAMPLES.rglob("*.py")):
        if "plugins" in path.relative_to(EXAMPLES).parts:
            continue  # examples/plugins/ holds a backend distribution, not pipelines
        try:
            read_document(str(path))
        except SpecError:
            continue  # a module of a project, not a pipeline
        found.append(path.relative_to(ROOT).as_posix())
    return found


PIPELINES = pipeline_files()


def test_every_layout_is_covered() -> None:
    # The discovery itself must find the layouts; an empty list would make the test vacuous.
    assert set(PIPELINES) >= {
        "examples/pipeline/pipeline.py",
        "examples/single-file/report.py",
        "examples/src-layout/src/churn/pipeline.py",
        "examples/starter/pipelines/training.py",
        "examples/starter/run.py",
    }


def what_matters(project: Project) -> dict[str, object]:
    commands = {s.kind: list(s.argv) for s in project.plan.steps if s.kind in ("entrypoint", "cmd")}
    return {
        "pipeline": project.doc.pipeline,
        "pipeline file": project.doc.path.absolute(),
        "source root": project.source_root,
        "rule": project.root_rule,
        "command": commands,
        "plan digest": project.plan.digest(),
    }


@pytest.mark.parametrize("target", PIPELINES)
def test_static_and_import_modes_agree(target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("IMAGEC_STACK", raising=False)
    static = what_matters(load_project(target))
    try:
        imported = what_matters(load_project(target, import_module=True))
    except SpecError as e:
        # --import runs the file, so its third-party imports must be installed here
        # (examples/pipeline needs pandas, torch, evidently); a local one must never be missing.
        missing = re.search(r"No module named '([\w.]+)'", str(e))
        if missing is None or find_module(missing.group(1), [static["source root"]]):
            raise
        pytest.skip(f"--import needs {missing.group(1)}, not installed in the test environment")
    assert imported == static
    assert static["command"]["cmd"][0].endswith(f":{static['pipeline']}")


def test_modes_agree_on_a_src_layout_below_a_repository_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The repository's root is the source root; both modes run the package from src/.
    project = Path(shutil.copytree(EXAMPLES / "src-layout", tmp_path / "proj"))
    (project / ".imagec").mkdir()
    monkeypatch.chdir(project)
    monkeypatch.delenv("IMAGEC_STACK", raising=False)
    monkeypatch.delenv("IMAGEC_CEILING_DIRECTORIES", raising=False)
    static = what_matters(load_project("src/churn/pipeline.py"))
    assert what_matters(load_project("src/churn/pipeline.py", import_module=True)) == static
    assert static["source root"] == project
    assert static["command"] == {
        "entrypoint": ["python", "-m", "imagec.runtime", "--path", "src"],
        "cmd": ["churn.pipeline:score"],
    }
