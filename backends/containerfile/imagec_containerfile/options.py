"""The ``containerfile`` backend's options; loaded (with pydantic) only when options are used."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from imagec.backend.options import BackendOptions


class ContainerfileOptions(BackendOptions):
    comments: bool = Field(True, description="Precede each instruction with its origin.")
    file_name: Literal["Containerfile", "Dockerfile"] = Field(
        "Dockerfile",
        description="Name of the build file in exports; `Dockerfile` is read by both "
        "`docker build DIR` and `podman build DIR`.",
    )
