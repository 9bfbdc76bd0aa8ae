"""How commands print: JSON, or text to stdout or to the file the user named."""

from __future__ import annotations

import json
import sys

from imagec.util.fsutil import write_target


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2))


def write_output(text: str, output: str | None) -> None:
    """Print, or write to ``output`` (see ``write_target``: ``-`` is stdout, devices and FIFOs
    are written into, regular files replaced atomically, inputs never overwritten)."""
    if output is None:
        sys.stdout.write(text)
        return
    data = text.encode()
    write_target(output, lambda f: f.write(data))
