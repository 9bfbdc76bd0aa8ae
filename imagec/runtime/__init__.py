"""What ships into images and runs there; standard library only.

- ``pipeline``: the decorator that marks the function an image runs (``decorator.py``);
- ``python -m imagec.runtime FILE[:NAME]``: the image's default command (``runner.py``);
- ``/etc/imagec/build.json``: what the image was built from (``buildinfo.py``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imagec.runtime.decorator import ImageSpec, pipeline, pipelines_in, registered_pipelines
    from imagec.runtime.runner import run

__all__ = ["ImageSpec", "pipeline", "pipelines_in", "registered_pipelines", "run"]


def __getattr__(name: str) -> Any:
    # Resolved on first use: a compile reads ``buildinfo`` and need not load the decorator.
    if name in __all__:
        module = "runner" if name == "run" else "decorator"
        return getattr(importlib.import_module(f"imagec.runtime.{module}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
