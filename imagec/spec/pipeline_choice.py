"""Pick the pipeline a command means when a file declares several (shared by both modes)."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from imagec.errors import SpecError
from imagec.util.suggest import did_you_mean

T = TypeVar("T")


def choose(
    found: list[tuple[str, int, T]],
    function: str | None,
    path: Path,
    *,
    undecorated: dict[str, int] | None = None,
) -> T:
    """``found`` holds ``(name, line, item)`` per pipeline; return the item ``function`` names.

    ``undecorated`` maps plain function names to their lines, to explain a name that exists
    but lacks the decorator.
    """
    if function is None:
        if len(found) == 1:
            return found[0][2]
        if not found:
            raise SpecError("no function decorated with @pipeline in this file", file=path)
        listed = ", ".join(f"{name} (line {line})" for name, line, _ in found)
        raise SpecError(
            f"{len(found)} pipelines in this file: {listed}; choose one with {path}:NAME",
            file=path,
        )
    matches = [item for name, _, item in found if name == function]
    if len(matches) == 1:
        return matches[0]
    if matches:
        lines = ", ".join(str(line) for name, line, _ in found if name == function)
        raise SpecError(
            f"pipeline '{function}' is defined more than once (lines {lines})", file=path
        )
    if undecorated and function in undecorated:
        raise SpecError(
            f"function '{function}' is not decorated with @pipeline",
            file=path,
            line=undecorated[function],
        )
    names = [name for name, _, _ in found]
    hint = did_you_mean(function, names)
    listed = f"; pipelines in this file: {', '.join(names)}" if names and not hint else ""
    raise SpecError(f"no pipeline named '{function}'{hint}{listed}", file=path)
