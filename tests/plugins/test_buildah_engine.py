"""The example buildah backend against the real buildah: ``bash build.sh`` in an exported
directory builds an image that runs, and whose configuration matches what the built-in
Containerfile backend produces for the same spec."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support.baseimages import BaseImages
from support.containers import ImageTags, run_container
from support.engines import REQUIRE_ENGINES_ENV, Engine
from support.package_index import write_probe_wheel
from support.venvs import Venv

pytestmark = pytest.mark.engine

# Values that buildah or a shell would reinterpret if any quoting were wrong.
SPEC = """\
python_version: "3.11"
environment:
  GREETING: "it's $HOME ${X} \\"quoted\\" $$ `x` *"
labels:
  org.example.team: "ml $team"
user: app
entrypoint: ["python"]
command: ["hello.py", "two words"]
# Installed by a step that binds its requirements file (it mounts pip's cache).
requirements: ["buildah-probe==1.0"]
installer: pip
find_links: [wheels]
installer_args: ["--no-index"]
"""
HELLO = """\
import getpass, os, sys
print(os.environ["GREETING"])
print(open("data.txt").read().strip())
print(getpass.getuser(), os.getcwd(), sys.argv[1:])
print(sorted(os.listdir(".")))
import buildah_probe; print(buildah_probe.VALUE)
"""
CONFIG_KEYS = ("Env", "Entrypoint", "Cmd", "User", "WorkingDir")


@pytest.fixture
def buildah() -> str:
    path = shutil.which("buildah")
    if path is None:
        reason = "buildah is not installed; install it with `bash .ci/engines.sh` (as root)"
        if os.environ.get(REQUIRE_ENGINES_ENV) == "1":
            pytest.fail(f"{reason} ({REQUIRE_ENGINES_ENV}=1)", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "imagec.yaml").write_text(SPEC)
    (root / "hello.py").write_text(HELLO)
    (root / "data.txt").write_text("from the source\n")
    (root / "secret.txt").write_text("never in the image\n")
    (root / ".dockerignore").write_text("secret.txt\nwheels\n")
    (root / "wheels").mkdir()
    write_probe_wheel(root / "wheels", "buildah-probe")
    return root


def export(venv: Venv, project: Path, backend: str, out: Path) -> Path:
    result = venv.imagec("export", str(project), "--backend", backend, "-o", str(out))
    assert result.returncode == 0, result.stderr
    return out


def config(engine: Engine, tag: str) -> dict[str, Any]:
    return engine.docker_client().images.get(tag).attrs["Config"]


def test_build_sh_builds_a_working_image(
    buildah: str,
    plugin_venv: Venv,
    podman_engine: Engine,
    podman_images: BaseImages,
    image_tags: ImageTags,
    project: Path,
    tmp_path: Path,
):
    out = export(plugin_venv, project, "buildah", tmp_path / "out")
    tag = image_tags.new(podman_engine, "buildah")
    # From another directory: the script finds its context next to itself.
    build = run_traced(out / "build.sh", tag, cwd=tmp_path)
    assert build.returncode == 0, build.stderr
    assert not container_exists(buildah, working_container(build))  # committed with --rm

    run = run_container(podman_engine, tag)
    assert run.stdout.splitlines() == [
        'it\'s $HOME ${X} "quoted" $$ `x` *',
        "from the source",
        "app /app ['two words']",
        "['.dockerignore', 'data.txt', 'hello.py', 'imagec.yaml']",
        "buildah-probe 1.0",
    ]
    labels = podman_engine.docker_client().images.get(tag).labels
    assert labels["org.example.team"] == "ml $team"


def test_image_matches_the_containerfile_backend(
    buildah: str,
    plugin_venv: Venv,
    podman_engine: Engine,
    podman_images: BaseImages,
    image_tags: ImageTags,
    project: Path,
    tmp_path: Path,
):
    scripted = export(plugin_venv, project, "buildah", tmp_path / "buildah")
    tag = image_tags.new(podman_engine, "buildah")
    subprocess.run(["bash", "build.sh", tag], cwd=scripted, check=True, capture_output=True)

    containerfile = export(plugin_venv, project, "containerfile", tmp_path / "containerfile")
    reference = image_tags.new(podman_engine, "containerfile")
    podman_engine.client().images.build(
        path=str(containerfile), dockerfile="Dockerfile", tag=reference, rm=True
    )

    ours, theirs = config(podman_engine, tag), config(podman_engine, reference)
    assert {k: ours[k] for k in CONFIG_KEYS} == {k: theirs[k] for k in CONFIG_KEYS}
    assert ours["Labels"]["org.example.team"] == theirs["Labels"]["org.example.team"]


def test_failed_step_removes_the_working_container(
    buildah: str, podman_images: BaseImages, tmp_path: Path, buildah_plugin
):
    from imagec.plan.ir import From, Origin, Plan, Run

    plan = Plan(
        steps=(
            From(Origin("base_image"), podman_images.python),
            Run(Origin("failing step"), ("/bin/sh", "-c", "exit 3")),
        ),
        image_name="localhost/imagec-test/never-built",
    )
    (tmp_path / "build.sh").write_text(buildah_plugin.BuildahBackend().render(plan))
    result = run_traced(tmp_path / "build.sh", cwd=tmp_path)
    assert result.returncode == 3
    assert not container_exists(buildah, working_container(result))


def run_traced(script: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # bash -x prints each command as run, including the working container's name.
    return subprocess.run(
        ["bash", "-x", str(script), *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def working_container(result: subprocess.CompletedProcess[str]) -> str:
    (name,) = re.findall(r"^\+ ctr=(\S+)$", result.stderr, re.MULTILINE)
    return name


def container_exists(buildah: str, name: str) -> bool:
    probe = subprocess.run([buildah, "inspect", "--type", "container", name], capture_output=True)
    return probe.returncode == 0
