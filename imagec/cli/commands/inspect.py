"""``imagec inspect IMAGE``: what an image was built from; ``-`` for the image this runs in.

The backend is chosen as ``imagec build`` chooses it (flag, ``IMAGEC_BACKEND``, the stack of
the repository holding the working directory), or from ``DOCKER_HOST``/``CONTAINER_HOST``
when only one is set.
"""

from __future__ import annotations

import argparse
import json
import os

from imagec.cli.backend_choice import (
    BACKEND_ENV_VAR,
    engine_backend_name,
    make_backend,
    stack_of_cwd,
)
from imagec.runtime.buildinfo import read_build_info


def run(args: argparse.Namespace) -> int:
    if args.image == "-":
        info = read_build_info()
    else:
        # The stack is read only when nothing before it decides: it costs a model load.
        decided = args.backend or os.environ.get(BACKEND_ENV_VAR)
        name = engine_backend_name(args.backend, None if decided else stack_of_cwd())
        info = make_backend(name, args).inspect(args.image)
    print(json.dumps(info, indent=2))
    return 0
