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
from support.builds import BUILT
from support.cli import run_imagec
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
    result = run_imagec(
        "build", str(project / "train.py"), "--backend", engine.kind, "--url", engine.url,
        "-O", "network=host", "--secret", f"id=pip_index,src={secret}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    tag = BUILT.match(result.stdout.strip()).group(3).split()[0]
    engine.keep_until_stop(tag)

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
