"""Lock files built into images on both engines: four locks made by their real tools (uv,
poetry, pipenv, uv's PEP 751 export) in one spec, installed by pip and by uv from a real index
on loopback behind basic auth (its URL a build secret), and ``pip list`` in the image less
the base image's is exactly what the locks pin (and uv itself, when it installs)."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
from support.baseimages import BaseImages
from support.builds import build_tagged
from support.containers import TEST_REPOSITORY, run_container
from support.engines import Engine
from support.projects import INSTALL_ONLY
from support.uv_wheel import NoUvWheel, uv_wheel

from imagec.plan.compiler import UV_REQUIREMENT
from lockfiles.projects import (
    locked_pins,
    make_pipenv_project,
    make_poetry_project,
    make_pylock,
    make_uv_project,
)

pytestmark = pytest.mark.engine

BASE = "python:3.11-slim"
PIP_LIST = ["python", "-m", "pip", "list", "--format=json", "--disable-pip-version-check"]


def installed(engine: Engine, image: str) -> dict[str, str]:
    ran = run_container(engine, image, PIP_LIST, entrypoint=[])
    return {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(ran.stdout)}


@pytest.fixture(scope="module")
def project(probes, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The spec's directory and the pins of its four locks (made once, built on each engine
    with each installer)."""
    index, names = probes
    root = tmp_path_factory.mktemp("lock-build")
    locks = [
        make_uv_project(root / "uv", names["uv"], index.url),
        make_poetry_project(root / "poetry", names["poetry"], index.url),
        make_pipenv_project(root / "pipenv", names["pipenv"], index.port),
        make_pylock(root / "pylock", names["pylock"], index.url),
    ]
    expected: dict[str, str] = {}
    for lock in locks:
        expected.update({name: pin[0] for name, pin in locked_pins(lock).items()})
    (root / "spec.yaml").write_text(
        f"image_name: {TEST_REPOSITORY}/lockfiles-{uuid.uuid4().hex[:8]}-INSTALLER\n"
        f"base_image: {BASE}\n"
        "installer: INSTALLER\n" + INSTALL_ONLY + "index_url: ${PIP_INDEX_URL}\n"
        "secrets: [{id: pip_index, env: PIP_INDEX_URL}]\n"
        "lock_files:\n" + "".join(f"  - {lock.relative_to(root)}\n" for lock in locks)
    )
    (root / "index-url").write_text(index.auth_url)
    # uv installs from the spec's index like any requirement.
    try:
        wheel = uv_wheel()
    except NoUvWheel as exc:
        pytest.skip(str(exc))
    shutil.copy2(wheel, index.wheels / wheel.name)
    return root, expected


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_image_holds_exactly_the_locked_pins(
    engine: Engine, engine_images: BaseImages, project: tuple[Path, dict], probes, installer: str
) -> None:
    root, expected = project
    index, _ = probes
    spec = root / f"imagec-{installer}.yaml"
    spec.write_text((root / "spec.yaml").read_text().replace("INSTALLER", installer))
    assert len(expected) == 8  # top and dep of each of the four locks
    secret = f"id=pip_index,src={spec.parent / 'index-url'}"
    result, tag = build_tagged(engine, spec, "--secret", secret)

    base = installed(engine, BASE)
    image = installed(engine, tag)
    added = {name: version for name, version in image.items() if base.get(name) != version}
    if installer == "uv":
        assert added.pop("uv") == UV_REQUIREMENT.split("==")[1]
    assert added == expected
    assert f"{index.user}:{index.password}@" not in result.stdout + result.stderr
