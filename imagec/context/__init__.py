"""The build context: which files of the user's tree are sent, and as what archive.

Selection follows the docker CLI exactly (``.dockerignore`` semantics of
moby/patternmatcher and the classic build walk); the archive is reproducible.
"""

from __future__ import annotations

from imagec.context.dockerignore import (
    CONTAINERIGNORE,
    DOCKERIGNORE,
    IgnoreLine,
    IgnoreRules,
    find_ignore_file,
    parse_ignore,
    read_ignore_file,
    rules_from_text,
)
from imagec.context.pattern import DockerPattern, IgnoreMatcher, InvalidPatternError
from imagec.context.selection import ContextSelection, keep_paths, select_context
from imagec.context.source_root import REPO_MARKER, SourceRoot, detect_source_root
from imagec.context.tarball import DEFAULT_MTIME, ExtraFile, context_digest, write_context_tar
from imagec.context.walk import ContextEntry, leaf_listing, walk_context

__all__ = [
    "CONTAINERIGNORE",
    "DEFAULT_MTIME",
    "DOCKERIGNORE",
    "REPO_MARKER",
    "ContextEntry",
    "ContextSelection",
    "DockerPattern",
    "ExtraFile",
    "IgnoreLine",
    "IgnoreMatcher",
    "IgnoreRules",
    "InvalidPatternError",
    "SourceRoot",
    "context_digest",
    "detect_source_root",
    "find_ignore_file",
    "keep_paths",
    "leaf_listing",
    "parse_ignore",
    "read_ignore_file",
    "rules_from_text",
    "select_context",
    "walk_context",
    "write_context_tar",
]
