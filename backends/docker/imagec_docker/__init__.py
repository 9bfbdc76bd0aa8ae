"""The ``docker`` backend: builds the image on a Docker engine through the Docker SDK.

The engine is the one the docker CLI would use (``DOCKER_HOST``, ``DOCKER_TLS_VERIFY``,
``DOCKER_CERT_PATH``; else the local socket), or ``--url``. The context sent is imagec's own
(``Dockerfile`` + generated files + the already filtered source); the flow -- reuse check,
progress, labels, tags, push -- is ``imagec.enginebuild``'s, shared with ``podman``.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import Field

from imagec.backend import Backend
from imagec.backend.engine.backend import EngineBackend, EngineOptions
from imagec.plugins.hookspecs import hookimpl

__all__ = ["DockerBackend", "DockerOptions"]


class DockerOptions(EngineOptions):
    url: str | None = Field(
        None,
        description="Engine API URL, e.g. unix:///var/run/docker.sock or tcp://host:2376 "
        "(default: DOCKER_HOST, else the local socket). `imagec build --url` sets it too.",
    )


class DockerBackend(EngineBackend):
    name = "docker"
    description = "image built by a Docker engine (DOCKER_HOST, or --url)"
    build_file = "Dockerfile"
    Options = DockerOptions
    engine_module = "imagec_docker.engine"


@hookimpl
def imagec_register_backends(register: Callable[[type[Backend]], None]) -> None:
    register(DockerBackend)
