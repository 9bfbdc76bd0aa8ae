"""The ``docker`` backend: builds the image on a Docker engine through the Docker SDK.

The engine is the one the docker CLI would use (``DOCKER_HOST``, ``DOCKER_TLS_VERIFY``,
``DOCKER_CERT_PATH``; else the local socket), or ``--url``. The context sent is imagec's own
(``Dockerfile`` + generated files + the already filtered source); the flow -- reuse check,
progress, labels, tags, push -- is ``imagec.enginebuild``'s, shared with ``podman``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import Field

from imagec.backend import Backend, BackendOptions, Build, BuildRequest, BuildResult, Health
from imagec.hookspecs import hookimpl

__all__ = ["DockerBackend", "DockerOptions"]


class DockerOptions(BackendOptions):
    url: str | None = Field(
        None,
        description="Engine API URL, e.g. unix:///var/run/docker.sock or tcp://host:2376 "
        "(default: DOCKER_HOST, else the local socket). `imagec build --url` sets it too.",
    )
    network: str | None = Field(
        None, description="Network mode of RUN steps, e.g. `host` or `none` (default: engine's)."
    )


class DockerBackend(Backend):
    name = "docker"
    description = "image built by a Docker engine (DOCKER_HOST, or --url)"
    output = "image"
    build_file = "Dockerfile"
    Options = DockerOptions
    options: DockerOptions

    def __init__(self, options: BackendOptions | None = None, **kwargs) -> None:
        super().__init__(options, **kwargs)
        self.url: str | None = self.options.url

    @classmethod
    def health(cls) -> Health:
        from imagec_docker.engine import health

        return health()

    def export(self, build: Build, out_dir: Path, *, force: bool = False) -> None:
        build.context.export(out_dir, force=force)

    def inspect(self, image: str) -> dict[str, Any]:
        from imagec.enginebuild.inspection import inspect_image
        from imagec_docker.engine import connect

        with connect(self.url) as session:
            return inspect_image(session, image)

    def build(self, build: Build, request: BuildRequest) -> BuildResult:
        from imagec.enginebuild import run_build
        from imagec_docker.engine import connect

        with connect(self.url) as session:
            return run_build(session, build, request, network=self.options.network)


@hookimpl
def imagec_register_backends(register: Callable[[type[Backend]], None]) -> None:
    register(DockerBackend)
