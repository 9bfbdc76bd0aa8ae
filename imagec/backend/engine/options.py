"""The options every engine backend takes; its own module so only their use loads pydantic."""

from __future__ import annotations

from pydantic import Field

from imagec.backend.options import BackendOptions


class EngineOptions(BackendOptions):
    url: str | None = Field(
        None,
        description="Engine API URL (default: the engine's environment variable, else its "
        "default socket). `imagec build --url` sets it too.",
    )
    network: str | None = Field(
        None, description="Network mode of RUN steps, e.g. `host` or `none` (default: engine's)."
    )
