"""The project a command's SPEC argument and spec flags (``--import``, ``--stack``,
``--dockerignore``) name."""

from __future__ import annotations

import argparse

from imagec.project import Project, load_project


def project_of(args: argparse.Namespace, *, no_cache_mount: bool = False) -> Project:
    return load_project(
        args.spec,
        import_module=args.import_module,
        stack=args.stack,
        dockerignore=args.dockerignore,
        no_cache_mount=no_cache_mount,
    )
