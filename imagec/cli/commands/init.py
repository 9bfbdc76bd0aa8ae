"""``imagec init [DIR]``: make DIR an imagec repository (``.imagec/`` with the default stack)."""

from __future__ import annotations

import argparse
from pathlib import Path

from imagec.resolve.stack import init_repository


def run(args: argparse.Namespace) -> int:
    path = init_repository(Path(args.directory))
    print(f"initialized imagec repository: {path}")
    return 0
