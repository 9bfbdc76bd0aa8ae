"""The install order: stack integrations, named integrations, project/lock-file dependencies,
then the user's requirements files and list, each its own cached layer."""

from __future__ import annotations

import json
from pathlib import Path

from support.cli import run_imagec

STACK = """\
name: default
components:
  orchestrator: {flavor: local}
  artifact_store: {flavor: s3, config: {path: "s3://bucket/runs"}}
  experiment_tracker: {flavor: mlflow}
"""


def project(tmp_path: Path) -> Path:
    (tmp_path / ".imagec").mkdir()
    (tmp_path / ".imagec" / "stack.yaml").write_text(STACK)
    (tmp_path / "reqs.txt").write_text("pandas>=2\n")
    spec = tmp_path / "imagec.yaml"
    spec.write_text(
        "copy_stack: false\n"
        "required_integrations: [pytorch, mlflow]\n"
        "requirements:\n  - torch==2.1.2\n  - -r reqs.txt\n  - six\n"
    )
    return spec


def test_layers_in_the_seed_order(tmp_path: Path) -> None:
    result = run_imagec("ir", str(project(tmp_path)))
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    installs = [
        step["argv"][step["argv"].index("-r") + 1].rsplit("/", 1)[1]
        for step in plan["steps"]
        if step["kind"] == "run" and "-r" in step["argv"]
    ]
    assert installs == ["1-stack.txt", "2-integrations.txt", "3-file.txt", "4-list.txt"]
    files = {f["path"].rsplit("/", 1)[1]: f["content"] for f in plan["files"]}
    # mlflow is the stack's: installed once, by the stack's layer.
    assert "mlflow<3,>=2.9" in files["1-stack.txt"] and "s3fs" in files["1-stack.txt"]
    assert "mlflow" not in files["2-integrations.txt"]
    assert "torch==2.1.2" in files["2-integrations.txt"]  # the user's pin, not the default
    assert "pandas>=2" in files["3-file.txt"]
    assert files["4-list.txt"].splitlines()[2:] == ["six", "torch==2.1.2"]
    # Each layer is its own RUN, its file bound from the context (the RUN mounts the cache
    # already) into a directory named by its digest, so a changed file changes the RUN.
    runs = [s for s in plan["steps"] if s["kind"] == "run" and "-r" in s["argv"]]
    binds = [[m for m in r["mounts"] if m["type"] == "bind"] for r in runs]
    assert [[m["source"] for m in b] for b in binds] == [
        [f"imagec/requirements/{name}"] for name in installs
    ]
    for run, (bind,) in zip(runs, binds, strict=True):
        assert run["argv"][run["argv"].index("-r") + 1] == bind["target"]
        assert bind["target"].startswith("/imagec/requirements/")
    assert not any(s["kind"] == "copy" and "requirements" in s["dest"] for s in plan["steps"])
