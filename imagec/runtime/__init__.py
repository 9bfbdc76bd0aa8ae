"""What ships into images and runs there; standard library only.

- ``pipeline``: the decorator that marks the function an image runs (``decorator.py``);
- ``python -m imagec.runtime FILE[:NAME]``: the image's default command (``runner.py``);
- ``/etc/imagec/build.json``: what the image was built from (``buildinfo.py``).
"""

from __future__ import annotations

from imagec.runtime.decorator import ImageSpec, pipeline, pipelines_in, registered_pipelines
from imagec.runtime.runner import run

__all__ = ["ImageSpec", "pipeline", "pipelines_in", "registered_pipelines", "run"]
