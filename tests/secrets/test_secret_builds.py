"""Private indexes without leaks: real builds on both engines against a real package index on
loopback (basic auth), credentials passed as build secrets. The install works, and no byte of
the credential is in the saved image, its history, its inspect output or the build log."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
from support.baseimages import BaseImages
from support.builds import build_tagged
from support.cli import cli_env, run_imagec
from support.containers import TEST_REPOSITORY, run_container
from support.engines import Engine
from support.package_index import PackageIndex, write_probe_wheel
from support.projects import INSTALL_ONLY
from support.uv_wheel import NoUvWheel
from support.uv_wheel import uv_wheel as support_uv_wheel

pytestmark = pytest.mark.engine


def write_spec(directory: Path, *, requirements: list[str], extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    spec = directory / "imagec.yaml"
    spec.write_text(
        f"image_name: {TEST_REPOSITORY}/secrets-{uuid.uuid4().hex[:8]}\n"
        "base_image: python:3.11-slim\n"
        "installer: pip\n" + INSTALL_ONLY + "index_url: ${PIP_INDEX_URL}\n"
        "secrets:\n"
        "  - id: pip_index\n"
        "    env: PIP_INDEX_URL\n"
        "    description: the private index URL, with its credentials\n"
        f"requirements: {json.dumps(requirements)}\n" + extra
    )
    return spec


# Names of this session's own: the engines' stores outlive a session, and a secret's content
# is not part of a layer's cache key, so a name built before would come from the layer cache.
RUN_ID = uuid.uuid4().hex[:8]
PROBE_A, PROBE_B, PROBE_C = (f"probe-{x}-{RUN_ID}" for x in "abc")


def module(project: str) -> str:
    return project.replace("-", "_")


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory):
    wheels = tmp_path_factory.mktemp("wheels")
    write_probe_wheel(wheels, PROBE_A)
    write_probe_wheel(wheels, PROBE_B)
    with PackageIndex(wheels, user="ci", password=f"tok{uuid.uuid4().hex}") as served:
        yield served


def image_bytes(engine: Engine, ref: str, tmp: Path) -> bytes:
    if engine.kind == "docker":
        return b"".join(engine.docker_client().images.get(ref).save())
    target = tmp / "image.tar"
    proc = subprocess.run(
        ["podman", "save", "-o", str(target), ref],
        env=engine.cli_env(),
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return target.read_bytes()


def history_and_inspect(engine: Engine, ref: str) -> str:
    image = engine.docker_client().images.get(ref)
    return json.dumps(image.history()) + json.dumps(image.attrs)


def test_private_index_install_leaves_no_credential(
    engine: Engine, engine_images: BaseImages, index: PackageIndex, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path / "project", requirements=[PROBE_A])
    secret = tmp_path / "index-url"
    secret.write_text(index.auth_url)
    index.reset()
    result, tag = build_tagged(engine, str(spec), "--secret", f"id=pip_index,src={secret}")
    assert f"{module(PROBE_A)}-1.0-py3-none-any.whl" in index.downloads()

    code = f"import {module(PROBE_A)} as m; print(m.VALUE)"
    ran = run_container(engine, tag, ["python", "-c", code])
    assert ran.stdout.strip() == f"{PROBE_A} 1.0"

    password = index.password.encode()
    assert password not in image_bytes(engine, tag, tmp_path)
    assert index.password not in history_and_inspect(engine, tag)
    assert index.password not in result.stdout + result.stderr
    assert index.auth_url not in result.stdout + result.stderr
    compiled = run_imagec("compile", str(spec))
    assert compiled.returncode == 0 and "--mount=type=secret,id=pip_index" in compiled.stdout


def test_env_secret_is_read_from_the_environment(
    engine: Engine, engine_images: BaseImages, index: PackageIndex, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path / "project", requirements=[PROBE_B])
    env = cli_env({"MY_INDEX": index.auth_url})
    _, tag = build_tagged(engine, str(spec), "--secret", "id=pip_index,env=MY_INDEX", env=env)
    assert index.password not in history_and_inspect(engine, tag)
    assert index.password.encode() not in image_bytes(engine, tag, tmp_path)


def test_missing_secret_fails_before_the_engine(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "project", requirements=["probe-a"])
    # No engine listens there: reaching it would be a different error.
    result = run_imagec(
        "build", str(spec), "--backend", "podman", "--url", f"unix://{tmp_path}/none.sock"
    )
    assert result.returncode == 2
    assert "secret 'pip_index' (the private index URL, with its credentials) is not supplied" in (
        result.stderr
    )
    assert "--secret id=pip_index,src=FILE" in result.stderr


def test_undeclared_secret_is_refused(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "project", requirements=["probe-a"])
    secret = tmp_path / "s"
    secret.write_text("x")
    result = run_imagec(
        "build", str(spec), "--backend", "podman", "--url", f"unix://{tmp_path}/none.sock",
        "--secret", f"id=pip_index,src={secret}", "--secret", f"id=other,src={secret}",
    )  # fmt: skip
    assert result.returncode == 2
    assert "--secret id=other: the spec declares no such secret (declared: pip_index)" in (
        result.stderr
    )


@pytest.fixture(scope="module")
def uv_wheel() -> Path:
    try:
        return support_uv_wheel()
    except NoUvWheel as e:
        pytest.skip(str(e))


def test_uv_installs_from_the_private_index(
    engine: Engine, engine_images: BaseImages, uv_wheel: Path, tmp_path: Path
) -> None:
    import shutil

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_probe_wheel(wheels, PROBE_C)
    shutil.copy2(uv_wheel, wheels / uv_wheel.name)
    password = f"tok{uuid.uuid4().hex}"
    with PackageIndex(wheels, password=password) as index:
        spec = write_spec(tmp_path / "project", requirements=[PROBE_C])
        spec.write_text(spec.read_text().replace("installer: pip", "installer: uv"))
        secret = tmp_path / "index-url"
        secret.write_text(index.auth_url)
        result, tag = build_tagged(engine, str(spec), "--secret", f"id=pip_index,src={secret}")
        assert f"{module(PROBE_C)}-1.0-py3-none-any.whl" in index.downloads()
    code = f"import {module(PROBE_C)} as m; print(m.VALUE)"
    ran = run_container(engine, tag, ["python", "-c", code])
    assert ran.stdout.strip() == f"{PROBE_C} 1.0"
    assert password not in history_and_inspect(engine, tag)
    assert password not in result.stdout + result.stderr
