"""IR: ordering, provenance, JSON round-trip, and lowering checked by BuildKit's parser."""

from __future__ import annotations

import json
from pathlib import Path

import dockerfile

from imagec.backend.containerfile import render
from imagec.model.validate import validate_spec
from imagec.plan.compiler import plan
from imagec.plan.ir import Copy, Env, From, Origin, Plan, Run, Workdir
from imagec.resolve.inputs import Inputs, RequirementsSource
from imagec.spec.document import Document
from imagec.spec.loaders import load_yaml

SPEC = """\
base_image: python:3.11-slim
requirements: [numpy>=1.26]
apt_packages: [curl]
environment: {A: "1"}
labels: {team: ml}
build_args: {SHA: dev}
user: app
entrypoint: ["python", "-m", "app"]
"""


def _plan(tmp_path: Path, text: str = SPEC) -> Plan:
    spec_file = tmp_path / "imagec.yaml"
    spec_file.write_text(text)
    doc = load_yaml(spec_file)
    spec = validate_spec(doc)
    inputs = Inputs(
        source_root=tmp_path,
        ignore_file=None,
        requirements=(
            RequirementsSource(
                "1-list.txt", Origin("requirements", "imagec.yaml", 2), "numpy>=1.26\n"
            ),
        ),
        apt_packages=tuple(spec.apt_packages),
    )
    return plan(spec, doc, inputs)


def test_ir_round_trips_through_json(tmp_path: Path) -> None:
    p = _plan(tmp_path)
    text = p.to_json()
    assert Plan.from_json(text) == p
    assert Plan.from_json(text).to_json() == text
    assert json.loads(text)["steps"][0] == {
        "kind": "from",
        "origin": {"field": "base_image", "file": "imagec.yaml", "line": 1},
        "image": "python:3.11-slim",
        "platform": None,
    }


def test_steps_are_ordered_for_layer_reuse(tmp_path: Path) -> None:
    steps = _plan(tmp_path).steps
    kinds = [type(s) for s in steps]
    assert kinds[0] is From
    apt = next(i for i, s in enumerate(steps) if isinstance(s, Run) and "apt-get" in s.argv[-1])
    install = next(i for i, s in enumerate(steps) if isinstance(s, Run) and "-r" in s.argv)
    source = next(i for i, s in enumerate(steps) if isinstance(s, Copy) and s.sources == ("src/",))
    assert apt < install < source
    # The user and WORKDIR depend on no install: made before the installs, so a requirement
    # change reruns neither. Between the last install and the source copy: nothing.
    user = next(i for i, s in enumerate(steps) if isinstance(s, Run) and "useradd" in s.argv[-1])
    workdir = next(i for i, s in enumerate(steps) if isinstance(s, Workdir))
    assert apt < user < workdir < install
    assert source == install + 1
    env = [s for s in steps if isinstance(s, Env)]
    assert ("PIP_NO_CACHE_DIR", "1") in env[0].pairs  # with the defaults, not a layer of its own


def test_workdir_stays_after_build_steps_that_run_after_the_requirements(tmp_path: Path) -> None:
    """Such a step runs in the base image's working directory, as documented: WORKDIR waits."""
    steps = _plan(tmp_path, SPEC + "build_steps: [touch here]\n").steps
    install = next(i for i, s in enumerate(steps) if isinstance(s, Run) and "-r" in s.argv)
    step = next(i for i, s in enumerate(steps) if isinstance(s, Run) and "touch" in s.argv[-1])
    workdir = next(i for i, s in enumerate(steps) if isinstance(s, Workdir))
    user = next(i for i, s in enumerate(steps) if isinstance(s, Run) and "useradd" in s.argv[-1])
    assert user < install < step < workdir


def test_provenance_points_at_the_spec_line(tmp_path: Path) -> None:
    steps = _plan(tmp_path).steps
    env = [s for s in steps if isinstance(s, Env) and s.origin.field == "environment"]
    assert env[0].origin == Origin("environment", "imagec.yaml", 4)


def test_lowering_matches_buildkit_parse(tmp_path: Path) -> None:
    p = _plan(tmp_path)
    parsed = dockerfile.parse_string(render(p))
    assert [c.cmd.lower() for c in parsed] == [s.kind for s in p.steps]
    for cmd, step in zip(parsed, p.steps, strict=True):
        if isinstance(step, Run):
            assert cmd.json and cmd.value == step.argv


def test_lowering_is_deterministic(tmp_path: Path) -> None:
    assert render(_plan(tmp_path)) == render(_plan(tmp_path))


def test_every_step_has_an_origin_comment(tmp_path: Path) -> None:
    text = render(_plan(tmp_path))
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert lines[i - 1].startswith("# "), line


def test_plan_digest_changes_with_content(tmp_path: Path) -> None:
    a = _plan(tmp_path)
    b = _plan(tmp_path, SPEC.replace("curl", "git"))
    assert a.digest() == _plan(tmp_path).digest()
    assert a.digest() != b.digest()


def test_document_where_falls_back_to_parent() -> None:
    doc = Document(Path("x.yaml"), {}, {("a",): (3, 4)})
    assert doc.where(("a", 2, "b")) == (3, 4)
    assert doc.where(("z",)) == (None, None)


def test_source_directory_records_its_rule_outside_the_digest(tmp_path: Path) -> None:
    (tmp_path / "imagec.yaml").write_text(SPEC)
    doc = load_yaml(tmp_path / "imagec.yaml")
    spec = validate_spec(doc)
    rule = "imagec repository at /somewhere (.imagec/)"
    ruled = plan(spec, doc, Inputs(source_root=tmp_path, ignore_file=None, source_rule=rule))
    text = ruled.to_json()
    assert [d["rule"] for d in json.loads(text)["dirs"]] == [rule]
    assert Plan.from_json(text) == ruled
    assert Plan.from_json(text).to_json() == text
    # Why the root is that directory changes no byte of what is built.
    unruled = plan(spec, doc, Inputs(source_root=tmp_path, ignore_file=None))
    assert unruled.dirs[0].rule is None
    assert ruled.digest() == unruled.digest()
    # A plan written before the field existed still reads, without a rule.
    older = json.loads(unruled.to_json())
    del older["dirs"][0]["rule"]
    assert Plan.from_dict(older) == unruled
