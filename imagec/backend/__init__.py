"""Layer 8, backends: the ``Backend`` base class every backend (built-in or third-party)
extends (``base.py``), the Containerfile lowering (``containerfile.py``), the final build
context (``buildcontext.py``) and the build flow engine backends share (``engine/``)."""

from __future__ import annotations

from imagec.backend.base import (
    Backend,
    BackendOptions,
    Build,
    BuildRequest,
    BuildResult,
    Health,
    UnsupportedStep,
)

__all__ = [
    "Backend",
    "BackendOptions",
    "Build",
    "BuildRequest",
    "BuildResult",
    "Health",
    "UnsupportedStep",
]
