"""The runtime ``@pipeline`` decorator, as it behaves inside a built image."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import imagec.runtime as runtime
from imagec import pipeline

ROOT = Path(__file__).parent.parent.parent


@pipeline(requirements=["torch==1.12.0", "torchvision"], base_image="python:3.11-slim")
def train(epochs: int = 2) -> str:
    """Train for a while."""
    return f"trained {epochs}"


@pipeline
def bare() -> str:
    return "bare"


@pipeline()
def empty_call() -> str:
    return "empty"


def test_the_function_runs_normally():
    assert train() == "trained 2"
    assert train(epochs=5) == "trained 5"
    assert bare() == "bare"
    assert empty_call() == "empty"
    assert train.__name__ == "train"
    assert train.__doc__ == "Train for a while."
    assert train.__wrapped__(3) == "trained 3"  # type: ignore[attr-defined]


def test_the_spec_is_the_keyword_arguments_and_where_they_were_declared():
    spec = train.image_spec  # type: ignore[attr-defined]
    assert spec == {
        "requirements": ["torch==1.12.0", "torchvision"],
        "base_image": "python:3.11-slim",
    }
    assert spec.function == "train"
    assert spec.file == os.path.abspath(__file__)
    assert spec.line == 20
    assert bare.image_spec == {} and bare.image_spec.line == 26  # type: ignore[attr-defined]


def test_registry_finds_the_pipelines_of_a_file():
    assert runtime.pipelines_in(__file__) == [train, bare, empty_call]


def test_misuse_is_a_type_error():
    with pytest.raises(TypeError) as info:
        pipeline("python:3.11")
    assert str(info.value) == "pipeline() takes spec fields as keyword arguments only"
    with pytest.raises(TypeError) as info:
        pipeline(train)
    assert str(info.value) == "train is already decorated with @pipeline"


def test_imagec_pipeline_is_the_decorator_after_the_runtime_is_imported():
    import imagec
    import imagec.runtime

    module_attr = imagec.pipeline
    decorated = module_attr(labels={"a": "b"})(lambda: 1)
    assert decorated() == 1 and decorated.image_spec == {"labels": {"a": "b"}}
    assert module_attr(lambda: 2)() == 2


HEAVY = ("pydantic", "jinja2", "pathspec", "yaml", "packaging", "docker", "podman", "pluggy")
HEAVY_IMAGEC = (
    "imagec.spec",
    "imagec.model",
    "imagec.plugins",
    "imagec.resolve",
    "imagec.plan",
    "imagec.backend",
    "imagec.project",
    "imagec.cli",
)


def test_importing_and_decorating_stays_light(tmp_path):
    script = textwrap.dedent(
        """
        import json, sys
        import imagec
        from imagec import pipeline
        from imagec.integrations.constants import PYTORCH, EVIDENTLY

        @pipeline(required_integrations=[PYTORCH, EVIDENTLY], requirements="r.txt")
        def run():
            return "ran"

        @pipeline
        def other():
            return "other"

        assert run() == "ran" and other() == "other"
        print(json.dumps(sorted(sys.modules)))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, cwd=tmp_path
    )
    loaded = set(json.loads(out.stdout))
    heavy = {m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(HEAVY_IMAGEC)}
    assert heavy == set()


def run_module(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "imagec.runtime", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
    )


def test_python_m_imagec_run_runs_the_pipeline(tmp_path):
    (tmp_path / "helper.py").write_text("GREETING = 'hello from the image'\n")
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            """
            from helper import GREETING
            from imagec import pipeline

            @pipeline(requirements=["x"])
            def main(name: str = "world"):
                print(GREETING, name)

            @pipeline
            def second():
                print("second")

            if __name__ == "__main__":
                raise SystemExit("the file must not run as __main__")
            """
        )
    )
    done = run_module("app.py:main", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "hello from the image world\n", "")

    done = run_module("app.py", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        2,
        "imagec: app.py: several pipelines: main, second; choose one with FILE:NAME\n",
    )
    done = run_module("app.py:nope", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        2,
        "imagec: app.py: no pipeline named 'nope'; pipelines: main, second\n",
    )
    done = run_module("missing.py", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (2, "imagec: missing.py: file not found\n")


def test_run_calls_async_pipelines_too(tmp_path):
    path = tmp_path / "async_app.py"
    path.write_text(
        textwrap.dedent(
            """
            import asyncio
            import inspect
            from imagec import pipeline

            @pipeline(requirements=["aiohttp>=3.9"])
            async def crawl(pages: int = 2):
                await asyncio.sleep(0)
                return f"crawled {pages}"

            assert inspect.iscoroutinefunction(crawl)
            """
        )
    )
    assert runtime.run(path) == "crawled 2"
    assert runtime.run(str(path), "crawl") == "crawled 2"
