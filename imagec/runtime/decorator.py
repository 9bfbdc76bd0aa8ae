"""The ``@pipeline`` decorator: marks the function an image runs and records its image spec.

This module is imported inside built images, so it uses the standard library only.

    from imagec import pipeline

    @pipeline(requirements=["torch>=2.0,<3"])
    def train() -> None: ...

    train.image_spec   # {'requirements': [...]}, with .file and .line of the decorator

``imagec.runtime.runner`` runs a decorated pipeline inside an image.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar, overload

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
    return latest_in(_REGISTRY, file)


def latest_in(entries: list[Callable[..., Any]], file: str | os.PathLike[str]) -> list[Any]:
    wanted = os.path.realpath(file)
    latest: dict[str, Callable[..., Any]] = {}
    for p in entries:
        spec: ImageSpec = p.image_spec  # type: ignore[attr-defined]
        if os.path.realpath(spec.file) == wanted:
            latest.pop(spec.function, None)
            latest[spec.function] = p
    return list(latest.values())
