"""The ``podman`` backend: builds the image with Podman through its API service and the
Podman SDK.

The service is found at ``--url``, else ``CONTAINER_HOST``, else the default socket
(rootful ``/run/podman/podman.sock``, rootless ``$XDG_RUNTIME_DIR/podman/podman.sock``). The
context sent is imagec's own (``Containerfile`` + generated files + the filtered source); the
flow -- reuse check, progress, labels, tags, push -- is ``imagec.enginebuild``'s, shared with
``docker``, so the same spec gives the same image on either engine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import Field

from imagec.backend import Backend, BackendOptions, Build, BuildRequest, BuildResult, Health
from imagec.hookspecs import hookimpl

__all__ = ["PodmanBackend", "PodmanOptions"]


class PodmanOptions(BackendOptions):
    url: str | None = Field(
        None,
        description="Podman API service URL, e.g. unix:///run/podman/podman.sock (default: "
        "CONTAINER_HOST, else the rootful or rootless default socket). `imagec build --url` "
        "sets it too.",
    )
    network: str | None = Field(
        None, description="Network mode of RUN steps, e.g. `host` or `none` (default: engine's)."
    )


class PodmanBackend(Backend):
    name = "podman"
    description = "image built by Podman through its API service (CONTAINER_HOST, or --url)"
    output = "image"
    build_file = "Containerfile"
    Options = PodmanOptions
    options: PodmanOptions

    def __init__(self, options: BackendOptions | None = None, **kwargs) -> None:
        super().__init__(options, **kwargs)
        self.url: str | None = self.options.url

    @classmethod
    def health(cls) -> Health:
        from imagec_podman.engine import health

        return health()

    def export(self, build: Build, out_dir: Path, *, force: bool = False) -> None:
        build.context.export(out_dir, force=force)

    def inspect(self, image: str) -> dict[str, Any]:
        from imagec.enginebuild.inspection import inspect_image
        from imagec_podman.engine import connect

        with connect(self.url) as session:
            return inspect_image(session, image)

    def build(self, build: Build, request: BuildRequest) -> BuildResult:
        from imagec.enginebuild import run_build
        from imagec_podman.engine import connect

        with connect(self.url) as session:
            return run_build(session, build, request, network=self.options.network)


@hookimpl
def imagec_register_backends(register: Callable[[type[Backend]], None]) -> None:
    register(PodmanBackend)
