"""``imagec validate SPEC``: check a spec (and its surroundings) and report the first problem."""

from __future__ import annotations

import argparse

from imagec.cli.spec_options import project_of


def run(args: argparse.Namespace) -> int:
    project = project_of(args)
    print(f"ok: {project.doc.path}")
    return 0
