"""The seed's combined example, built on both engines against a real package index on
loopback: the integrations' defaults give way to the user's pin, and the image has it.

The index serves small probe wheels named like the real projects (``torch`` 1.12.0 and 2.1.0,
``torchvision``, ``evidently``) and the pinned uv's wheel, so the default installer is
bootstrapped from the same index and nothing is fetched from elsewhere."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from support.baseimages import BaseImages
from support.builds import build_tagged
from support.containers import TEST_REPOSITORY, run_container
from support.engines import Engine, cache_dir
from support.package_index import PackageIndex, write_probe_wheel

from imagec.plan.compiler import UV_REQUIREMENT

pytestmark = pytest.mark.engine

# A value of this session's own in the environment, before the install steps: the engines'
# stores outlive a session, and a secret's content is not part of a layer's cache key.
RUN_ID = uuid.uuid4().hex[:8]

SEED = """\
from imagec import pipeline
from imagec.integrations.constants import EVIDENTLY, PYTORCH


@pipeline(
    required_integrations=[PYTORCH, EVIDENTLY],
    requirements=["torch==1.12.0", "torchvision"],
    image_name="{image}",
    base_image="python:3.11-slim",
    install_imagec=False,
    copy_source=False,
    command=["python", "-c", "pass"],
    environment={{"SEED_RUN": "{run}"}},
    index_url="${{PIP_INDEX_URL}}",
    secrets=[{{"id": "pip_index", "env": "PIP_INDEX_URL"}}],
)
def train():
    pass
"""


def uv_wheel() -> Path:
    found = sorted((cache_dir() / "uv-wheel" / UV_REQUIREMENT.replace("==", "-")).glob("*.whl"))
    if not found:
        pytest.skip(f"no {UV_REQUIREMENT} wheel in the test cache (tests/secrets downloads it)")
    return found[0]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory):
    wheels = tmp_path_factory.mktemp("wheels")
    for project, version in [
        ("torch", "1.12.0"),
        ("torch", "2.1.0"),
        ("torchvision", "0.13.0"),
        ("evidently", "0.4.16"),
    ]:
        write_probe_wheel(wheels, project, version)
    shutil.copy2(uv_wheel(), wheels)
    with PackageIndex(wheels, user="ci", password=f"tok{uuid.uuid4().hex}") as served:
        yield served


def test_the_seed_example_installs_the_users_pin(
    engine: Engine, engine_images: BaseImages, index: PackageIndex, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    image = f"{TEST_REPOSITORY}/seed-{RUN_ID}"
    (project / "train.py").write_text(SEED.format(image=image, run=f"{RUN_ID}-{engine.kind}"))
    secret = tmp_path / "index-url"
    secret.write_text(index.auth_url)
    index.reset()
    _, tag = build_tagged(
        engine, str(project / "train.py"), "--secret", f"id=pip_index,src={secret}"
    )

    code = (
        "import importlib.metadata as md, torch, torchvision, evidently; "
        "print(torch.VALUE, md.version('torchvision'), md.version('evidently'))"
    )
    ran = run_container(engine, tag, ["python", "-c", code])
    assert ran.stdout.strip() == "torch 1.12.0 0.13.0 0.4.16"
    downloads = index.downloads()
    # The integration's default (torch>=2.0,<3) was never fetched: the user's pin replaced it.
    assert "torch-1.12.0-py3-none-any.whl" in downloads
    assert "torch-2.1.0-py3-none-any.whl" not in downloads
    # The default installer came from the same index.
    assert any(name.startswith("uv-") for name in downloads)


def test_an_index_for_just_one_source(
    engine: Engine, engine_images: BaseImages, index: PackageIndex, tmp_path: Path
) -> None:
    """The `torch --index-url .../cpu` pattern: a requirements file with its own index (behind
    its own credential, a `${NAME}` the build secret fills) installs its packages from there,
    while the rest come from the spec's index, with uv, the default installer."""
    cpu_wheels = tmp_path / "cpu-wheels"
    cpu_wheels.mkdir()
    write_probe_wheel(cpu_wheels, "torch", "2.1.0+cpu")
    with PackageIndex(cpu_wheels, user="cpu", password=f"cpu{uuid.uuid4().hex}") as cpu:
        project = tmp_path / "project"
        project.mkdir()
        (project / "cpu.txt").write_text(
            f"--index-url http://cpu:${{CPU_TOKEN}}@127.0.0.1:{cpu.port}/simple\ntorch==2.1.0+cpu\n"
        )
        (project / "imagec.yaml").write_text(
            f"image_name: {TEST_REPOSITORY}/cpu-{RUN_ID}\n"
            "base_image: python:3.11-slim\ninstall_imagec: false\ncopy_source: false\n"
            f"environment: {{SEED_RUN: {RUN_ID}-{engine.kind}-cpu}}\n"
            "index_url: ${PIP_INDEX_URL}\n"
            "secrets:\n  - {id: pip_index, env: PIP_INDEX_URL}\n"
            "  - {id: cpu_token, env: CPU_TOKEN}\n"
            "requirements: [torchvision, -r cpu.txt]\n"
        )
        secret, token = tmp_path / "index-url", tmp_path / "cpu-token"
        secret.write_text(index.auth_url)
        token.write_text(cpu.password)
        index.reset()
        result, tag = build_tagged(
            engine,
            str(project / "imagec.yaml"),
            "--secret",
            f"id=pip_index,src={secret}",
            "--secret",
            f"id=cpu_token,src={token}",
        )
        assert "torch-2.1.0+cpu-py3-none-any.whl" in cpu.downloads()
        assert not any(name.startswith("torch-") for name in index.downloads())
        assert cpu.password not in result.stdout + result.stderr
    code = "import importlib.metadata as md; print(md.version('torch'), md.version('torchvision'))"
    ran = run_container(engine, tag, ["python", "-c", code])
    assert ran.stdout.strip() == "2.1.0+cpu 0.13.0"
