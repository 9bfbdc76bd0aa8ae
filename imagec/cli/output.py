"""How commands print: JSON, or text to stdout or atomically to a file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from imagec.util.fsutil import atomic_write_text


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2))


def write_output(text: str, output: str | None) -> None:
    """Print, or write atomically to ``output`` (never a half-written file)."""
    if output is None:
        sys.stdout.write(text)
        return
    atomic_write_text(Path(output), text)
