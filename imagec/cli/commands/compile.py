"""``imagec compile SPEC``: print or write the build file the backend lowers the plan to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagec.cli.backend_choice import make_backend
from imagec.cli.output import write_output
from imagec.cli.spec_options import project_of

if TYPE_CHECKING:
    import argparse  # a compile's plain forms never load argparse


def run(args: argparse.Namespace) -> int:
    backend = make_backend(args.backend, args)
    project = project_of(args)
    write_output(backend.render(project.plan), args.output)
    return 0
