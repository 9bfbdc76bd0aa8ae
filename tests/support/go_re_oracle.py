"""Test oracle: translate moby/patternmatcher's Go regexps into Python ``re``.

This is how imagec matched .dockerignore regexps before it had its own automaton
(imagec.context.automaton): correct, but Python's ``re`` backtracks, so some patterns
take exponential time. It is kept, independent of imagec.context.goregex, to check the
automaton's answers on inputs small enough for ``re`` (tests/context/test_pattern_oracle.py)
and as the "before" of benchmarks/patterns.py. Not used by imagec itself.

patternmatcher turns a wildcard pattern into Go regexp source and passes ``[``, ``]``,
``^`` and every ``\\x`` escape through untouched, so what a pattern means is partly Go
regexp syntax: ``[^a]`` negates, ``[!a]`` is the two characters ``!`` and ``a``,
``\\d`` is an ASCII digit, ``\\n`` a newline, ``[[:alpha:]]`` a POSIX class, ``\\pL`` a
Unicode letter, and ``\\q`` or ``[z-a]`` make the pattern invalid. This module parses
that source with Go's (RE2, Perl flags) rules and emits an equivalent Python pattern,
escaping every literal, so no Python-only syntax can leak in.

Only the constructs patternmatcher can emit are supported: literals, escapes, classes,
``.``, ``^``, ``$``, plain groups and the ``*``/``?`` quantifiers. The result is meant
for ``re.search`` (Go's ``MatchString`` is unanchored; ``^`` anchors explicitly).
"""

from __future__ import annotations

import functools
import unicodedata

Ranges = list[tuple[int, int]]
MAX_RUNE = 0x10FFFF

_WORD = "[0-9A-Z_a-z]"
# Go's \b and \B use ASCII word characters; Python's would use Unicode ones.
_WORD_BOUNDARY = f"(?:(?<={_WORD})(?!{_WORD})|(?<!{_WORD})(?={_WORD}))"
_NOT_WORD_BOUNDARY = f"(?:(?<={_WORD})(?={_WORD})|(?<!{_WORD})(?!{_WORD}))"

_PERL_GROUPS: dict[str, Ranges] = {
    "d": [(0x30, 0x39)],
    "s": [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)],
    "w": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
}

_POSIX_GROUPS: dict[str, Ranges] = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": [(0x30, 0x39)],
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "word": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}

# Single-letter Unicode general categories (\pL); Go's tables leave out unassigned (Cn).
_UNICODE_MAJORS = frozenset("CLMNPSZ")

