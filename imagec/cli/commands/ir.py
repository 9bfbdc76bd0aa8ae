"""``imagec ir SPEC``: print the plan (ordered build steps) as JSON; the source root and the
rule that chose it go to stderr, as ``imagec context SPEC`` shows them."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from imagec.cli.spec_options import project_of

if TYPE_CHECKING:
    import argparse  # a compile's plain forms never load argparse


def run(args: argparse.Namespace) -> int:
    project = project_of(args)
    print(f"source root: {project.source_root} ({project.root_rule})", file=sys.stderr)
    sys.stdout.write(project.plan.to_json())
    return 0
