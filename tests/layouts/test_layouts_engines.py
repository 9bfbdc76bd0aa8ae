"""The layout examples built with ``imagec build FILE.py`` on each real engine: the starter
layout (``run.py``, ``pipelines/``, ``steps/``) from its run file, the ``src/`` layout and the
single file. Each image runs its pipeline by the default command, and prints what the
pipeline prints when run on this machine."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from support.baseimages import BaseImages
from support.builds import BUILT
from support.cli import cli_env, run_imagec
from support.containers import ImageTags, remove_image, run_container
from support.engines import Engine

pytestmark = pytest.mark.engine

EXAMPLES = Path(__file__).parents[2] / "examples"


@contextmanager
def built(
    engine: Engine, image_tags: ImageTags, target: Path, tmp_path: Path
) -> Iterator[tuple[str, dict]]:
    """``imagec build TARGET`` on ``engine``: the content-hash tag (removed after) and the
    image's configuration."""
    extra = image_tags.new(engine, "layout")
    env = cli_env({"XDG_CACHE_HOME": str(tmp_path / "xdg-cache")})
    args = ["build", str(target), "--backend", engine.kind, "--url", engine.url]
    result = run_imagec(*args, "--tag", extra, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    m = BUILT.match(result.stdout.strip())
    assert m, result.stdout
    tag = m.group(3).split()[0]
    try:
        yield tag, engine.docker_client().images.get(tag).attrs["Config"]
    finally:
        remove_image(engine, tag)


def here(cwd: Path, code: str) -> str:
    """What ``python -c CODE`` prints in ``cwd`` on this machine: the oracle."""
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def test_starter_builds_from_run_py_and_its_pipeline_runs(
    engine: Engine, engine_images: BaseImages, image_tags: ImageTags, tmp_path: Path
) -> None:
    # A copy: the build only reads it, and the repository's copy stays as it is.
    starter = Path(shutil.copytree(EXAMPLES / "starter", tmp_path / "starter"))
    expected = here(starter, "import runpy; runpy.run_path('run.py', run_name='__main__')")
    assert expected == "trained: slope=1.94 intercept=0.15\n"
    with built(engine, image_tags, starter / "run.py", tmp_path) as (tag, config):
        assert tag.startswith("imagec/starter:")
        assert run_container(engine, tag).stdout == expected
        # The default command names the pipeline by module, as `imagec compile run.py` says,
        # and its `steps` import is the source root's package, copied to the workdir.
        assert (config["Entrypoint"], config["Cmd"]) == (
            ["python", "-m", "imagec.runtime"],
            ["pipelines.training:training"],
        )
        probe = (
            "import steps.train, pipelines.training as p; print(steps.train.__file__, p.__name__)"
        )
        out = run_container(engine, tag, ["-c", probe], entrypoint=["python"]).stdout
        assert out == "/app/steps/train.py pipelines.training\n"


def test_src_layout_runs_its_package_by_module(
    engine: Engine, engine_images: BaseImages, image_tags: ImageTags, tmp_path: Path
) -> None:
    project = Path(shutil.copytree(EXAMPLES / "src-layout", tmp_path / "src-layout"))
    expected = here(project / "src", "from churn.pipeline import score; score()")
    assert expected == "churn risk: 0.75\nchurn risk: 0.02\n"
    with built(engine, image_tags, project / "src" / "churn" / "pipeline.py", tmp_path) as (
        tag,
        config,
    ):
        assert config["Cmd"] == ["churn.pipeline:score"]
        assert run_container(engine, tag).stdout == expected
        # The image holds src/'s contents at the workdir, not the project around it.
        listing = "import os; print(*sorted(os.listdir('/app')))"
        out = run_container(engine, tag, ["-c", listing], entrypoint=["python"]).stdout
        assert out == "churn\n"


def test_src_layout_below_a_repository_root_runs_from_src(
    engine: Engine, engine_images: BaseImages, image_tags: ImageTags, tmp_path: Path
) -> None:
    # An imagec repository's root is the source root, src/ below it: the runner imports the
    # package from /app/src (`--path src`), so `churn.features` imports as it does here.
    project = Path(shutil.copytree(EXAMPLES / "src-layout", tmp_path / "churn-repo"))
    (project / ".imagec").mkdir()
    expected = here(project / "src", "from churn.pipeline import score; score()")
    assert expected == "churn risk: 0.75\nchurn risk: 0.02\n"
    with built(engine, image_tags, project / "src" / "churn" / "pipeline.py", tmp_path) as (
        tag,
        config,
    ):
        assert (config["Entrypoint"], config["Cmd"]) == (
            ["python", "-m", "imagec.runtime", "--path", "src"],
            ["churn.pipeline:score"],
        )
        assert run_container(engine, tag).stdout == expected
        # The whole repository is at the workdir (less .imagec/), src/ inside it, and
        # `--inspect` still replaces only the command.
        listing = "import os; print(*sorted(os.listdir('/app')))"
        out = run_container(engine, tag, ["-c", listing], entrypoint=["python"]).stdout
        assert out == "pyproject.toml src\n"
        inspect = run_container(engine, tag, ["--inspect"]).stdout
        assert '"ir_digest"' in inspect


def test_single_file_runs_by_path(
    engine: Engine, engine_images: BaseImages, image_tags: ImageTags, tmp_path: Path
) -> None:
    project = Path(shutil.copytree(EXAMPLES / "single-file", tmp_path / "single-file"))
    expected = here(project, "from report import report; report()")
    assert expected == "mean latency: 105.6 ms over 5 requests\n"
    with built(engine, image_tags, project / "report.py", tmp_path) as (tag, config):
        assert config["Cmd"] == ["report.py:report"]
        assert run_container(engine, tag).stdout == expected
