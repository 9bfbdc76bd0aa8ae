"""imagec: compile pipeline-image specs into container builds.

This module is imported inside built images, so it stays light: it pulls in no build
machinery (engine SDKs, jinja2, pathspec, the compiler).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "pipeline"]


def __getattr__(name: str):  # lazy, so `import imagec` costs nothing extra
    if name == "pipeline":
        from imagec.pipeline import pipeline

        return pipeline
    raise AttributeError(f"module 'imagec' has no attribute {name!r}")
