"""The installer cache mount with pip on both engines: the image sets ``PIP_NO_CACHE_DIR`` before
the install steps (no layer of its own after them), and pip's install steps still use the
mounted cache because they name it with ``--cache-dir``. A rebuild after adding one
requirement fetches only that one wheel from the index."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from support.baseimages import BaseImages
from support.builds import build_tagged
from support.engines import Engine
from support.package_index import PackageIndex, write_probe_wheel
from support.projects import INSTALL_ONLY

pytestmark = pytest.mark.engine

# Names of this session's own, so no earlier session's layer or cache holds them.
RUN_ID = uuid.uuid4().hex[:8]


def write_spec(directory: Path, requirements: list[str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    spec = directory / "imagec.yaml"
    spec.write_text(
        "image_name: imagec-test/pip-cache\n"
        "base_image: python:3.11-slim\n"
        "installer: pip\n" + INSTALL_ONLY + "index_url: ${PIP_INDEX_URL}\n"
        "secrets: [{id: pip_index, env: PIP_INDEX_URL}]\n"
        # pip keeps its HTTP cache for HTTPS indexes and trusted hosts only.
        'installer_args: ["--trusted-host", "127.0.0.1"]\n'
        f"requirements: {requirements}\n"
    )
    return spec


def wheel(project: str) -> str:
    return f"{project.replace('-', '_')}-1.0-py3-none-any.whl"


def test_pip_rebuild_after_adding_a_requirement_fetches_only_the_new_wheel(
    engine: Engine, engine_images: BaseImages, tmp_path: Path
) -> None:
    first, second = (f"cache-{engine.kind}-{RUN_ID}-{x}" for x in "ab")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for name in (first, second):
        write_probe_wheel(wheels, name)
    with PackageIndex(wheels, password=f"tok{uuid.uuid4().hex}") as index:
        secret = tmp_path / "index-url"
        secret.write_text(index.auth_url)
        spec = write_spec(tmp_path / "project", [first])
        build_tagged(engine, spec, "--secret", f"id=pip_index,src={secret}")
        assert set(index.downloads()) == {wheel(first)}

        index.reset()
        write_spec(tmp_path / "project", [first, second])
        _, tag = build_tagged(engine, spec, "--secret", f"id=pip_index,src={secret}")
        assert set(index.downloads()) == {wheel(second)}  # the first from the cache
    config = engine.docker_client().images.get(tag).attrs["Config"]
    assert "PIP_NO_CACHE_DIR=1" in config["Env"]  # the image's own pip caches nothing
