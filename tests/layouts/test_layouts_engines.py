"""The starter layout (``run.py``, ``pipelines/``, ``steps/``) built with ``imagec build run.py``
on each real engine: the image runs the pipeline by module, and its ``steps`` import works."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.baseimages import BaseImages
from support.builds import BUILT
from support.cli import cli_env, run_imagec
from support.containers import ImageTags, remove_image, run_container
from support.engines import Engine

pytestmark = pytest.mark.engine

STARTER = Path(__file__).parents[2] / "examples" / "starter"


@pytest.fixture
def starter(tmp_path: Path) -> Path:
    """A copy of the example: the build reads it, and the repository's copy stays as it is."""
    return Path(shutil.copytree(STARTER, tmp_path / "starter"))


@pytest.fixture
def built(
    engine: Engine,
    engine_images: BaseImages,
    image_tags: ImageTags,
    starter: Path,
    tmp_path: Path,
) -> Iterator[str]:
    """``imagec build run.py`` on ``engine``; the image's content-hash tag, removed after."""
    extra = image_tags.new(engine, "starter")
    env = cli_env({"XDG_CACHE_HOME": str(tmp_path / "xdg-cache")})
    args = ["build", str(starter / "run.py"), "--backend", engine.kind, "--url", engine.url]
    result = run_imagec(*args, "--tag", extra, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    m = BUILT.match(result.stdout.strip())
    assert m, result.stdout
    tag = m.group(3).split()[0]
    try:
        assert tag.startswith("imagec/starter:")
        yield tag
    finally:
        remove_image(engine, tag)


def test_starter_builds_from_run_py_and_its_pipeline_runs(
    built: str, engine: Engine, starter: Path
) -> None:
    # What the pipeline prints when run on this machine (`python run.py`) is the oracle.
    here = subprocess.run(
        [sys.executable, "run.py"], cwd=starter, capture_output=True, text=True, check=True
    )
    assert here.stdout == "trained: slope=1.94 intercept=0.15\n"
    assert run_container(engine, built).stdout == here.stdout

    # The default command names the pipeline by module, as `imagec compile run.py` says, and
    # its `steps` import is the source root's package, copied to the workdir.
    config = engine.docker_client().images.get(built).attrs["Config"]
    assert (config["Entrypoint"], config["Cmd"]) == (
        ["python", "-m", "imagec.runtime"],
        ["pipelines.training:training"],
    )
    probe = "import steps.train, pipelines.training as p; print(steps.train.__file__, p.__name__)"
    out = run_container(engine, built, ["-c", probe], entrypoint=["python"]).stdout
    assert out == "/app/steps/train.py pipelines.training\n"
