"""``imagec export SPEC -o DIR``: write a self-contained build directory."""

from __future__ import annotations

import argparse
from pathlib import Path

from imagec.cli.backend_choice import make_backend
from imagec.cli.spec_options import project_of
from imagec.project import build_for
from imagec.util.fsutil import check_replaceable


def run(args: argparse.Namespace) -> int:
    backend = make_backend(args.backend, args)
    project = project_of(args)
    out = Path(args.output)
    if args.force:
        # Before the backend runs: --force never deletes the spec, the source root, the
        # working directory or a repository (the context checks its roots again).
        protect = [("the spec", project.doc.path)]
        if project.source_root is not None:
            protect.append(("the source root", project.source_root))
        check_replaceable(out, protect)
    backend.export(build_for(project, backend), out, force=args.force)
    print(f"wrote {args.output}")
    return 0
