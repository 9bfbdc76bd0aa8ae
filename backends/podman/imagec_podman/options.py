"""The ``podman`` backend's options; loaded (with pydantic) only when options are used."""

from __future__ import annotations

from pydantic import Field

from imagec.backend.engine.options import EngineOptions


class PodmanOptions(EngineOptions):
    url: str | None = Field(
        None,
        description="Podman API service URL, e.g. unix:///run/podman/podman.sock (default: "
        "CONTAINER_HOST, else the rootful or rootless default socket). `imagec build --url` "
        "sets it too.",
    )
