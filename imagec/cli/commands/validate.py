"""``imagec validate SPEC``: check a spec (and its surroundings) and report the first problem."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagec.cli.spec_options import project_of

if TYPE_CHECKING:
    import argparse  # a compile's plain forms never load argparse


def run(args: argparse.Namespace) -> int:
    project = project_of(args)
    print(f"ok: {project.doc.path}")
    return 0
