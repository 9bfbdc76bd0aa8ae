"""The one user-facing error base: printed as a single line, never with a traceback."""

from __future__ import annotations

from pathlib import Path


class ImagecError(Exception):
    """A problem the user can fix. ``exit_code`` 2 is bad input; 1 is a build or engine failure.

    Rendered as ``file:line:col: field: message`` with the parts that are known.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.column = column
        self.field = field

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class SpecError(ImagecError):
    """The spec, a file it names, or a command-line flag is invalid (exit 2)."""


class EngineError(ImagecError):
    """The container engine is missing, unreachable or refused a request (exit 1)."""

    exit_code = 1


class BuildError(ImagecError):
    """A build step failed (exit 1)."""

    exit_code = 1
