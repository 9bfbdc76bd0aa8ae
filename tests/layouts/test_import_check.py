"""The import check judges a local module as the build does: in the image exactly when the
context walk sends its file, and importable exactly when the image's command searches its
directory. (Its messages are pinned in tests/fixtures/invalid.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from imagec.context.selection import select_context
from imagec.errors import SpecError
from imagec.project import load_project

EXAMPLES = Path(__file__).parents[2] / "examples"
PIPELINE = (
    "from imagec import pipeline\nfrom steps.train import train\n\n\n"
    "@pipeline()\ndef training() -> None:\n    train()\n"
)


def project_with_ignore(root: Path, ignore: str) -> Path:
    (root / "steps").mkdir(parents=True)
    (root / "steps" / "__init__.py").write_text("")
    (root / "steps" / "train.py").write_text("def train() -> None: ...\n")
    (root / "pipeline.py").write_text(PIPELINE)
    (root / ".dockerignore").write_text(ignore)
    return root / "pipeline.py"


@pytest.mark.parametrize(
    "ignore",
    [
        "steps\n",
        "steps/\n",
        "steps/train.py\n",
        "**/train.py\n",
        "*/train*\n",
        "steps\n!steps/train.py\n",
        "steps\n!steps/*.py\n",
        "steps\n!steps\n",
        "*\n!pipeline.py\n!steps/train.py\n",
        "*\n!pipeline.py\n!steps\n",
        "**/*.py\n!pipeline.py\n",
        "**/*.py\n!pipeline.py\n!steps/__init__.py\n!steps/train.py\n",
        "train.py\n",
        # Judged with the parent's results, as the walk does: a later `!steps` does not bring
        # back a file an earlier pattern excluded (patternmatcher's MatchesOrParentMatches
        # alone would say it is sent).
        "**/train.py\n!steps\n",
        "steps/train.py\n!steps\n",
        "steps/*\n!steps\n",
        "**\n!pipeline.py\n!steps\n",
        "step?/train.pyc\n",
    ],
)
def test_excluded_exactly_when_the_context_leaves_it_out(tmp_path: Path, ignore: str) -> None:
    pipeline = project_with_ignore(tmp_path, ignore)
    # The oracle: the context walk that makes the build context.
    sent = "steps/train.py" in select_context(tmp_path).leaf_listing()
    if sent:
        load_project(str(pipeline))
    else:
        with pytest.raises(SpecError) as info:
            load_project(str(pipeline))
        assert "'steps.train' is excluded from the image by " in str(info.value)


def src_layout_in_a_repository(tmp_path: Path) -> tuple[Path, Path]:
    """The src/ layout below an imagec repository's root, its pipeline in a file whose name is
    no module name (``score-pipeline.py``): the image can only run it by path."""
    root = Path(shutil.copytree(EXAMPLES / "src-layout", tmp_path / "proj"))
    (root / ".imagec").mkdir()
    pipeline = root / "src" / "churn" / "score-pipeline.py"
    (root / "src" / "churn" / "pipeline.py").rename(pipeline)
    return root, pipeline


def test_src_package_run_by_path_below_a_repository_root_is_not_importable(
    tmp_path: Path,
) -> None:
    # Run by path, sys.path holds src/churn/ and the workdir but not src/, so
    # `import churn.features` would fail in the container.
    root, pipeline = src_layout_in_a_repository(tmp_path)
    with pytest.raises(SpecError) as info:
        load_project(str(pipeline))
    assert str(info.value) == (
        f"{pipeline}:5: 'churn.features' is not importable in the image: it imports from "
        f"{root / 'src'}/, which the image's command does not search"
    )


def test_src_package_below_a_repository_root_is_imported_from_src(tmp_path: Path) -> None:
    # Importable by module from src/, the image runs it so (`--path src`): nothing to refuse.
    root, pipeline = src_layout_in_a_repository(tmp_path)
    pipeline.rename(pipeline.with_name("pipeline.py"))
    project = load_project(str(pipeline.with_name("pipeline.py")))
    assert project.source_root == root


def test_requirement_that_installs_the_package_makes_it_importable(tmp_path: Path) -> None:
    root, pipeline = src_layout_in_a_repository(tmp_path)
    text = pipeline.read_text().replace('@pipeline(python_version="3.11")', "@pipeline()")
    pipeline.write_text(text.replace("@pipeline()", '@pipeline(requirements=["churn"])'))
    assert load_project(str(pipeline)).source_root == root


def test_guarded_import_of_a_missing_module_is_a_hint(tmp_path: Path, capsys) -> None:
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "steps").mkdir()
    (tmp_path / "steps" / "extra.py").write_text("")
    (tmp_path / "pipelines" / "training.py").write_text(
        "from imagec import pipeline\n\ntry:\n    import steps.extra\nexcept ImportError:\n"
        "    pass\n\n\n@pipeline()\ndef training() -> None: ...\n"
    )
    load_project(str(tmp_path / "pipelines" / "training.py"))
    err = capsys.readouterr().err
    assert "training.py:4: 'steps.extra' is not in the image: source root is " in err
    assert err.startswith("imagec: hint: ")
