"""Real project layouts: a run file followed to its pipeline, packages run by module."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagec.project import load_project

STARTER = Path(__file__).parents[2] / "examples" / "starter"


@pytest.mark.parametrize("import_module", [False, True])
@pytest.mark.parametrize("target", ["run.py", "pipelines/training.py"])
def test_starter_layout_static_and_import_agree(target: str, import_module: bool) -> None:
    project = load_project(str(STARTER / target), import_module=import_module)
    assert project.doc.pipeline == "training"
    assert project.source_root == STARTER
    assert project.plan.to_json().count('"pipelines.training:training"') == 1


def test_import_outside_the_source_root_is_an_error(tmp_path: Path, monkeypatch) -> None:
    from imagec.errors import SpecError

    (tmp_path / "pipelines").mkdir()
    (tmp_path / "steps").mkdir()
    (tmp_path / "steps" / "__init__.py").write_text("")
    (tmp_path / "steps" / "train.py").write_text("def t(): pass\n")
    (tmp_path / "pipelines" / "training.py").write_text(
        "from imagec import pipeline\nfrom steps.train import t\n\n"
        "@pipeline()\ndef training(): t()\n"
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError) as info:
        load_project("pipelines/training.py")
    assert str(info.value) == (
        "pipelines/training.py:2: 'steps.train' is not in the image: source root is pipelines/"
    )
