"""Layer 8, backends: the ``Backend`` base class every backend (built-in or third-party)
extends (``base.py``), the Containerfile lowering (``containerfile.py``), the final build
context (``buildcontext.py``) and the build flow engine backends share (``engine/``).

The names below resolve on first use: ``base`` loads pydantic, and the no-op build's fast
path (``engine/fingerprint.py``) lives in this package but must not pay for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("imagec.backend.base"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
