"""The ``docker`` backend's options; loaded (with pydantic) only when options are used."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from imagec.backend.engine.options import EngineOptions


class DockerOptions(EngineOptions):
    url: str | None = Field(
        None,
        description="Engine API URL, e.g. unix:///var/run/docker.sock or tcp://host:2376 "
        "(default: DOCKER_HOST, else the local socket). `imagec build --url` sets it too.",
    )
    builder: Literal["auto", "buildkit", "classic"] = Field(
        "auto",
        description="`buildkit` (through the docker CLI: build secrets, cache mounts), "
        "`classic` (docker-py; no mounts), or `auto`: BuildKit when a docker CLI that has it "
        "is on PATH.",
    )
