"""``imagec context ROOT_OR_SPEC``: a directory is a source root taken as the docker CLI would
take it; a spec (file or FILE.py[:NAME]) shows imagec's whole build context for that spec.

``--list`` (default) prints the leaf listing, ``--tar OUT`` writes the archive, ``--hash``
prints the content hash; for a spec, the source root and ignore file in use go to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from types import SimpleNamespace

from imagec.context.selection import select_context
from imagec.context.tarball import write_context_tar
from imagec.context.walk import ContextEntry
from imagec.errors import SpecError
from imagec.util.outputs import without_outputs, write_target
from imagec.util.pathtext import is_dir, path_text
from imagec.util.treereader import TreeReader

# `context DIR --tar` is timed against GNU tar: it loads neither typing nor pathlib (with the
# `re` both import, a third of its start-up), so the modules above import neither.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import BinaryIO

# The forms plain_args takes: option -> its attribute, and whether it takes a value.
_PLAIN = {
    "--tar": ("tar", True),
    "--list": ("list", False),
    "--hash": ("hash", False),
    "--file": ("file", True),
    "--dockerignore": ("dockerignore", True),
}


def plain_args(argv: list[str]) -> SimpleNamespace | None:
    """The arguments of ``imagec context`` parsed without argparse, for its plain forms:
    one ROOT_OR_SPEC and each of ``--tar OUT``, ``--list``, ``--hash``, ``--file F``,
    ``--dockerignore F`` at most once (``--opt=value`` too). Anything else (help, an
    abbreviation, ``--``, a value starting with ``-``, two of --tar/--list/--hash) is None:
    the full parser then takes it, with its errors."""
    found: dict[str, str | bool] = {}
    target = None
    words = iter(argv)
    for word in words:
        if not word.startswith("-") or word == "-":
            if target is not None:
                return None
            target = word
            continue
        option, equals, value = word.partition("=")
        if option not in _PLAIN or option in found:
            return None
        takes_value = _PLAIN[option][1]
        if takes_value and not equals:
            value = next(words, "")
        if takes_value != bool(value) or (value.startswith("-") and value != "-"):
            return None
        found[option] = value or True
    if target is None or sum(o in found for o in ("--tar", "--list", "--hash")) > 1:
        return None
    return SimpleNamespace(
        command="context",
        target=target,
        import_module=False,
        stack=None,
        **{
            attr: found.get(option, None if takes else False)
            for option, (attr, takes) in _PLAIN.items()
        },
    )


def _leave_out(entries: Iterator[ContextEntry], out: str) -> Iterator[ContextEntry]:
    """Less ``out`` itself when the archive is written inside the tree it is made from."""
    return without_outputs(entries, [] if out == "-" else [out])


def _root_tar(f: BinaryIO, root: str, entries: Iterator[ContextEntry], out: str) -> None:
    """A source root's archive; files opened beneath the root, following no symlink."""
    entries = _leave_out(entries, out)
    files = TreeReader(root)
    try:
        write_context_tar(f, entries, opener=files.open_regular, digest=False)
    finally:
        files.close()


def run(args: argparse.Namespace | SimpleNamespace) -> int:
    target = path_text(args.target)  # as str(Path(...)) spells it
    if is_dir(target):
        selection = select_context(target, ignore_file=args.dockerignore, dockerfile=args.file)
        if args.tar:
            entries = selection.entries()
            write_target(args.tar, lambda f: _root_tar(f, target, entries, args.tar))
        elif args.hash:
            print(selection.digest())
        else:
            sys.stdout.write("".join(p + "\n" for p in selection.leaf_listing()))
        return 0
    if args.file is not None:
        raise SpecError("--file applies to a source root directory, not a spec", field="--file")
    return _spec_context(args, target)


def _spec_context(args: argparse.Namespace | SimpleNamespace, target: str) -> int:
    # Lazy: a source root directory needs none of the compiler, and start-up is most of its time.
    from imagec.backend.buildcontext import BuildContext
    from imagec.backend.containerfile import render
    from imagec.project import load_project

    project = load_project(
        target,
        import_module=args.import_module,
        stack=args.stack,
        dockerignore=args.dockerignore,
    )
    root, ignore = project.source_root, project.ignore_file
    print(f"source root: {root} ({project.root_rule})", file=sys.stderr)
    print(f"ignore file: {ignore if ignore else 'none'}", file=sys.stderr)
    context = BuildContext(project.plan, "Containerfile", render(project.plan))
    if args.tar:
        entries = context.entries()  # reads the ignore files first: inputs are never targets
        write_target(args.tar, lambda f: context.write_tar(f, _leave_out(entries, args.tar)))
    elif args.hash:
        print(context.content_hash)
    elif root is not None:
        selection = select_context(root, ignore_file=ignore)
        sys.stdout.write("".join(p + "\n" for p in selection.leaf_listing()))
    return 0
