"""``imagec export SPEC -o DIR``: write a self-contained build directory."""

from __future__ import annotations

import argparse
from pathlib import Path

from imagec.cli.backend_choice import make_backend
from imagec.cli.spec_options import project_of
from imagec.project import build_for


def run(args: argparse.Namespace) -> int:
    backend = make_backend(args.backend, args)
    project = project_of(args)
    backend.export(build_for(project, backend), Path(args.output), force=args.force)
    print(f"wrote {args.output}")
    return 0
