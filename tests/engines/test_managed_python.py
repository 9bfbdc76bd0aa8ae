"""The managed Python (``managed_python: true``) built for real on both engines, on a base
without Python (the test engines' ``nopython`` Debian), from a mirror on loopback.

The machine reaches neither GitHub (python-build-standalone's releases) nor ghcr.io (uv's
image), so ``support.python_mirror`` supplies both: the uv image under its official name, made
of the same uv version's binaries from the Python package index, and a **stand-in**
python-build-standalone install_only archive of CPython 3.12 made from pyenv's CPython build
(no reachable registry redistributes python-build-standalone builds; see that module). uv
installs it as it would a genuine one: downloaded through ``UV_PYTHON_INSTALL_MIRROR``, checked
against the sha256 in the downloads list named by ``UV_PYTHON_DOWNLOADS_JSON_URL``, extracted,
its sysconfig data rewritten to where it was installed. Both are ordinary build args; the
mirror answers only with basic auth, which uv takes from the build's netrc secret (the same one
pip uses for the test index), so no credential is in a build arg or the image.

Python 3.12 is not the base images' Python (Debian's 3.11), so the version the image reports is
the managed one's.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.baseimages import BaseImages
from support.builds import build_tagged
from support.containers import TEST_REPOSITORY, run_container
from support.engines import Engine
from support.package_index import PackageIndex, write_probe_wheel
from support.python_mirror import PythonMirror, ensure_uv_image, standin_archive

import imagec
from imagec.plan.ir import From
from imagec.plan.python import MANAGED_DIR
from imagec.project import load_project

pytestmark = pytest.mark.engine

PIPELINE = '''\
"""A decorated pipeline on a Debian base without Python: uv installs the managed Python."""

import platform
import sqlite3

from imagec import pipeline


@pipeline(
    base_image="{base}",
    image_name="{name}",
    python_version="3.12",
    managed_python=True,
    build_args={build_args},
    installer="pip",
    index_url="{index}",
    secrets=[{{"id": "netrc", "kind": "netrc"}}],
    requirements=["{probe}"],
    copy_stack=False,
    install_stack_requirements=False,
)
def hello() -> None:
    import {module}

    print("{greeting}", platform.python_version(), {module}.VALUE, sqlite3.sqlite_version_info[0])
'''


def steps(log: str) -> list[tuple[str, bool]]:
    """(instruction, came from the cache) for each step of a build log (both engines write
    ``STEP n/m: ...`` or ``Step n/m : ...``, then ``Using cache`` for a cached one)."""
    found: list[tuple[str, bool]] = []
    for line in log.splitlines():
        head = line.split(":", 1)
        if line.startswith(("Step ", "STEP ")) and len(head) == 2:
            found.append((head[1].strip(), False))
        elif "Using cache" in line and found:
            found[-1] = (found[-1][0], True)
    return found


PASSWORD = f"tok{uuid.uuid4().hex}"


def imagec_source() -> str:
    """A digest of imagec's own source, whose wheel the image gets (``install_imagec``)."""
    root = Path(imagec.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(f"{path.relative_to(root)}\0".encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def mirror() -> Iterator[PythonMirror]:
    """A mirror behind basic auth: the netrc secret authenticates it, as it does the index."""
    with PythonMirror(standin_archive(), user="ci", password=PASSWORD) as served:
        yield served


def _write(root: Path, greeting: str, **fields: str) -> Path:
    spec = root / "pipeline.py"
    spec.write_text(PIPELINE.format(greeting=greeting, **fields))
    return spec


def test_managed_python_on_a_base_without_python_runs_a_pipeline_and_is_reused(
    engine: Engine, engine_images: BaseImages, mirror: PythonMirror, tmp_path: Path
) -> None:
    ensure_uv_image(engine)
    archive = mirror.archive
    probe = f"probe-managed-{uuid.uuid4().hex[:8]}"
    module = probe.replace("-", "_")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_probe_wheel(wheels, probe)
    password = PASSWORD
    # One netrc for both (a netrc names hosts, not ports): uv reads it for the download,
    # pip for the index.
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login ci password {password}\n")
    root = tmp_path / "project"
    root.mkdir()
    build_args = {
        "UV_PYTHON_INSTALL_MIRROR": mirror.url,
        "UV_PYTHON_DOWNLOADS_JSON_URL": mirror.downloads_json_url,
    }
    with PackageIndex(wheels, user="ci", password=password) as index:
        fields = {
            "base": engine_images.nopython,
            "name": f"{TEST_REPOSITORY}/managed-{uuid.uuid4().hex[:8]}",
            "build_args": json.dumps(build_args),
            "index": index.url,
            "probe": probe,
            "module": module,
        }
        spec = _write(root, "pipeline ran on", **fields)
        secret = ("--secret", f"id=netrc,src={netrc}")
        source_before = imagec_source()
        first, tag = build_tagged(engine, spec, *secret)
        assert first.stdout.startswith("built: "), first.stdout
        # pip of the managed Python installed the requirement, from the index (after uv).
        assert f"{module}-1.0-py3-none-any.whl" in index.downloads()
        assert mirror.archive_downloads() == 1
        assert mirror.served("/download-metadata.json")

        # The same spec again: the same image, found up to date (or, when the fingerprint
        # record cannot vouch for files written within the build's first moments, built
        # again wholly from the engine's cache), and nothing downloaded.
        again, again_tag = build_tagged(engine, spec, *secret)
        if imagec_source() == source_before:
            assert again_tag == tag
            if not again.stdout.startswith("up to date: "):
                assert all(cached for _, cached in steps(again.stderr)), again.stderr[-3000:]
        else:  # imagec's wheel is in the image: an edit to its source meanwhile is a change
            managed = [cached for step, cached in steps(again.stderr) if "uv python" in step]
            assert managed == [True], again.stderr[-3000:]
        assert mirror.archive_downloads() == 1

        ran = run_container(engine, tag)
        assert ran.stdout == f"pipeline ran on {archive.version} {probe} 1.0 3\n"

        installed = f"{MANAGED_DIR}/{archive.key}"
        script = (
            'python --version; python3 --version; readlink -f "$(command -v python)"; '
            "python -c 'import sys, sysconfig, "
            f'{module}; print(sys.prefix); print(sysconfig.get_config_var("prefix")); '
            f"print({module}.__file__)'; python -m pip --version"
        )
        lines = run_container(engine, tag, ["-c", script], entrypoint=["sh"]).stdout.split("\n")
        assert lines[0] == lines[1] == f"Python {archive.version}"
        assert lines[2] == f"{installed}/bin/python3.12"
        # uv rewrote python-build-standalone's /install build prefix to where it installed.
        assert lines[3] == lines[4] == installed
        assert lines[5].startswith(f"{installed}/lib/python3.12/site-packages/{module}")
        assert lines[6].startswith("pip ") and f"{installed}/lib/python3.12" in lines[6]

        # The password of the index and the mirror reached neither the image nor its history.
        image = engine.docker_client().images.get(tag)
        assert password not in str(image.history()) + str(image.attrs)

        # A change after the managed Python: its layer comes from the engine's cache.
        spec = _write(root, "pipeline changed, on", **fields)
        changed, changed_tag = build_tagged(engine, spec, *secret)
        assert changed.stdout.startswith("built: ") and changed_tag != tag
        managed = [cached for step, cached in steps(changed.stderr) if "uv python" in step]
        assert managed == [True], changed.stderr[-3000:]
    assert mirror.archive_downloads() == 1
    ran = run_container(engine, changed_tag)
    assert ran.stdout == f"pipeline changed, on {archive.version} {probe} 1.0 3\n"


def test_cuda_in_one_line_builds_on_a_stand_in_cuda_base(
    engine: Engine, engine_images: BaseImages, mirror: PythonMirror, tmp_path: Path
) -> None:
    """``cuda: "12.4"`` picks NVIDIA's runtime image, which has no Python, and installs the
    managed Python on it. NVIDIA's image cannot be pulled here: the test engines' Debian base
    without Python stands in for it under its name (a Debian, not Ubuntu, root filesystem; no
    CUDA libraries, no GPU), so what is built is imagec's part: FROM that name, uv, Python."""
    ensure_uv_image(engine)
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login ci password {PASSWORD}\n")
    root = tmp_path / "project"
    root.mkdir()
    spec = root / "imagec.json"
    fields = {
        "image_name": f"{TEST_REPOSITORY}/cuda-{uuid.uuid4().hex[:8]}",
        "cuda": "12.4",
        "python_version": "3.12",
        "copy_stack": False,
        "install_stack_requirements": False,
        "install_imagec": False,
        "copy_source": False,
        "secrets": [{"id": "netrc", "kind": "netrc"}],
        "build_args": {
            "UV_PYTHON_INSTALL_MIRROR": mirror.url,
            "UV_PYTHON_DOWNLOADS_JSON_URL": mirror.downloads_json_url,
        },
    }
    spec.write_text(json.dumps(fields))
    base = load_project(str(spec)).plan.steps[0]
    assert isinstance(base, From) and base.image.startswith("nvidia/cuda:12.4.")
    # podman names an unqualified image in full, as it does python:3.11-slim.
    local = base.image if engine.kind == "docker" else f"docker.io/{base.image}"
    repo, _, version = local.rpartition(":")
    engine.docker_client().images.get(engine_images.nopython).tag(repo, version)
    engine.keep_until_stop(local)

    _, tag = build_tagged(engine, spec, "--secret", f"id=netrc,src={netrc}")
    assert mirror.archive_downloads() == 1
    script = "python --version; python3 -m pip --version"
    lines = run_container(engine, tag, ["-c", script], entrypoint=["sh"]).stdout.split("\n")
    assert lines[0] == f"Python {mirror.archive.version}"
    assert lines[1].startswith("pip ") and f"{MANAGED_DIR}/" in lines[1]
