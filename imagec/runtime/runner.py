"""Run the pipeline declared in a file or module: ``python -m imagec.runtime MODULE:NAME`` (a
pipeline inside a package, so its absolute imports work) or ``FILE[:NAME]`` (a file run by
path, and every image built before module targets existed) is the default command of an image
built from a decorated pipeline; ``--path DIR`` imports a MODULE target from ``DIR`` (the
package's import root, ``src``, when it lies below the image's workdir); ``--inspect`` prints
what the image was built from. Standard library only."""

from __future__ import annotations

import importlib
import os
import runpy
import sys
import types
from collections.abc import Callable
from typing import Any

from imagec.errors import ImagecError, SpecError
from imagec.runtime.buildinfo import BUILD_INFO
from imagec.runtime.decorator import latest_in, registered_pipelines


def run(file: str | os.PathLike[str], name: str | None = None) -> Any:
    """Import ``file`` and call its pipeline (``name`` picks one of several) with no arguments."""
    path = os.path.abspath(file)
    if not os.path.isfile(path):
        raise SpecError("file not found", file=file)
    before = len(registered_pipelines())
    # Sibling modules of the file (``from steps import train``) must be importable.
    sys.path.insert(0, os.path.dirname(path))
    try:
        runpy.run_path(path, run_name="__imagec_pipeline__")
    finally:
        sys.path.remove(os.path.dirname(path))
    found = {p.image_spec.function: p for p in latest_in(registered_pipelines()[before:], path)}
    if name is not None:
        if name not in found:
            listed = ", ".join(found) or "none"
            raise SpecError(f"no pipeline named '{name}'; pipelines: {listed}", file=file)
        return _call(found[name])
    if not found:
        raise SpecError("no function decorated with @pipeline in this file", file=file)
    if len(found) > 1:
        listed = ", ".join(found)
        raise SpecError(f"several pipelines: {listed}; choose one with FILE:NAME", file=file)
    return _call(next(iter(found.values())))


def run_module(module: str, name: str, path: str | None = None) -> Any:
    """Import ``module`` (from ``path``, relative to the working directory, else from the working
    directory itself: the image's source root) and call its pipeline ``name``: how a pipeline
    inside a package runs, with its absolute imports."""
    where = os.path.join(os.getcwd(), path) if path else os.getcwd()
    if not os.path.isdir(where):
        raise SpecError(f"import root {where} is not a directory", file=module)
    sys.path.insert(0, where)
    try:
        loaded = importlib.import_module(module)
    finally:
        if where in sys.path:
            sys.path.remove(where)
    p = getattr(loaded, name, None)
    if p is None or not hasattr(p, "image_spec"):
        found = [q.image_spec.function for q in latest_in(registered_pipelines(), loaded.__file__)]
        listed = ", ".join(found) or "none"
        raise SpecError(f"no pipeline named '{name}'; pipelines: {listed}", file=module)
    return _call(p)


def is_module_target(target: str) -> bool:
    """``pipelines.training:training`` names a module; ``run.py:training`` or ``a/b:x`` a file."""
    module, sep, name = target.rpartition(":")
    if not sep or not name.isidentifier() or module.endswith(".py"):
        return False  # FILE.py:NAME, the only form images built before module targets use
    return all(p.isidentifier() for p in module.split("."))


def _call(p: Callable[..., Any]) -> Any:
    result = p()
    if isinstance(result, types.CoroutineType):  # an async pipeline
        import asyncio  # lazy: 35 ms of start-up that synchronous pipelines never need

        return asyncio.run(result)
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m imagec.runtime [--path DIR] MODULE:NAME`` or ``FILE[:NAME]``: run that
    pipeline.

    ``python -m imagec.runtime --inspect`` prints what the image was built from instead (after
    ``--path DIR`` too: the image's entrypoint may hold it, and ``docker run IMAGE --inspect``
    replaces only the command).
    """
    args = sys.argv[1:] if argv is None else argv
    path = None
    if len(args) >= 2 and args[0] == "--path":
        path, args = args[1], args[2:]
    if args == ["--inspect"]:
        try:
            with open(BUILD_INFO, encoding="utf-8") as f:
                sys.stdout.write(f.read())
        except OSError:
            print(f"imagec: {BUILD_INFO} not found: not an image built by imagec", file=sys.stderr)
            return 1
        return 0
    if len(args) != 1:
        print(
            "usage: python -m imagec.runtime [--path DIR] MODULE:NAME | FILE[:NAME] | --inspect",
            file=sys.stderr,
        )
        return 2
    if is_module_target(args[0]):
        module, _, name = args[0].rpartition(":")
        try:
            run_module(module, name, path)
        except ImagecError as e:
            print(f"imagec: {e}", file=sys.stderr)
            return e.exit_code
        return 0
    file, sep, name = args[0].rpartition(":")
    if not sep or not name.isidentifier():
        file, name = args[0], ""
    try:
        run(file, name or None)
    except ImagecError as e:
        print(f"imagec: {e}", file=sys.stderr)
        return e.exit_code
    return 0
