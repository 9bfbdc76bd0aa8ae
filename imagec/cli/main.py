"""``imagec``'s entry point: parse, dispatch to the command's module, print errors as one line."""

from __future__ import annotations

import gc
import importlib
import os
import sys
from collections.abc import Sequence

from imagec.errors import ImagecError

# Command name -> the module whose ``run(args) -> int`` carries it out. Modules load on use, so
# `imagec --version` or `imagec context DIR` never pay for the compiler and pydantic.
COMMANDS: dict[str, str] = {
    "compile": "imagec.cli.commands.compile",
    "ir": "imagec.cli.commands.ir",
    "validate": "imagec.cli.commands.validate",
    "schema": "imagec.cli.commands.schema",
    "backends": "imagec.cli.commands.backends",
    "export": "imagec.cli.commands.export",
    "context": "imagec.cli.commands.context",
    "init": "imagec.cli.commands.init",
    "build": "imagec.cli.commands.build",
    "inspect": "imagec.cli.commands.inspect",
}
# Commands that run for as long as an engine builds, reading its stream: they keep the cyclic
# garbage collector (see `main`).
LONG_RUNNING = frozenset({"build"})


def main(argv: Sequence[str] | None = None) -> int:
    # The cyclic collector would walk every module, class and schema object that start-up
    # creates, over and over, to free next to nothing: a command makes few reference cycles.
    # Without it, a compile of 5,000 requirements in a 50k-file tree peaks at the same memory
    # in half the time, and a 50k-file context archive at the same memory. Reference counting
    # still frees everything else. Restored on return, for callers in the same process.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _main(argv)
    finally:
        (gc.enable if enabled else gc.disable)()


def _main(argv: Sequence[str] | None) -> int:
    # pydantic scans every installed distribution for plugins of its own the first time a
    # model is built; imagec's models need none, and the scan costs more than a compile.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    args = None
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["context"]:
        # `imagec context DIR --tar OUT` is timed against tar: its plain forms skip building
        # every command's parser (argparse and building it were ~6% of its instructions).
        from imagec.cli.commands.context import plain_args

        args = plain_args(argv[1:])
    if args is None:
        from imagec.cli.parser import build_parser

        args = build_parser().parse_args(argv)
    if args.command in LONG_RUNNING:
        gc.enable()
    try:
        if args.command == "build":
            # An unchanged project is answered before anything heavy loads.
            from imagec.cli.build_fastpath import fast_build

            code = fast_build(args)
            if code is not None:
                return code
        return importlib.import_module(COMMANDS[args.command]).run(args) or 0
    except ImagecError as exc:
        print(str(exc) if exc.file else f"imagec: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("imagec: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # disk full, permissions... on the way out: one line, not a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"imagec: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
