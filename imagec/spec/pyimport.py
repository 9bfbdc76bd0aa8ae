"""Read a ``@pipeline`` spec by importing the file (``--import``): its top-level code runs.

For specs built by code (``requirements=load_requirements()``). The file's imports must be
installed; errors while importing are reported as one line with the file and line.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import itertools
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from imagec.errors import SpecError
from imagec.runtime.decorator import registered_pipelines
from imagec.spec.document import Document, Loc
from imagec.spec.imports import package_root
from imagec.spec.pipeline_choice import choose
from imagec.spec.pysource import Pos, _Lines, read_source

_counter = itertools.count(1)


def import_spec(path: Path, function: str | None = None) -> Document:
    """Import ``path`` and return the spec of its ``@pipeline`` (``function`` picks one)."""
    source = read_source(path)
    before = len(registered_pipelines())
    module = _run(path)
    target = os.path.realpath(path)
    latest: dict[str, Callable[..., Any]] = {}
    for p in registered_pipelines()[before:]:
        if os.path.realpath(p.image_spec.file) == target:  # type: ignore[attr-defined]
            latest.pop(p.__name__, None)  # re-definitions replace earlier ones
            latest[p.__name__] = p
    found = [(name, p.image_spec.line, p) for name, p in latest.items()]  # type: ignore[attr-defined]
    undecorated = {
        name: obj.__code__.co_firstlineno
        for name, obj in vars(module).items()
        if callable(obj)
        and hasattr(obj, "__code__")
        and not hasattr(obj, "image_spec")
        and os.path.realpath(obj.__code__.co_filename) == target
    }
    chosen = choose(found, function, path, undecorated=undecorated)
    spec = chosen.image_spec  # type: ignore[attr-defined]
    data = {key: _plain(value) for key, value in spec.items()}
    values, keys, decorator = _positions(source, chosen.__name__, spec.line)
    at = decorator or (spec.line, 1)
    locations: dict[Loc, Pos] = {(): at}
    for key in data:
        locations[(key,)] = values.get(key, at)
    return Document(
        path=path,
        data=data,
        locations=locations,
        keys={(key,): keys.get(key, at) for key in data},
        base_dir=path.absolute().parent,
        pipeline=chosen.__name__,
    )


def _run(path: Path) -> Any:
    # A fresh, unique module name: importing the same file twice must run it twice, and
    # must not collide with a module of the same name on sys.path.
    stem = re.sub(r"\W", "_", path.stem)
    name = f"_imagec_import_{next(_counter)}_{stem}"
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    directory = str(path.absolute().parent)
    # A module inside a package imports its package's siblings (``from steps.train import
    # x``) from the package's import root, as it does in the image.
    root = package_root(path)
    directories = [directory] + ([str(root)] if root is not None else [])
    before = set(sys.modules)
    sys.modules[name] = module
    # The file's siblings (``from steps import train``) import as they do when it runs.
    for entry in reversed(directories):
        sys.path.insert(0, entry)
    try:
        loader.exec_module(module)
    except SyntaxError as e:
        if e.filename and os.path.realpath(e.filename) == os.path.realpath(path):
            raise SpecError(
                f"invalid Python syntax: {e.msg}", file=path, line=e.lineno, column=e.offset
            ) from None
        raise _import_error(e, path) from None
    except (Exception, SystemExit) as e:
        raise _import_error(e, path) from None
    finally:
        sys.modules.pop(name, None)
        for entry in directories:
            if entry in sys.path:
                sys.path.remove(entry)
        _forget_local_modules(before, directories)
    return module


def _forget_local_modules(before: set[str], directories: list[str]) -> None:
    """Drop the user's own modules this import loaded, so the next spec's ``steps`` package
    is its own and not a cached one from another project."""
    prefixes = tuple(os.path.join(os.path.realpath(d), "") for d in directories)
    for key in set(sys.modules) - before:
        file = getattr(sys.modules.get(key), "__file__", None)
        if file and os.path.realpath(file).startswith(prefixes):
            sys.modules.pop(key, None)


def _import_error(e: BaseException, path: Path) -> SpecError:
    # The innermost frame in the user's file is the line to show.
    target, line = os.path.realpath(path), None
    tb = e.__traceback__
    while tb is not None:
        if os.path.realpath(tb.tb_frame.f_code.co_filename) == target:
            line = tb.tb_lineno
        tb = tb.tb_next
    if isinstance(e, SystemExit):
        summary = f"SystemExit: the file exited with status {e.code!r} while being imported"
    else:
        text = str(e).strip().splitlines()
        summary = f"{type(e).__name__}: {text[0]}" if text else type(e).__name__
    hint = ""
    if isinstance(e, ImportError):
        hint = " (without --import, imagec reads the decorator without importing anything)"
    return SpecError(f"importing the file failed: {summary}{hint}", file=path, line=line)


def _positions(
    source: bytes, function: str, line: int
) -> tuple[dict[str, Pos], dict[str, Pos], Pos | None]:
    """Where each keyword's value and name are written, when the decorator spells them out."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}, {}, None
    lines = _Lines(source)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name == function
            and node.decorator_list
            and node.decorator_list[0].lineno == line
        ):
            values: dict[str, Pos] = {}
            keys: dict[str, Pos] = {}
            for dec in node.decorator_list:
                if isinstance(dec, ast.Call):
                    for kw in dec.keywords:
                        if kw.arg and kw.arg not in values:
                            values[kw.arg] = lines.pos(kw.value)
                            keys[kw.arg] = lines.pos(kw)
            return values, keys, lines.pos(node.decorator_list[0])
    return {}, {}, None


def _plain(value: Any) -> Any:
    """The shapes the static reader produces: lists, dicts and strings for paths."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        items = [_plain(v) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value
