"""``imagec ir SPEC``: print the plan (ordered build steps) as JSON."""

from __future__ import annotations

import argparse
import sys

from imagec.cli.spec_options import project_of


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(project_of(args).plan.to_json())
    return 0
