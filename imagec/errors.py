"""The one user-facing error base: printed as a single line, never with a traceback."""

from __future__ import annotations

# Not `from typing import TYPE_CHECKING`, and no `re` or `pathlib` at import: every command loads
# this module, and those three were a quarter of `imagec context DIR --tar`'s start-up.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike


class ImagecError(Exception):
    """A problem the user can fix. ``exit_code`` 2 is bad input; 1 is a build or engine failure.

    Rendered as ``file:line:col: field: message`` with the parts that are known.
    """

    exit_code = 2
    one_line = True  # escape line breaks and controls in the message too (bad input)

    def __init__(
        self,
        message: str,
        *,
        file: str | PathLike[str] | None = None,
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
        if not self.one_line:
            # A build failure ends with the output tail, lines on purpose; its place is still
            # one line.
            return f"{_one_line(where + field)}{self.message}"
        return _one_line(f"{where}{field}{self.message}")


# Control characters, line and paragraph separators and bidirectional controls, which would
# break the message into lines or drive the terminal (file names and values come from users).
_UNSAFE = "[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
MAX_MESSAGE = 2000  # characters; values in messages are cut shorter (util.text.show)


def _one_line(text: str) -> str:
    """``text`` as one printable line: unsafe characters escaped (``\\x1b``), cut when long."""
    if not (text.isascii() and text.isprintable()):  # printable ASCII holds none of them
        import re  # only for such a message: most commands never show one

        text = re.sub(_UNSAFE, lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    if len(text) > MAX_MESSAGE:
        text = f"{text[:MAX_MESSAGE]}... ({len(text)} characters)"
    return text


class SpecError(ImagecError):
    """The spec, a file it names, or a command-line flag is invalid (exit 2)."""


class EngineError(ImagecError):
    """The container engine is missing, unreachable or refused a request (exit 1)."""

    exit_code = 1
    one_line = False


class BuildError(ImagecError):
    """A build step failed (exit 1)."""

    exit_code = 1
    one_line = False
