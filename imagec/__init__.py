"""imagec: compile pipeline-image specs into container builds.

This module is imported inside built images, so it stays light: it pulls in no build
machinery (engine SDKs, jinja2, pathspec, the compiler).
"""

from __future__ import annotations

__version__ = "0.1.0"

from imagec.runtime.decorator import pipeline  # standard library only

__all__ = ["__version__", "pipeline"]
