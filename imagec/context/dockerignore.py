"""Reading ignore files the way the docker CLI does (moby/patternmatcher ``ignorefile.ReadAll``).

Rules, in order, per line:

- a UTF-8 byte order mark at the start of the file is dropped;
- a line whose first character is ``#`` is a comment (``  # x`` is a pattern);
- surrounding whitespace is trimmed and blank lines are dropped;
- ``!`` marks an exception; the rest is cleaned like Go's ``path.Clean`` and one
  leading ``/`` is removed, so ``/a/./b/`` means ``a/b`` and ``/../x`` means ``x``
  (``../x`` stays as it is and matches nothing).
"""

from __future__ import annotations

from collections import namedtuple

from imagec.context.gosyntax import clean, trim_space
from imagec.context.pattern import DockerPattern, IgnoreMatcher, InvalidPatternError
from imagec.errors import SpecError
from imagec.util.pathtext import path_text
from imagec.util.userfiles import read_user_bytes

TYPE_CHECKING = False  # not typing's, and no pathlib: `imagec context --tar` reads this file
if TYPE_CHECKING:
    from os import PathLike
    from pathlib import Path

_BOM = "\ufeff"
# bufio.Scanner's default limit: Docker fails on a line of 64 KiB or more.
_MAX_LINE = 64 * 1024


class IgnoreLine(namedtuple("IgnoreLine", ("pattern", "line"))):
    """A pattern (str) as ``ReadAll`` returns it (``!`` kept), with its 1-based ``line``."""

    __slots__ = ()


class IgnoreRules:
    """A parsed and compiled ignore file: its ``lines`` (a tuple of ``IgnoreLine``) and their
    ``matcher``; ``file`` names it as given (``str(Path(file))``), None for text alone."""

    __slots__ = ("file", "lines", "matcher")

    def __init__(
        self, file: str | None, lines: tuple[IgnoreLine, ...], matcher: IgnoreMatcher
    ) -> None:
        self.file = file
        self.lines = lines
        self.matcher = matcher

    @property
    def path(self) -> Path | None:
        """``file`` as a Path (pathlib loads only when asked)."""
        from pathlib import Path

        return Path(self.file) if self.file is not None else None

    @property
    def patterns(self) -> tuple[str, ...]:
        return tuple(line.pattern for line in self.lines)


def parse_ignore(text: str | bytes, *, file: str | PathLike[str] | None = None) -> list[IgnoreLine]:
    """Split ignore-file text into patterns exactly as Docker's ``ReadAll`` does.

    Bytes are decoded as UTF-8 with undecodable bytes kept (``surrogateescape``),
    the same way file names are.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    text = text.removeprefix(_BOM)
    raw_lines = text.split("\n")
    if raw_lines and raw_lines[-1] == "":
        raw_lines.pop()  # a final newline does not start another line
    out: list[IgnoreLine] = []
    for number, raw in enumerate(raw_lines, start=1):
        if len(raw) >= _MAX_LINE // 4 and len(raw.encode("utf-8", "surrogateescape")) >= _MAX_LINE:
            raise SpecError(f"line is longer than {_MAX_LINE - 1} bytes", file=file, line=number)
        raw = raw.removesuffix("\r")
        if raw.startswith("#"):
            continue
        pattern = trim_space(raw)
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = trim_space(pattern[1:])
        if pattern:
            pattern = clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        out.append(IgnoreLine("!" + pattern if invert else pattern, number))
    return out


def compile_ignore(
    lines: list[IgnoreLine] | tuple[IgnoreLine, ...], *, file: str | PathLike[str] | None = None
) -> IgnoreMatcher:
    """Compile parsed lines; an invalid pattern is a :class:`SpecError` at its line."""
    patterns = []
    for item in lines:
        try:
            patterns.append(DockerPattern(item.pattern, line=item.line))
        except InvalidPatternError as exc:
            raise SpecError(exc.reason, file=file, line=item.line, field=item.pattern) from None
    return IgnoreMatcher(patterns)


def rules_from_text(text: str | bytes, *, file: str | PathLike[str] | None = None) -> IgnoreRules:
    """Parse and compile ignore-file text (``file`` only names it in errors)."""
    lines = tuple(parse_ignore(text, file=file))
    name = path_text(file) if file is not None else None
    return IgnoreRules(name, lines, compile_ignore(lines, file=file))


def read_ignore_file(path: str | PathLike[str]) -> IgnoreRules:
    """Read, parse and compile an ignore file.

    A missing, unreadable or huge file, a directory, a FIFO or a device is a
    :class:`SpecError` naming it.
    """
    path = path_text(path)
    data = read_user_bytes(path, "ignore file")  # regular files only, bounded
    return rules_from_text(data, file=path)
