"""Smoke tests of the real engines and the local base images (no mocks)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from support.baseimages import BaseImages
from support.containers import ImageTags, run_container
from support.engines import Engine

pytestmark = pytest.mark.engine


def build_error_type(engine: Engine) -> type[Exception]:
    """The BuildError of the engine's own SDK."""
    if engine.kind == "docker":
        import docker.errors

        return docker.errors.BuildError
    import podman.errors

    return podman.errors.BuildError


def native_build(engine: Engine, context: Path, tag: str) -> Any:
    """Build ``context/Dockerfile`` with the engine's own SDK; return the image."""
    kwargs: dict[str, Any] = {"path": str(context), "tag": tag, "rm": True, "forcerm": True}
    if engine.kind == "podman":
        kwargs["dockerfile"] = "Dockerfile"
    else:
        kwargs["network_mode"] = engine.network_mode
    image, _logs = engine.client().images.build(**kwargs)
    return image


def make_wheel(directory: Path, name: str = "imagec_probe", version: str = "1.0") -> Path:
    """A minimal pure-Python wheel with one module that sets ``VALUE = 42``."""
    from imagec.resolve.wheel import make_wheel as wheel_bytes

    project = name.replace("_", "-")
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    wheel.write_bytes(wheel_bytes(project, version, [(f"{name}.py", b"VALUE = 42\n")], "probe"))
    return wheel


def test_base_image_runs_python_with_stdlib(engine: Engine, engine_images: BaseImages) -> None:
    result = run_container(
        engine, engine_images.python, ["python", "-c", "import ssl, json, sqlite3; print(1)"]
    )
    assert result.stdout == "1\n"


def test_base_image_has_official_layout(engine: Engine, engine_images: BaseImages) -> None:
    script = (
        "for c in python python3 pip; do command -v $c; done && python3 --version && "
        "test -s /etc/ssl/certs/ca-certificates.crt && id -u && "
        "for a in sh bash env ls id useradd groupadd apt-get dpkg; do "
        "command -v $a >/dev/null || exit 9; done && "
        "test ! -e /usr/lib/python3.11/EXTERNALLY-MANAGED"
    )
    result = run_container(engine, engine_images.python, ["sh", "-c", script])
    lines = result.stdout.splitlines()
    # Debian's python3, with python-is-python3 and python3-pip.
    assert lines[:3] == ["/usr/bin/python", "/usr/bin/python3", "/usr/bin/pip"]
    assert lines[3].startswith("Python 3.11.")
    assert lines[4] == "0"


def test_pip_version(engine: Engine, engine_images: BaseImages) -> None:
    result = run_container(engine, engine_images.python, ["pip", "--version"])
    assert result.stdout.startswith("pip ")
    assert "(python 3.11)" in result.stdout


def test_build_with_run_step(
    engine: Engine, engine_images: BaseImages, image_tags: ImageTags, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text(
        f"FROM {engine_images.python}\n"
        "RUN python -c \"open('/built', 'w').write('built by RUN')\"\n"
        'CMD ["cat", "/built"]\n'
    )
    tag = image_tags.new(engine, "smoke")
    native_build(engine, tmp_path, tag)
    assert run_container(engine, tag).stdout == "built by RUN"


def test_build_from_fileobj_with_docker_sdk(
    engine: Engine, engine_images: BaseImages, image_tags: ImageTags
) -> None:
    dockerfile = f"FROM {engine_images.python}\nRUN echo from-fileobj > /marker\n"
    tag = image_tags.new(engine, "fileobj")
    image, _logs = engine.docker_client().images.build(
        fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True
    )
    assert tag in image.tags
    assert run_container(engine, tag, ["cat", "/marker"]).stdout == "from-fileobj\n"


def test_failing_run_raises_build_error(
    engine: Engine, engine_images: BaseImages, image_tags: ImageTags, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text(f"FROM {engine_images.python}\nRUN exit 3\n")
    with pytest.raises(build_error_type(engine)) as excinfo:
        native_build(engine, tmp_path, image_tags.new(engine, "fails"))
    assert "3" in str(excinfo.value)


def test_pip_installs_local_wheel_and_user_is_created(
    engine: Engine, engine_images: BaseImages, image_tags: ImageTags, tmp_path: Path
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels)
    (tmp_path / "Dockerfile").write_text(
        f"FROM {engine_images.python}\n"
        "COPY wheels /wheels\n"
        "RUN python -m pip install --no-index --find-links /wheels imagec-probe\n"
        "RUN useradd --create-home --uid 1000 app\n"
        "USER app\n"
        "WORKDIR /home/app\n"
        'CMD ["python", "-c", "import os, imagec_probe; print(imagec_probe.VALUE, os.getuid())"]\n'
    )
    tag = image_tags.new(engine, "wheel")
    native_build(engine, tmp_path, tag)
    assert run_container(engine, tag).stdout == "42 1000\n"


def test_venv_gets_pip(docker_engine: Engine, docker_images: BaseImages) -> None:
    # Image content only (ensurepip takes ~5 s), so one engine is enough.
    result = run_container(
        docker_engine,
        docker_images.python,
        ["sh", "-c", "python -m venv /tmp/venv && /tmp/venv/bin/pip --version"],
    )
    assert "/tmp/venv/" in result.stdout


def test_nopip_image_has_python_but_no_pip(engine: Engine, engine_images: BaseImages) -> None:
    assert run_container(engine, engine_images.nopip, ["python3", "-V"]).stdout.startswith(
        "Python 3.11."
    )
    result = run_container(
        engine, engine_images.nopip, ["python3", "-m", "pip", "--version"], check=False
    )
    assert result.exit_code != 0
    assert "No module named pip" in result.stderr


def test_nopython_image_has_only_a_shell(engine: Engine, engine_images: BaseImages) -> None:
    result = run_container(
        engine,
        engine_images.nopython,
        ["sh", "-c", "command -v python3; command -v python; echo shell-ok"],
        check=False,
    )
    assert result.stdout.splitlines()[-1] == "shell-ok"
    assert "/python" not in result.stdout
