"""The project a command's SPEC argument and spec flags (``--import``, ``--stack``,
``--dockerignore``, ``--resolve-online``) name."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from imagec.project import Project, load_project
from imagec.resolve.requirement_layers import UNUSED_FILE_HINTS

if TYPE_CHECKING:
    import argparse  # a compile's plain forms never load argparse


def project_of(args: argparse.Namespace, *, no_cache_mount: bool = False) -> Project:
    if getattr(args, "resolve_online", False):
        # Read where lock files are exported (imagec.resolve.lockfiles.exporters), which
        # loads only for a spec that has them.
        os.environ["IMAGEC_RESOLVE_ONLINE"] = "1"
    # compile, ir, validate, export and build: where a file left out is worth a hint.
    UNUSED_FILE_HINTS.set(True)
    return load_project(
        args.spec,
        import_module=args.import_module,
        stack=args.stack,
        dockerignore=args.dockerignore,
        no_cache_mount=no_cache_mount,
    )
