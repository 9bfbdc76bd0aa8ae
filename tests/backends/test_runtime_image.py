"""The pipeline runs in its image: imagec's runtime is inside at the compiling version, stays
light, reports provenance, and bases without Python or pip fail early and clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.baseimages import BaseImages
from support.builds import Builds
from support.containers import run_container
from support.engines import Engine

import imagec

pytestmark = pytest.mark.engine

# Imported and applied inside the image: which heavy modules came along, and how long it took.
LIGHTNESS = r"""
import sys, time
t = time.perf_counter()
import imagec
from imagec import pipeline
@pipeline(requirements=["six"])
def f():
    return 1
elapsed = time.perf_counter() - t
heavy = sorted(m for m in sys.modules
               if m.split(".")[0] in ("pydantic", "jinja2", "pathspec", "yaml", "docker",
                                       "podman", "pluggy", "packaging")
               or m in ("imagec.model", "imagec.plan", "imagec.project", "imagec.plugins"))
print(imagec.__version__, f(), heavy, f"{elapsed * 1000:.1f}ms")
"""


def test_runtime_in_the_image_is_this_version_and_light(
    engine: Engine, engine_images: BaseImages, builds: Builds
) -> None:
    built = builds.get(engine, "pipeline")
    out = run_container(engine, built.tag, ["-c", LIGHTNESS], entrypoint=["python"]).stdout
    version, result, heavy, elapsed = out.split(" ", 3)
    assert (version, result, heavy) == (imagec.__version__, "1", "[]")
    print(f"import imagec + @pipeline inside the {engine.kind} image: {elapsed.strip()}")


def test_image_reports_what_it_was_built_from(
    engine: Engine, engine_images: BaseImages, builds: Builds
) -> None:
    built = builds.get(engine, "pipeline")
    info = json.loads(run_container(engine, built.tag, ["--inspect"]).stdout)
    assert info["imagec_version"] == imagec.__version__
    assert info["spec"]["requirements"]
    assert len(info["ir_digest"]) == 64


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ("nopip", "has no pip for its python"),
        ("nopython", "has no `python` or `python3` on PATH"),
    ],
)
def test_base_image_without_python_or_pip_fails_early(
    engine: Engine,
    engine_images: BaseImages,
    builds: Builds,
    tmp_path: Path,
    base: str,
    message: str,
) -> None:
    image = getattr(engine_images, base)
    (tmp_path / "app.py").write_text("print('hi')\n")
    spec = tmp_path / "imagec.yaml"
    spec.write_text(
        f"base_image: {image}\nimage_name: imagec-test/{base}\n"
        "requirements: [six]\ncopy_stack: false\n"
    )
    result = builds.cli(engine, spec)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    error = result.stderr[result.stderr.index("imagec: error: ") :]
    assert "base image check" in error.splitlines()[0]
    assert message in error
    # Nothing after the check ran: the runtime and the requirements were never installed.
    assert "pip install" not in result.stderr.split("base image check")[0]
