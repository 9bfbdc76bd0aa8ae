"""The ``@pipeline`` decorator: marks the function an image runs and records its image spec.

This module is imported inside built images, so it uses the standard library only.

    from imagec import pipeline

    @pipeline(requirements=["torch>=2.0,<3"])
    def train() -> None: ...

    train.image_spec   # {'requirements': [...]}, with .file and .line of the decorator

Running ``python -m imagec.run FILE[:NAME]`` imports FILE and calls its pipeline with no
arguments; that is how an image's default command starts it.
"""

from __future__ import annotations

import functools
import os
import sys
import types
from collections.abc import Callable
from typing import Any, TypeVar, overload

from imagec.errors import ImagecError, SpecError

F = TypeVar("F", bound=Callable[..., Any])
_CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect


class ImageSpec(dict[str, Any]):
    """The decorator's keyword arguments, plus the function and the place they were declared."""

    __slots__ = ("file", "function", "line")

    def __init__(self, fields: dict[str, Any], *, function: str, file: str, line: int) -> None:
        super().__init__(fields)
        self.function = function
        self.file = file
        self.line = line

    def __repr__(self) -> str:
        return f"ImageSpec({dict(self)!r}, function={self.function!r}, at={self.file}:{self.line})"


# Every decorated function, in decoration order; `pipelines_in(file)` reads it.
_REGISTRY: list[Callable[..., Any]] = []


@overload
def pipeline(func: F, /) -> F: ...
@overload
def pipeline(**spec_fields: Any) -> Callable[[F], F]: ...
def pipeline(func: Callable[..., Any] | None = None, /, **spec_fields: Any) -> Any:
    """Mark ``func`` as a pipeline; use as ``@pipeline`` or ``@pipeline(**spec_fields)``.

    The keyword arguments are image-spec fields (``requirements``, ``required_integrations``,
    ``base_image``, ...); imagec reads them from the source without running the file. The
    function is unchanged: calling it runs it. Running a pipeline means calling it with no
    arguments, so give every parameter a default.
    """
    if func is None:
        return lambda f: _decorate(f, spec_fields)
    if spec_fields or not callable(func):
        raise TypeError("pipeline() takes spec fields as keyword arguments only")
    return _decorate(func, {})


def _decorate(func: Callable[..., Any], fields: dict[str, Any]) -> Callable[..., Any]:
    if not callable(func):
        raise TypeError(f"@pipeline must decorate a function, not {type(func).__name__}")
    if hasattr(func, "image_spec"):
        raise TypeError(f"{func.__qualname__} is already decorated with @pipeline")
    code = getattr(func, "__code__", None)
    # Since Python 3.8 co_firstlineno is the line of the first decorator, i.e. the declaration.
    file = os.path.abspath(code.co_filename) if code else "<unknown>"
    line = code.co_firstlineno if code else 0

    wrapper: Callable[..., Any]
    if code is not None and code.co_flags & _CO_COROUTINE:
        # Stay a coroutine function, so frameworks that check for one still see it.
        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            return await func(*args, **kwargs)
    else:

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

    name = getattr(func, "__qualname__", getattr(func, "__name__", repr(func)))
    wrapper.image_spec = ImageSpec(fields, function=name, file=file, line=line)  # type: ignore[attr-defined]
    _REGISTRY.append(wrapper)
    return wrapper


def registered_pipelines() -> list[Callable[..., Any]]:
    """Every pipeline decorated so far in this process, in order."""
    return list(_REGISTRY)


def pipelines_in(file: str | os.PathLike[str]) -> list[Callable[..., Any]]:
    """The pipelines declared in ``file``; a file imported twice keeps its latest definitions."""
    return _latest_in(_REGISTRY, file)


def _latest_in(entries: list[Callable[..., Any]], file: str | os.PathLike[str]) -> list[Any]:
    wanted = os.path.realpath(file)
    latest: dict[str, Callable[..., Any]] = {}
    for p in entries:
        spec: ImageSpec = p.image_spec  # type: ignore[attr-defined]
        if os.path.realpath(spec.file) == wanted:
            latest.pop(spec.function, None)
            latest[spec.function] = p
    return list(latest.values())


def run(file: str | os.PathLike[str], name: str | None = None) -> Any:
    """Import ``file`` and call its pipeline (``name`` picks one of several) with no arguments."""
    path = os.path.abspath(file)
    if not os.path.isfile(path):
        raise SpecError("file not found", file=file)
    before = len(_REGISTRY)
    # Sibling modules of the file (``from steps import train``) must be importable.
    sys.path.insert(0, os.path.dirname(path))
    try:
        import runpy

        runpy.run_path(path, run_name="__imagec_pipeline__")
    finally:
        sys.path.remove(os.path.dirname(path))
    found = {p.image_spec.function: p for p in _latest_in(_REGISTRY[before:], path)}
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


def _call(p: Callable[..., Any]) -> Any:
    result = p()
    if isinstance(result, types.CoroutineType):  # an async pipeline
        import asyncio

        return asyncio.run(result)
    return result


BUILD_INFO = "/etc/imagec/build.json"
"""What an image was built from (spec, IR digest, imagec version), written by imagec."""


def main(argv: list[str] | None = None) -> int:
    """``python -m imagec.run FILE[:NAME]``: run the pipeline declared in FILE.

    ``python -m imagec.run --inspect`` prints what the image was built from instead.
    """
    args = sys.argv[1:] if argv is None else argv
    if args == ["--inspect"]:
        try:
            with open(BUILD_INFO, encoding="utf-8") as f:
                sys.stdout.write(f.read())
        except OSError:
            print(f"imagec: {BUILD_INFO} not found: not an image built by imagec", file=sys.stderr)
            return 1
        return 0
    if len(args) != 1:
        print("usage: python -m imagec.run FILE[:NAME] | --inspect", file=sys.stderr)
        return 2
    file, sep, name = args[0].rpartition(":")
    if not sep or not name.isidentifier():
        file, name = args[0], ""
    try:
        run(file, name or None)
    except ImagecError as e:
        print(f"imagec: {e}", file=sys.stderr)
        return e.exit_code
    return 0
