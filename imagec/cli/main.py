"""``imagec``'s entry point: parse, dispatch to the command's module, print errors as one line."""

from __future__ import annotations

import gc
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from types import SimpleNamespace

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
# The plain forms of the spec commands, read without argparse (building the parser for every
# command was ~28 M instructions of a compile's start-up): option -> (attribute, takes a value).
_SPEC_OPTIONS = {
    "--import": ("import_module", False),
    "--resolve-online": ("resolve_online", False),
    "--stack": ("stack", True),
    "--dockerignore": ("dockerignore", True),
}
PLAIN_OPTIONS: dict[str, dict[str, tuple[str, bool]]] = {
    "compile": {
        **_SPEC_OPTIONS,
        "--backend": ("backend", True),
        "-o": ("output", True),
        "--output": ("output", True),
    },
    "ir": _SPEC_OPTIONS,
    "validate": _SPEC_OPTIONS,
}
# What argparse gives an option that is not on the command line (a new list each time).
_PLAIN_DEFAULTS: dict[str, Callable[[], dict[str, object]]] = {
    "compile": lambda: {"backend": "containerfile", "option": [], "on_unsupported": "error"},
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


def plain_args(argv: list[str]) -> SimpleNamespace | None:
    """``imagec compile|ir|validate`` arguments read as argparse reads their plain forms: one
    SPEC and each option of ``PLAIN_OPTIONS`` at most once (``--opt=value`` too). Anything else
    (help, an abbreviation, ``--``, ``-oFILE``, a value starting with ``-``, a repeated option)
    is None: the full parser takes it, with its errors."""
    command, words = (argv[0], iter(argv[1:])) if argv else (None, iter(()))
    options = PLAIN_OPTIONS.get(command)  # type: ignore[arg-type]
    if options is None:
        return None
    found: dict[str, object] = {}
    spec = None
    for word in words:
        if not word.startswith("-") or word == "-":
            if spec is not None:
                return None
            spec = word
            continue
        # `--opt=value`; a short option's `=` would be part of its value.
        option, equals, value = word.partition("=") if word.startswith("--") else (word, "", "")
        if option not in options or options[option][0] in found:
            return None
        attr, takes_value = options[option]
        if takes_value and not equals:
            value = next(words, "")
        if takes_value != bool(value) or (value.startswith("-") and value != "-"):
            return None
        found[attr] = value or True
    if spec is None:
        return None
    defaults = {attr: None if takes else False for attr, takes in options.values()}
    fixed = _PLAIN_DEFAULTS[command]() if command in _PLAIN_DEFAULTS else {}
    args = {**defaults, **fixed, **found}
    return SimpleNamespace(command=command, spec=spec, **args)


def _main(argv: Sequence[str] | None) -> int:
    # pydantic scans every installed distribution for plugins of its own the first time a
    # model is built; imagec's models need none, and the scan costs more than a compile.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    args = None
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["context"]:
        # `imagec context DIR --tar OUT` is timed against tar: its plain forms skip building
        # every command's parser (argparse and building it were ~6% of its instructions).
        from imagec.cli.commands.context import plain_args as plain_context_args

        args = plain_context_args(argv[1:])
    else:
        args = plain_args(argv)
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
