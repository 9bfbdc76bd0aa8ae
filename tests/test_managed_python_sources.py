"""Where the managed Python comes from, compiled: uv's download variables as build args, or as
build secrets that only the download step reads (with a netrc secret for an authenticated
mirror); a credential in a build arg is refused. Built for real in
``tests/engines/test_managed_python.py``."""

from __future__ import annotations

import json
from pathlib import Path

from support.cli import run_imagec
from support.containerfile_check import assert_round_trips

from imagec.backend.containerfile import render
from imagec.plan.ir import Mount, Run
from imagec.project import load_project

BASE = {
    "image_name": "example/managed",
    "base_image": "debian:bookworm-slim",
    "python_version": "3.12",
    "managed_python": True,
    "copy_stack": False,
    "install_stack_requirements": False,
}


def _project(tmp_path: Path, **fields: object):
    root = tmp_path / "project"
    root.mkdir(exist_ok=True)
    (root / "app.py").write_text("print('hi')\n")
    spec = root / "imagec.json"
    spec.write_text(json.dumps({**BASE, **fields}))
    return spec, load_project(str(spec))


def _download_step(project) -> Run:
    return next(s for s in project.plan.steps if isinstance(s, Run) and "uv python" in s.argv[2])


def test_without_secrets_the_download_step_mounts_nothing(tmp_path: Path) -> None:
    _, project = _project(tmp_path, build_args={"UV_PYTHON_INSTALL_MIRROR": "https://m/pbs"})
    step = _download_step(project)
    assert step.mounts == ()
    assert step.argv[2].startswith("set -e; export UV_PYTHON_INSTALL_DIR=/opt/imagec/python; ")
    text = render(project.plan)
    assert "ARG UV_PYTHON_INSTALL_MIRROR=" in text  # a build arg: in every RUN's environment
    assert_round_trips(project.plan, text)


def test_download_secrets_reach_the_download_step_only_as_its_environment(
    tmp_path: Path,
) -> None:
    _, project = _project(
        tmp_path,
        secrets=[
            {"id": "pbs_mirror", "env": "UV_PYTHON_INSTALL_MIRROR"},
            {"id": "pbs_list", "env": "UV_PYTHON_DOWNLOADS_JSON_URL"},
            {"id": "netrc", "kind": "netrc"},
            {"id": "hf_token"},  # a build step's: not the download's
        ],
        build_steps=[{"run": "echo weights", "secrets": ["hf_token"]}],
    )
    step = _download_step(project)
    assert step.mounts == (
        Mount("secret", id="pbs_mirror"),
        Mount("secret", id="pbs_list"),
        Mount("secret", target="/root/.netrc", id="netrc"),
    )
    assert step.argv[2].startswith(
        'set -e; UV_PYTHON_INSTALL_MIRROR="$(cat /run/secrets/pbs_mirror)"; '
        "export UV_PYTHON_INSTALL_MIRROR; "
        'UV_PYTHON_DOWNLOADS_JSON_URL="$(cat /run/secrets/pbs_list)"; '
        "export UV_PYTHON_DOWNLOADS_JSON_URL; export UV_PYTHON_INSTALL_DIR="
    )
    assert "hf_token" not in json.dumps([m.id for m in step.mounts])
    text = render(project.plan)
    assert "RUN --mount=type=secret,id=pbs_mirror --mount=type=secret,id=pbs_list " in text
    assert_round_trips(project.plan, text)


def test_a_netrc_claimed_by_a_build_step_stays_that_steps(tmp_path: Path) -> None:
    _, project = _project(
        tmp_path,
        secrets=[{"id": "netrc", "kind": "netrc"}],
        build_steps=[{"run": "echo fetch", "secrets": ["netrc"]}],
    )
    assert _download_step(project).mounts == ()


def test_a_credential_in_a_download_build_arg_is_refused_naming_the_secret_way(
    tmp_path: Path,
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    spec = root / "imagec.yaml"
    spec.write_text(
        "image_name: example/managed\nmanaged_python: true\nbase_image: debian:bookworm-slim\n"
        "build_args:\n  UV_PYTHON_DOWNLOADS_JSON_URL: https://ci:s3cr3tT0ken@m.example/pbs.json\n"
    )
    result = run_imagec("compile", str(spec))
    assert result.returncode == 2, result.stderr
    line = result.stderr.strip()
    assert line.startswith(f"{spec}:5:") or "imagec.yaml:5:" in line, line
    assert "build_args.UV_PYTHON_DOWNLOADS_JSON_URL" in line and "secrets:" in line
    assert "s3cr3tT0ken" not in result.stderr and result.stdout == ""
