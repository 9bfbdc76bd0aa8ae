"""Build steps and bases without Python, built for real on both engines.

- Build steps at all three points put their output in the image; a step's environment reaches
  it exactly (hostile characters included) and stays out of the image; the run-time
  environment is not seen by the build steps but is by the container; a step with ``user``
  runs as that user.
- Debian without Python (the test engines' ``nopython`` base, made from Debian's packages)
  plus ``apt_packages: [python3, python3-pip]`` gives an image that runs a decorated pipeline.
  apt-get reaches Debian's archive through the host's network (``-O network=host``), as the
  native project's jq test does.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from support.baseimages import BaseImages
from support.builds import build_tagged
from support.cli import cli_env, run_imagec
from support.containers import TEST_REPOSITORY, run_container
from support.engines import Engine

pytestmark = pytest.mark.engine

# A value a shell, BuildKit's lexer and JSON each read differently if quoting slipped.
HOSTILE = "a\"b'c $HOME ${X:-y} `id` \\n\\ ; && # ]"


def test_build_steps_put_their_output_in_the_image(
    engine: Engine, engine_images: BaseImages, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "data.txt").write_text("from the source\n")
    spec = root / "imagec.json"
    spec.write_text(
        json.dumps(
            {
                "image_name": f"{TEST_REPOSITORY}/steps-{uuid.uuid4().hex[:8]}",
                "base_image": engine_images.python,
                "installer": "pip",
                "copy_stack": False,
                "install_stack_requirements": False,
                "install_imagec": False,
                "user": "app",
                "build_steps": [
                    {
                        "run": 'printf %s "$V" > /opt/after-apt\necho "${MODE-unset}" > /opt/mode',
                        "after": "apt_packages",
                        "environment": {"V": HOSTILE},
                    },
                    "python -c 'import sys; print(sys.version_info[0])' > /opt/after-reqs",
                    {"run": "cp data.txt /tmp/copied && id -un > /tmp/who", "after": "source"},
                    {"run": "id -un > /tmp/who-app", "after": "source", "user": "app"},
                ],
                "runtime_environment": {"MODE": "prod"},
            }
        )
    )
    _, tag = build_tagged(engine, spec)
    script = (
        "cat /opt/after-apt; echo; cat /opt/mode /opt/after-reqs /tmp/copied /tmp/who "
        '/tmp/who-app; echo "$MODE ${V-unset}"; id -un'
    )
    ran = run_container(engine, tag, ["-c", script], entrypoint=["sh"])
    assert ran.stdout.split("\n") == [
        HOSTILE,
        "unset",  # the build step did not see the run-time environment
        "3",
        "from the source",
        "root",
        "app",
        "prod unset",  # the container does; the step's own environment is not kept
        "app",
        "",
    ]


PIPELINE = '''\
"""A decorated pipeline on a Debian base that has no Python until apt installs it."""

import sys

from imagec import pipeline


@pipeline(
    base_image="{base}",
    python_version="3.11",
    image_name="{name}",
    apt_packages=["python3", "python3-pip"],
    installer="pip",
    copy_stack=False,
    install_stack_requirements=False,
)
def hello() -> None:
    print(f"pipeline ran on {{sys.version_info[0]}}.{{sys.version_info[1]}}")
'''


def test_a_base_without_python_gets_it_from_apt_and_runs_a_pipeline(
    engine: Engine, engine_images: BaseImages, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    spec = root / "pipeline.py"
    name = f"{TEST_REPOSITORY}/nopython-{uuid.uuid4().hex[:8]}"
    spec.write_text(PIPELINE.format(base=engine_images.nopython, name=name))
    _, tag = build_tagged(engine, spec)
    ran = run_container(engine, tag)
    assert ran.stdout == "pipeline ran on 3.11\n"
    # `python` is the apt python3, and pip installs into it (the marker is gone).
    probe = run_container(
        engine,
        tag,
        ["-c", "import sys, sysconfig, os; print(sys.executable, os.path.exists("
         "os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')))"],
        entrypoint=["python"],
    )  # fmt: skip
    assert probe.stdout.split()[1] == "False"


def test_a_base_without_python_and_nothing_to_bring_it_fails_saying_so(
    engine: Engine, engine_images: BaseImages, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    spec = root / "imagec.yaml"
    spec.write_text(
        f"image_name: {TEST_REPOSITORY}/nopython-fail-{uuid.uuid4().hex[:8]}\n"
        f"base_image: {engine_images.nopython}\n"
        "copy_stack: false\ninstall_stack_requirements: false\n"
    )
    result = run_imagec("build", str(spec), "--backend", engine.kind, "--url", engine.url)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "has no `python` or `python3` on PATH" in result.stderr
    assert "apt_packages" in result.stderr


def test_a_python_version_the_base_does_not_have_fails_the_build(
    engine: Engine, engine_images: BaseImages, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    spec = root / "imagec.yaml"
    spec.write_text(
        f"image_name: {TEST_REPOSITORY}/pyver-{uuid.uuid4().hex[:8]}\n"
        f"base_image: {engine_images.python}\n"
        'python_version: "3.12"\n'
        "copy_stack: false\ninstall_stack_requirements: false\n"
    )
    result = run_imagec("build", str(spec), "--backend", engine.kind, "--url", engine.url)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "has Python 3.11, but python_version is 3.12" in result.stderr


def test_a_step_reads_its_secret_and_cache_and_the_image_keeps_neither(
    engine: Engine, engine_images: BaseImages, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    token = f"tok-{uuid.uuid4().hex}"
    spec = root / "imagec.json"
    spec.write_text(
        json.dumps(
            {
                "image_name": f"{TEST_REPOSITORY}/step-secret-{uuid.uuid4().hex[:8]}",
                "base_image": engine_images.python,
                "installer": "pip",
                "copy_stack": False,
                "copy_source": False,
                "install_stack_requirements": False,
                "install_imagec": False,
                "secrets": [{"id": "model_token", "env": "MODEL_TOKEN"}],
                "build_steps": [
                    {
                        # The step proves it saw the token without writing it anywhere.
                        "run": 'test -n "$MODEL_TOKEN" && printf %s "$MODEL_TOKEN" | wc -c '
                        "> /opt/token-length && echo kept > /var/cache/dl/file && "
                        "ls /var/cache/dl > /opt/cache-listing",
                        "secrets": ["model_token"],
                        "cache": ["/var/cache/dl"],
                    }
                ],
            }
        )
    )
    env = cli_env({"STEP_TOKEN": token})
    _, tag = build_tagged(engine, spec, "--secret", "id=model_token,env=STEP_TOKEN", env=env)
    script = (
        "cat /opt/token-length /opt/cache-listing; ls -A /var/cache/dl | wc -l; ls /run/secrets"
    )
    ran = run_container(engine, tag, ["-c", script], entrypoint=["sh"], check=False)
    lines = ran.stdout.split("\n")
    assert lines[:3] == [str(len(token)), "file", "0"]  # seen in the build; not in the image
    # Nowhere in the image's configuration or history either.
    image = engine.docker_client().images.get(tag)
    assert token not in json.dumps(image.attrs) + json.dumps(image.history())


def test_a_source_change_reruns_only_the_steps_after_the_source(
    engine: Engine, engine_images: BaseImages, tmp_path: Path
) -> None:
    """Build steps are layers like the others: the engine's cache keeps an `after:
    requirements` step when only the source changed, and reruns the `after: source` one."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "app.txt").write_text("one\n")
    spec = root / "imagec.json"
    spec.write_text(
        json.dumps(
            {
                "image_name": f"{TEST_REPOSITORY}/step-cache-{uuid.uuid4().hex[:8]}",
                "base_image": engine_images.python,
                "installer": "pip",
                "copy_stack": False,
                "install_stack_requirements": False,
                "install_imagec": False,
                "build_steps": [
                    "cat /proc/sys/kernel/random/uuid > /opt/early",
                    {"run": "cat /proc/sys/kernel/random/uuid > /opt/late", "after": "source"},
                ],
            }
        )
    )
    script = "cat /opt/early /opt/late"
    _, first = build_tagged(engine, spec)
    before = run_container(engine, first, ["-c", script], entrypoint=["sh"]).stdout.split()
    (root / "app.txt").write_text("two\n")
    _, second = build_tagged(engine, spec)
    assert second != first
    after = run_container(engine, second, ["-c", script], entrypoint=["sh"]).stdout.split()
    assert after[0] == before[0]  # the early step's layer came from the cache
    assert after[1] != before[1]  # the late one ran again
