"""imagec: compile pipeline-image specs into container builds.

This module is imported inside built images, so it stays light: it pulls in no build
machinery (engine SDKs, jinja2, pathspec, the compiler). ``pipeline`` (standard library
only) loads on first use, so the ``imagec`` command does not pay for the runtime.
"""

from __future__ import annotations

__version__ = "0.1.0"

# Not `from typing import TYPE_CHECKING`: typing (with re and collections) would be most of
# what `import imagec` costs inside an image.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from imagec.runtime.decorator import pipeline

__all__ = ["__version__", "pipeline"]


def __getattr__(name: str) -> Any:
    # `from imagec import pipeline` in a user's module lands here once (PEP 562).
    if name == "pipeline":
        from imagec.runtime.decorator import pipeline

        return pipeline
    raise AttributeError(f"module 'imagec' has no attribute {name!r}")
