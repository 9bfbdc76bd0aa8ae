"""``imagec inspect IMAGE``: what an image was built from; ``-`` for the image this runs in."""

from __future__ import annotations

import argparse
import json

from imagec.cli.backend_choice import engine_backend_name, make_backend
from imagec.runtime.buildinfo import read_build_info


def run(args: argparse.Namespace) -> int:
    if args.image == "-":
        info = read_build_info()
    else:
        info = make_backend(engine_backend_name(args.backend, None), args).inspect(args.image)
    print(json.dumps(info, indent=2))
    return 0
