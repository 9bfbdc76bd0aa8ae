"""Running containers and handing out scratch image tags on a test engine."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from support.engines import Engine

#: Every image a test tags lives under this name, so a leftover is recognisable.
TEST_REPOSITORY = "localhost/imagec-test"


@dataclass(frozen=True)
class RunResult:
    """Outcome of :func:`run_container`."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class ContainerRunError(AssertionError):
    """A container started by :func:`run_container` exited non-zero."""

    def __init__(self, image: str, command: object, result: RunResult) -> None:
        super().__init__(
            f"{command!r} in {image} exited {result.exit_code}\n"
            f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
        )
        self.result = result


def run_container(
    engine: Engine,
    image: str,
    command: str | Sequence[str] | None = None,
    *,
    environment: Mapping[str, str] | None = None,
    user: str | None = None,
    workdir: str | None = None,
    entrypoint: str | Sequence[str] | None = None,
    network_mode: str | None = None,
    timeout: float = 120,
    check: bool = True,
) -> RunResult:
    """Run ``command`` in a new container of ``image`` and return its output.

    Uses docker-py on the engine's socket (both engines serve the Docker API).
    The container is removed afterwards. With ``check`` (the default), a non-zero
    exit raises :class:`ContainerRunError` carrying the output.
    """
    client = engine.docker_client()
    kwargs: dict[str, Any] = {
        "command": list(command) if isinstance(command, (list, tuple)) else command,
        "environment": dict(environment) if environment else None,
        "network_mode": network_mode or engine.network_mode,
        "detach": True,
    }
    if user is not None:
        kwargs["user"] = user
    if workdir is not None:
        kwargs["working_dir"] = workdir
    if entrypoint is not None:
        kwargs["entrypoint"] = list(entrypoint) if not isinstance(entrypoint, str) else entrypoint
    container = client.containers.create(image, **kwargs)
    try:
        container.start()
        status = container.wait(timeout=timeout)
        result = RunResult(
            exit_code=int(status["StatusCode"]),
            stdout=container.logs(stdout=True, stderr=False).decode("utf-8", "replace"),
            stderr=container.logs(stdout=False, stderr=True).decode("utf-8", "replace"),
        )
    finally:
        with contextlib.suppress(Exception):
            container.remove(force=True)
    if check and result.exit_code != 0:
        raise ContainerRunError(image, command, result)
    return result


def remove_image(engine: Engine, ref: str, *, force: bool = True) -> None:
    """Remove (or untag) ``ref`` on ``engine``, ignoring a missing image."""
    import docker.errors

    with contextlib.suppress(docker.errors.NotFound):
        engine.docker_client().images.remove(ref, force=force)


class ImageTags:
    """Unique scratch tags for images a test builds; removed after the test."""

    def __init__(self) -> None:
        self._made: list[tuple[Engine, str]] = []

    def new(self, engine: Engine, name: str = "scratch") -> str:
        tag = f"{TEST_REPOSITORY}/{name}-{uuid.uuid4().hex[:12]}:latest"
        self._made.append((engine, tag))
        return tag

    __call__ = new

    def cleanup(self) -> None:
        for engine, tag in reversed(self._made):
            with contextlib.suppress(Exception):
                remove_image(engine, tag)
        self._made.clear()
