"""``imagec schema``: the spec's JSON Schema, or its Markdown field reference."""

from __future__ import annotations

import argparse

from imagec.cli.output import write_output
from imagec.model.schema import markdown, schema_text


def run(args: argparse.Namespace) -> int:
    write_output(markdown() if args.markdown else schema_text(), args.output)
    return 0
