"""The build context: which files of the user's tree are sent, and as what archive.

Selection follows the docker CLI exactly (``.dockerignore`` semantics of
moby/patternmatcher and the classic build walk); the archive is reproducible.
"""

from __future__ import annotations

import importlib

# Names resolve lazily: importing the package loads none of the pattern machinery.
_WHERE = {
    "CONTAINERIGNORE": "selection",
    "DOCKERIGNORE": "selection",
    "find_ignore_file": "selection",
    "IgnoreLine": "dockerignore",
    "IgnoreRules": "dockerignore",
    "parse_ignore": "dockerignore",
    "read_ignore_file": "dockerignore",
    "rules_from_text": "dockerignore",
    "DockerPattern": "pattern",
    "IgnoreMatcher": "pattern",
    "InvalidPatternError": "pattern",
    "ContextSelection": "selection",
    "select_context": "selection",
    "DEFAULT_MTIME": "tarball",
    "ExtraFile": "tarball",
    "context_digest": "tarball",
    "write_context_tar": "tarball",
    "ContextEntry": "walk",
    "leaf_listing": "walk",
    "walk_context": "walk",
}


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module 'imagec.context' has no attribute {name!r}")
    return getattr(importlib.import_module(f"imagec.context.{_WHERE[name]}"), name)


__all__ = sorted(_WHERE)  # one list of names: the lazy map is it
