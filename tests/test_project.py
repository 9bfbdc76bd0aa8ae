"""The whole flow for one spec: requirement sources, the stack, the runtime, provenance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imagec.backend.containerfile import render
from imagec.errors import SpecError
from imagec.plan.ir import Cmd, Copy, Entrypoint, Env, Label, Run
from imagec.project import load_project
from imagec.resolve.stack import init_repository
from imagec.runtime.buildinfo import BUILD_INFO


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_three_requirement_sources_combine_in_a_fixed_order(tmp_path: Path) -> None:
    _write(tmp_path / "reqs" / "base.txt", "numpy>=1.26\n")
    spec = _write(
        tmp_path / "imagec.yaml",
        "required_integrations: [sklearn]\nrequirements:\n  - pandas>=2\n  - -r reqs/base.txt\n",
    )
    project = load_project(str(spec))
    files = {f.path: f.content for f in project.plan.files}
    names = [p for p in files if p.startswith("imagec/requirements/")]
    assert names == [
        "imagec/requirements/1-integrations.txt",
        "imagec/requirements/2-file.txt",
        "imagec/requirements/3-list.txt",
    ]
    assert "scikit-learn" in files[names[0]]
    assert "numpy>=1.26" in files[names[1]]
    assert "pandas>=2" in files[names[2]]
    installs = [s for s in project.plan.steps if isinstance(s, Run) and "-r" in s.argv]
    assert [s.argv[-1].rsplit("/", 1)[1] for s in installs] == [
        "1-integrations.txt",
        "2-file.txt",
        "3-list.txt",
    ]


def test_conflicting_pins_across_sources_are_reported(tmp_path: Path) -> None:
    # An integration's range is a default the user's pin replaces; two user sources that
    # contradict each other are an error.
    _write(tmp_path / "reqs.txt", "torch==1.13.1\n")
    spec = _write(
        tmp_path / "imagec.yaml",
        "required_integrations: [pytorch]\nrequirements: ['torch==1.12.0', '-r reqs.txt']\n",
    )
    with pytest.raises(SpecError) as info:
        load_project(str(spec))
    assert "torch" in str(info.value) and "reqs.txt:1" in str(info.value)


def test_missing_requirements_file_points_at_the_spec(tmp_path: Path) -> None:
    spec = _write(tmp_path / "imagec.yaml", "requirements: nope.txt\n")
    with pytest.raises(SpecError) as info:
        load_project(str(spec))
    assert str(info.value).startswith(f"{spec}:1:15: ")


def test_unknown_integration_has_a_location_and_a_hint(tmp_path: Path) -> None:
    spec = _write(tmp_path / "imagec.yaml", "required_integrations:\n  - pytorh\n")
    with pytest.raises(SpecError) as info:
        load_project(str(spec))
    message = str(info.value)
    assert message.startswith(f"{spec}:2:5: required_integrations[0]: ")
    assert "did you mean 'pytorch'?" in message


def test_stack_is_copied_and_its_integrations_installed(tmp_path: Path) -> None:
    init_repository(tmp_path)
    _write(
        tmp_path / ".imagec" / "stack.yaml",
        "name: tracking\ncomponents:\n  orchestrator: {flavor: local}\n"
        "  artifact_store: {flavor: local, config: {path: /tmp/artifacts}}\n"
        "  experiment_tracker: {flavor: mlflow, config: {tracking_uri: 'http://mlflow:5000'}}\n",
    )
    spec = _write(tmp_path / "pipelines" / "imagec.yaml", "requirements: [six]\n")
    project = load_project(str(spec))
    assert project.source_root == tmp_path.absolute()
    files = {f.path: f.content for f in project.plan.files}
    assert "mlflow" in files["imagec/requirements/1-stack.txt"]
    assert "experiment_tracker" in files["imagec/stack/stack.yaml"]
    copies = [s for s in project.plan.steps if isinstance(s, Copy)]
    assert any(s.dest == "/etc/imagec/stack.yaml" for s in copies)
    envs = [p for s in project.plan.steps if isinstance(s, Env) for p in s.pairs]
    assert ("IMAGEC_CONFIG_DIR", "/etc/imagec") in envs


def test_stack_copy_and_stack_requirements_can_be_turned_off(tmp_path: Path) -> None:
    init_repository(tmp_path)
    spec = _write(
        tmp_path / "imagec.yaml", "copy_stack: false\ninstall_stack_requirements: false\n"
    )
    text = render(load_project(str(spec)).plan)
    assert "/etc/imagec/stack.yaml" not in text and "1-stack.txt" not in text


def test_provenance_is_embedded_last(tmp_path: Path) -> None:
    spec = _write(tmp_path / "imagec.yaml", "labels: {team: ml}\ncommand: [python, x.py]\n")
    plan = load_project(str(spec)).plan
    kinds = [type(s) for s in plan.steps]
    assert kinds[-1] is Cmd and kinds[-2] is Label
    label = dict(plan.steps[-2].pairs)
    assert label["team"] == "ml" and label["dev.imagec.version"]
    info = json.loads(next(f.content for f in plan.files if f.path == "imagec/build.json"))
    assert info["ir_digest"] == label["dev.imagec.ir-digest"]
    assert info["spec"] == {"labels": {"team": "ml"}, "command": ["python", "x.py"]}
    assert any(isinstance(s, Copy) and s.dest == BUILD_INFO for s in plan.steps)


def test_decorated_pipeline_runs_by_default(tmp_path: Path) -> None:
    source = _write(
        tmp_path / "flows" / "train.py",
        "from imagec import pipeline\n\n"
        "@pipeline(requirements=['six'])\ndef train():\n    print('hi')\n",
    )
    plan = load_project(str(source)).plan
    entry = [s for s in plan.steps if isinstance(s, Entrypoint)]
    cmd = [s for s in plan.steps if isinstance(s, Cmd)]
    assert entry[0].argv == ("python", "-m", "imagec.runtime")
    assert cmd[0].argv == ("train.py:train",)


def test_runtime_is_installed_from_a_wheel_of_this_installation(tmp_path: Path) -> None:
    spec = _write(tmp_path / "imagec.yaml", "requirements: [six]\n")
    plan = load_project(str(spec)).plan
    wheel = next(f for f in plan.files if f.generator == "imagec-wheel")
    runtime = [s for s in plan.steps if isinstance(s, Run) and "--no-deps" in s.argv]
    assert runtime[0].argv[-1] == "/imagec/runtime/" + wheel.path.rsplit("/", 1)[1]
    first_requirements = next(
        i for i, s in enumerate(plan.steps) if isinstance(s, Run) and "-r" in s.argv
    )
    assert plan.steps.index(runtime[0]) < first_requirements


def test_moving_a_field_to_another_line_keeps_the_ir_digest(tmp_path: Path) -> None:
    a = _write(tmp_path / "a" / "p" / "imagec.yaml", "user: app\nrequirements: [six]\n")
    b = _write(
        tmp_path / "b" / "p" / "imagec.yaml", "# a comment\nrequirements: [six]\nuser: app\n"
    )
    plan_a, plan_b = load_project(str(a)).plan, load_project(str(b)).plan
    assert plan_a.steps != plan_b.steps  # the origins differ...
    assert plan_a.digest() == plan_b.digest()  # ...what gets built does not