_SIMPLE_ESCAPES = {"a": 0x07, "f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}


class GoRegexError(ValueError):
    """The Go regexp compiler would reject this expression."""


def translate(source: str) -> str:
    """Return a Python regular expression equivalent to the Go one in ``source``."""
    return _Parser(source).parse()


@functools.cache
def _unicode_major(letter: str) -> tuple[tuple[int, int], ...]:
    """Code point ranges of one major general category, built on first use (~0.5 s)."""
    ranges: Ranges = []
    category = unicodedata.category
    for cp in range(MAX_RUNE + 1):
        cat = category(chr(cp))
        if cat[0] == letter and cat != "Cn":
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return tuple(ranges)


def _repeat_bounds(src: str, pos: int) -> tuple[int, int, int] | None:
    """Go's ``parseRepeat`` at ``{``: (min, max or -1 for none, end), None if not a repeat.

    Numbers may not have leading zeros; an absurdly long one counts as too big.
    """

    def number(at: int) -> tuple[int, int] | None:
        end = at
        while end < len(src) and src[end].isascii() and src[end].isdigit():
            end += 1
        digits = src[at:end]
        if not digits or (len(digits) > 1 and digits[0] == "0"):
            return None
        return (int(digits) if len(digits) < 9 else 10**9), end

    first = number(pos + 1)
    if first is None:
        return None
    low, at = first
    if at >= len(src):
        return None
    if src[at] == ",":
        at += 1
        if at < len(src) and src[at] == "}":
            high = -1
        else:
            second = number(at)
            if second is None:
                return None
            high, at = second
    else:
        high = low
    if at >= len(src) or src[at] != "}":
        return None
    return low, high, at + 1


def _normalize(ranges: Ranges) -> Ranges:
    merged: Ranges = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _negate(ranges: Ranges) -> Ranges:
    out: Ranges = []
    nxt = 0
    for lo, hi in _normalize(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_RUNE:
        out.append((nxt, MAX_RUNE))
    return out


def _char(cp: int) -> str:
    if cp < 0x100:
        return f"\\x{cp:02x}"
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def _emit_class(ranges: Ranges) -> str:
    ranges = _normalize(ranges)
    if not ranges:
        return "(?!)"  # matches nothing, like an empty Go class
    body = "".join(_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges)
    return f"[{body}]"


class _Parser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0

    def error(self, message: str) -> GoRegexError:
        return GoRegexError(message)

    def parse(self) -> str:
        src = self.src
        # One list of whole items per open group: a repetition wraps the last item, so
        # Go's "repeat a repetition after \\Q\\E" and "repeat an assertion" stay valid
        # Python.
        groups: list[list[str]] = [[]]
        alternatives: list[list[str]] = [[]]  # finished alternatives of each open group
        last_repeat = False
        while self.pos < len(src):
            char = src[self.pos]
            items = groups[-1]
            repeat = self.parse_repeat_op()
            if repeat is not None:
                if last_repeat:
                    raise self.error("invalid nested repetition operator")
                if not items:
                    raise self.error("missing argument to repetition operator")
                items[-1] = f"(?:{items[-1]}){repeat}"
                last_repeat = True
                continue
            last_repeat = False
            if char == "[":
                items.append(_emit_class(self.parse_class()))
            elif char == "\\":
                items.extend(self.parse_top_escape())
            elif char in "^$":
                items.append(r"\A" if char == "^" else r"\Z")
                self.pos += 1
            elif char == ".":
                items.append("[^\\n]")
                self.pos += 1
            elif char == "(":
                if src.startswith("(?", self.pos):
                    raise self.error("unsupported group syntax")
                groups.append([])
                alternatives.append([])
                self.pos += 1
            elif char == ")":
                if len(groups) == 1:
                    raise self.error("unexpected )")
                body = "|".join([*alternatives.pop(), "".join(groups.pop())])
                groups[-1].append(f"(?:{body})")
                self.pos += 1
            elif char == "|":
                alternatives[-1].append("".join(items))
                groups[-1] = []
                self.pos += 1
            else:
                items.append(_char(ord(char)))
                self.pos += 1
        if len(groups) > 1:
            raise self.error("missing closing )")
        return "|".join([*alternatives[0], "".join(groups[0])])

    def parse_repeat_op(self) -> str | None:
        """A repetition operator at ``pos`` (``*``, ``+``, ``?``, ``{n,m}``), as Python text.

        A ``{`` that does not form a valid ``{n}``, ``{n,}`` or ``{n,m}`` is a literal.
        """
        src, pos = self.src, self.pos
        char = src[pos]
        if char in "*+?":
            end = pos + 1
        elif char == "{":
            bounds = _repeat_bounds(src, pos)
            if bounds is None:
                return None
            low, high, end = bounds
            if low > 1000 or high > 1000 or 0 <= high < low:
                raise self.error(f"invalid repeat count: `{src[pos:end]}`")
        else:
            return None
        if end < len(src) and src[end] == "?":
            end += 1  # non-greedy, same meaning in Python
        self.pos = end
        return src[pos:end]  # the same syntax and meaning in Python

    def parse_top_escape(self) -> list[str]:
        """An escape outside a class: its items (none for an empty ``\\Q\\E``)."""
        src, pos = self.src, self.pos
        nxt = src[pos + 1] if pos + 1 < len(src) else ""
        assertions = {"A": r"\A", "z": r"\Z", "b": _WORD_BOUNDARY, "B": _NOT_WORD_BOUNDARY}
        if nxt in assertions and nxt:
            self.pos += 2
            return [assertions[nxt]]
        if nxt == "C":
            raise self.error("invalid escape sequence: `\\C`")
        if nxt == "Q":
            # \Q...\E: everything up to \E (or the end) is literal text.
            end = src.find("\\E", pos + 2)
            literal = src[pos + 2 :] if end < 0 else src[pos + 2 : end]
            self.pos = len(src) if end < 0 else end + 2
            return [_char(ord(c)) for c in literal]
        group = self.parse_group_escape()
        if group is not None:
            return [_emit_class(group)]
        return [_char(self.parse_escape())]

    def parse_group_escape(self) -> Ranges | None:
        """``\\pX``, ``\\PX``, ``\\d``, ``\\D``, ``\\s``, ``\\S``, ``\\w``, ``\\W`` at ``pos``."""
        src, pos = self.src, self.pos
        nxt = src[pos + 1] if pos + 1 < len(src) else ""
        if nxt in ("p", "P") and nxt:
            name = src[pos + 2] if pos + 2 < len(src) else ""
            if name == "{":  # \p{Name}: not covered by the oracle
                raise NotImplementedError("\\p{...}")
            negate = nxt == "P"
            if name == "^":  # \p^X is not a thing for one-letter names; Go rejects it too
                raise self.error(f"invalid character class range: `\\{nxt}^`")
            if name not in _UNICODE_MAJORS:
                raise self.error(f"invalid character class range: `\\{nxt}{name}`")
            self.pos += 3
            ranges = list(_unicode_major(name))
            return _negate(ranges) if negate else ranges
        if nxt and nxt.lower() in _PERL_GROUPS:
            self.pos += 2
            ranges = list(_PERL_GROUPS[nxt.lower()])
            return _negate(ranges) if nxt.isupper() else ranges
        return None

    def parse_escape(self) -> int:
        """Go's ``parseEscape`` at ``pos`` (a backslash); returns the code point."""
        src = self.src
        start = self.pos
        if start + 1 >= len(src):
            raise self.error("trailing backslash at end of expression")
        char = src[start + 1]
        self.pos = start + 2
        code = ord(char)
        if code < 0x80 and not char.isalnum():
            return code  # escaped punctuation is itself
        if char in "1234567" and not self._octal_next():
            raise self.error(f"invalid escape sequence: `\\{char}`")  # a backreference
        if char in "01234567":
            value = code - 0x30
            for _ in range(2):
                if not self._octal_next():
                    break
                value = value * 8 + ord(src[self.pos]) - 0x30
                self.pos += 1
            return value
        if char == "x":
            if src.startswith("{", self.pos):  # \x{10FFFF}
                end = src.find("}", self.pos)
                digits = src[self.pos + 1 : end] if end > 0 else ""
                hexdigits = digits and all(c in "0123456789abcdefABCDEF" for c in digits)
                if hexdigits and int(digits, 16) <= MAX_RUNE:
                    self.pos = end + 1
                    return int(digits, 16)
                raise self.error("invalid escape sequence: `\\x{`")
            hexdigits = src[self.pos : self.pos + 2]
            if len(hexdigits) == 2 and all(c in "0123456789abcdefABCDEF" for c in hexdigits):
                self.pos += 2
                return int(hexdigits, 16)
            raise self.error("invalid escape sequence: `\\x`")
        if char in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[char]
        raise self.error(f"invalid escape sequence: `\\{char}`")

    def _octal_next(self) -> bool:
        return self.pos < len(self.src) and self.src[self.pos] in "01234567"

    def parse_class(self) -> Ranges:
        """Go's ``parseClass`` at ``pos`` (an opening ``[``)."""
        src = self.src
        start = self.pos
        self.pos += 1
        negate = False
        if self.pos < len(src) and src[self.pos] == "^":
            negate = True
            self.pos += 1
        ranges: Ranges = []
        first = True  # "]" is an ordinary character right after "[" or "[^"
        while self.pos >= len(src) or src[self.pos] != "]" or first:
            first = False
            rest = src[self.pos :]
            if len(rest) > 2 and rest.startswith("[:"):
                end = rest.find(":]", 2)
                if end >= 0:
                    name = rest[2:end]
                    self.pos += end + 2
                    group = _POSIX_GROUPS.get(name.removeprefix("^"))
                    if group is None:
                        raise self.error(f"invalid character class range: `[:{name}:]`")
                    ranges.extend(_negate(list(group)) if name.startswith("^") else group)
                    continue
            if rest.startswith("\\"):
                group = self.parse_group_escape()
                if group is not None:
                    ranges.extend(group)
                    continue
            lo = self.class_char(start)
            hi = lo
            if self.pos + 1 < len(src) and src[self.pos] == "-" and src[self.pos + 1] != "]":
                self.pos += 1
                hi = self.class_char(start)
                if hi < lo:
                    raise self.error(f"invalid character class range: `{chr(lo)}-{chr(hi)}`")
            ranges.append((lo, hi))
        self.pos += 1  # the closing "]"
        return _negate(ranges) if negate else ranges

    def class_char(self, class_start: int) -> int:
        src = self.src
        if self.pos >= len(src):
            raise self.error(f"missing closing ]: `{src[class_start:]}`")
        if src[self.pos] == "\\":
            return self.parse_escape()
        self.pos += 1
        return ord(src[self.pos - 1])
