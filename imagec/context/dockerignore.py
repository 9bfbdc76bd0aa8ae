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

from pathlib import Path
from typing import NamedTuple

from imagec.context.gosyntax import clean, trim_space
from imagec.context.pattern import DockerPattern, IgnoreMatcher, InvalidPatternError
from imagec.errors import SpecError
from imagec.util.fsutil import read_user_bytes

_BOM = "\ufeff"
# bufio.Scanner's default limit: Docker fails on a line of 64 KiB or more.
_MAX_LINE = 64 * 1024


class IgnoreLine(NamedTuple):
    """A pattern as ``ReadAll`` returns it (``!`` kept), with its 1-based line number."""

    pattern: str
    line: int


class IgnoreRules(NamedTuple):
    """A parsed and compiled ignore file."""

    path: Path | None
    lines: tuple[IgnoreLine, ...]
    matcher: IgnoreMatcher

    @property
    def patterns(self) -> tuple[str, ...]:
        return tuple(line.pattern for line in self.lines)


def parse_ignore(text: str | bytes, *, file: str | Path | None = None) -> list[IgnoreLine]:
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
    lines: list[IgnoreLine] | tuple[IgnoreLine, ...], *, file: str | Path | None = None
) -> IgnoreMatcher:
    """Compile parsed lines; an invalid pattern is a :class:`SpecError` at its line."""
    patterns = []
    for item in lines:
        try:
            patterns.append(DockerPattern(item.pattern, line=item.line))
        except InvalidPatternError as exc:
            raise SpecError(exc.reason, file=file, line=item.line, field=item.pattern) from None
    return IgnoreMatcher(patterns)


def rules_from_text(text: str | bytes, *, file: str | Path | None = None) -> IgnoreRules:
    """Parse and compile ignore-file text (``file`` only names it in errors)."""
    lines = tuple(parse_ignore(text, file=file))
    path = Path(file) if file is not None else None
    return IgnoreRules(path, lines, compile_ignore(lines, file=file))


def read_ignore_file(path: str | Path) -> IgnoreRules:
    """Read, parse and compile an ignore file.

    A missing, unreadable or huge file, a directory, a FIFO or a device is a
    :class:`SpecError` naming it.
    """
    path = Path(path)
    data = read_user_bytes(path, "ignore file")  # regular files only, bounded
    return rules_from_text(data, file=path)
