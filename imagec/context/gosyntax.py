"""Go standard-library behaviours that .dockerignore semantics depend on.

The reference implementation (docker CLI, moby/patternmatcher) is written in Go, and
several user-visible details come straight from Go's library: which characters
``strings.TrimSpace`` removes, how ``path.Clean`` rewrites a pattern, and which globs
``filepath.Match`` rejects. They are reproduced here exactly, for Unix paths.
"""

from __future__ import annotations

# unicode.IsSpace: the Unicode White_Space property. Python's str.strip() would also
# remove U+001C..U+001F, which Go keeps.
GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def trim_space(text: str) -> str:
    """``strings.TrimSpace``."""
    return text.strip(GO_SPACE)


def clean(path: str) -> str:
    """``path.Clean``: the shortest equivalent slash path (``a//b/./c/..`` -> ``a/b``).

    ``..`` at the start of a relative path is kept; at the root it is dropped
    (``/../x`` -> ``/x``). The empty path is ``.``.
    """
    if path == "":
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    out = "/".join(parts)
    if rooted:
        return "/" + out
    return out or "."


def is_invalid_rune(char: str) -> bool:
    """True for a byte that was not valid UTF-8 (decoded with ``surrogateescape``)."""
    return "\udc80" <= char <= "\udcff"


def glob_is_valid(pattern: str) -> bool:
    """Whether ``filepath.Match(pattern, ".")`` returns no error.

    That call is how patternmatcher validates a pattern, so its quirks decide what
    Docker accepts: a malformed character class (unclosed ``[``, ``[]``, ``[a-]``) or
    a trailing ``\\`` is an error only in the part of the pattern Go looks at before
    it knows the pattern cannot match ``.``. ``-*/[`` passes here (the regexp compiler
    rejects it later) while ``-*\\`` passes for good. A reversed range such as
    ``[z-a]`` is not checked here either.
    """
    name = "."
    rest = pattern
    while rest:
        star, chunk, rest = _scan_chunk(rest)
        if star and not chunk:
            return True  # a trailing star: Go returns without looking further
        result = _match_chunk(chunk, name)
        if result is None:
            return False
        ok, remainder = result
        if ok and (not remainder or rest):
            name = remainder
            continue
        skipped = _skip_ahead(chunk, rest, name) if star else None
        if skipped is not None:
            name = skipped
            continue
        return True  # no match, no error: Go stops here and checks nothing more
    return True


def _skip_ahead(chunk: str, rest: str, name: str) -> str | None:
    """The star loop of ``Match``: the name left after the chunk matched later on.

    None when no position matches. A malformed chunk was already rejected by the
    first ``_match_chunk`` call on the same chunk, so errors cannot appear here.
    """
    i = 0
    while i < len(name) and name[i] != "/":
        result = _match_chunk(chunk, name[i + 1 :])
        if result is not None and result[0] and not (not rest and result[1]):
            return result[1]
        i += 1
    return None


def _scan_chunk(pattern: str) -> tuple[bool, str, str]:
    """Go's ``scanChunk``: (leading star?, chunk up to the next star, rest)."""
    stripped = pattern.lstrip("*")
    star = len(stripped) != len(pattern)
    in_range = False
    i = 0
    while i < len(stripped):
        char = stripped[i]
        if char == "\\":
            if i + 1 < len(stripped):
                i += 1
        elif char == "[":
            in_range = True
        elif char == "]":
            in_range = False
        elif char == "*" and not in_range:
            break
        i += 1
    return star, stripped[:i], stripped[i:]


def _match_chunk(chunk: str, name: str) -> tuple[bool, str] | None:
    """Go's ``matchChunk``: (matched?, rest of name), or None for a malformed chunk.

    Once the match has failed Go keeps parsing the chunk, so errors anywhere in the
    chunk are found.
    """
    failed = False
    i = 0
    while i < len(chunk):
        if not failed and not name:
            failed = True
        char = chunk[i]
        if char == "[":
            code = -1
            if not failed:
                code = ord(name[0])
                name = name[1:]
            i += 1
            negated = i < len(chunk) and chunk[i] == "^"
            if negated:
                i += 1
            matched = False
            ranges = 0
            while True:
                if i < len(chunk) and chunk[i] == "]" and ranges > 0:
                    i += 1
                    break
                lo, i = _class_char(chunk, i)
                if lo < 0:
                    return None
                hi = lo
                if chunk[i] == "-":
                    hi, i = _class_char(chunk, i + 1)
                    if hi < 0:
                        return None
                if lo <= code <= hi:
                    matched = True
                ranges += 1
            if matched == negated:
                failed = True
        elif char == "?":
            if not failed:
                if name[0] == "/":
                    failed = True
                name = name[1:]
            i += 1
        else:
            if char == "\\":
                i += 1
                if i >= len(chunk):
                    return None
            if not failed:
                if chunk[i] != name[0]:
                    failed = True
                name = name[1:]
            i += 1
    if failed:
        return False, ""
    return True, name


def _class_char(chunk: str, i: int) -> tuple[int, int]:
    """Go's ``getEsc``: (code point, next index); code point -1 when malformed.

    A class character must be followed by more pattern text (at least the ``]``).
    """
    n = len(chunk)
    if i >= n or chunk[i] in "-]":
        return -1, i
    if chunk[i] == "\\":
        i += 1
        if i >= n:
            return -1, i
    if is_invalid_rune(chunk[i]):
        return -1, i
    code = ord(chunk[i])
    i += 1
    return (code, i) if i < n else (-1, i)
