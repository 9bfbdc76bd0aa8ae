"""Parse the Go regular expressions that moby/patternmatcher builds, with Go's rules.

patternmatcher turns a wildcard pattern into Go regexp source and passes ``[``, ``]``,
``^``, ``|``, ``{``, ``}`` and every ``\\x`` escape through untouched, so what a pattern
means is partly Go regexp syntax: ``[^a]`` negates, ``[!a]`` is the two characters ``!``
and ``a``, ``\\d`` is an ASCII digit, ``[[:alpha:]]`` a POSIX class, ``\\pL`` a Unicode
letter, ``a|b`` an alternation, ``x{2}`` a repetition, and ``\\q`` or ``[z-a]`` make the
pattern invalid. This module parses that source as Go's ``regexp/syntax`` does with the
Perl flags ``regexp.Compile`` uses (``^``/``$`` anchor the whole text, ``.`` excludes
``\\n``, negated classes include it) into a small syntax tree, which
:mod:`imagec.context.automaton` turns into a linear-time matcher.

Nodes are tuples::

    ("char", bounds)        one code point in the set; bounds = (lo0, hi0 + 1, lo1, ...)
    ("empty", kind)         zero-width: BEGIN, END, WORD_BOUNDARY, NOT_WORD_BOUNDARY
    ("cat", (node, ...))    concatenation
    ("alt", (node, ...))    alternation
    ("rep", node, min, max) repetition, max -1 for no bound (``*`` is (0, -1))
    ("group", node)         a capturing group (counts in Go's size limit only)
    ("eps",)                the empty string

Unicode scripts (``\\p{Greek}``) are not supported and make a pattern invalid here;
categories (``\\pL``, ``\\p{Lu}``, ``\\PN``) and ``\\p{Any}`` are.
"""

from __future__ import annotations

import functools
import unicodedata

Ranges = list[tuple[int, int]]
TYPE_CHECKING = False  # not typing's: `imagec context --tar` loads no typing
if TYPE_CHECKING:
    from typing import Any

    Node = tuple[Any, ...]
else:
    Node = tuple
MAX_RUNE = 0x10FFFF

BEGIN, END, WORD_BOUNDARY, NOT_WORD_BOUNDARY = "begin", "end", "wordb", "nwordb"
EPS: Node = ("eps",)

# Go's regexp/syntax limits: repetition counts, nesting, and the compiled size
# (maxSize = 128 MiB / 40-byte instructions) beyond which it reports
# "expression too large".
MAX_REPEAT = 1000
MAX_NESTING = 100  # Go allows ~1000; patterns never nest (only "**/" makes a group)
MAX_GO_SIZE = (128 << 20) // 40

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

# unicode.Categories in Go: the major categories and their subcategories. Go's tables
# leave out unassigned code points (Cn), and have no "Cn" or "LC" entry.
_UNICODE_CATEGORIES = frozenset([
    "C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn",
    "N", "Nd", "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk",
    "Sm", "So", "Z", "Zl", "Zp", "Zs",
])  # fmt: skip

_SIMPLE_ESCAPES = {"a": 0x07, "f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}
_HEX = "0123456789abcdefABCDEF"


class GoRegexError(ValueError):
    """The Go regexp compiler would reject this expression."""


def parse(source: str) -> Node:
    """Parse Go regexp ``source`` into a syntax tree, or raise :class:`GoRegexError`."""
    if any("\ud800" <= c <= "\udfff" for c in source):
        raise GoRegexError("invalid UTF-8")
    node = _Parser(source).parse()
    # Only counted repetitions can make a pattern-sized regexp exceed Go's limit.
    if ("{" in source or len(source) > MAX_GO_SIZE // 4) and go_size(node) > MAX_GO_SIZE:
        raise GoRegexError("expression too large")
    return node


def go_size(node: Node) -> int:
    """Go's ``calcSize``: roughly the number of instructions the program compiles to."""
    tag = node[0]
    if tag == "cat":
        size = sum(go_size(sub) for sub in node[1])
    elif tag == "alt":
        size = sum(go_size(sub) for sub in node[1]) + len(node[1]) - 1
    elif tag == "group":
        size = 2 + go_size(node[1])
    elif tag == "rep":
        _, sub, low, high = node
        inner = go_size(sub)
        if high == -1:
            size = 2 + inner if low == 0 else 1 + low * inner
        else:
            size = high * inner + (high - low)
    else:
        size = 1
    return max(1, size)


def _repeat_is_valid(node: Node, limit: int) -> bool:
    """Go's ``repeatIsValid``: nested repetitions multiply to at most ``limit`` copies."""
    if node[0] == "rep":
        if node[3] == 0:
            return True
        most = node[3] if node[3] >= 0 else node[2]
        if most > limit:
            return False
        if most > 0:
            limit //= most
        return _repeat_is_valid(node[1], limit)
    if node[0] in ("cat", "alt"):
        return all(_repeat_is_valid(sub, limit) for sub in node[1])
    if node[0] == "group":
        return _repeat_is_valid(node[1], limit)
    return True


def _fold_repeat(sub: Node, low: int, high: int) -> Node:
    """``sub{low,high}``, with a repetition of a repetition folded into one when that
    means the same texts (``(x*){2}`` is ``x*``), so nesting stays shallow."""
    if (low, high) == (1, 1):
        return sub
    if high == 0:
        return EPS
    if sub[0] != "rep":
        return ("rep", sub, low, high)
    _, inner, a, b = sub
    if (a, b) == (1, 1):
        return ("rep", inner, low, high)
    if (a, b) == (0, -1):
        return sub  # (x*){n,m} = x*
    if (a, b) == (1, -1):
        return ("rep", inner, low, -1)  # (x+){n,m} = x{n,}
    if (a, b) == (0, 1):
        return ("rep", inner, 0, high)  # (x?){n,m} = x{0,m}
    if a <= 1 and (low, high) in ((0, -1), (1, -1), (0, 1)):
        # Every count from a.. is reachable: (x{1,3})* = x*, (x{0,3})+ = x*, (x{1,3})? = x{0,3}
        if high == 1:
            return ("rep", inner, 0, b)
        return ("rep", inner, 0 if a == 0 or low == 0 else 1, -1)
    return ("rep", sub, low, high)


@functools.cache
def _unicode_category(name: str) -> tuple[tuple[int, int], ...]:
    """Code point ranges of a general category (one or two letters), built on first use."""
    ranges: Ranges = []
    category = unicodedata.category
    whole = len(name) == 1
    for cp in range(MAX_RUNE + 1):
        cat = category(chr(cp))
        if (cat[0] == name if whole else cat == name) and cat != "Cn":
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
        while end < len(src) and "0" <= src[end] <= "9":
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


def normalize(ranges: Ranges) -> Ranges:
    """Sorted, merged, non-overlapping ranges."""
    merged: Ranges = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def negate(ranges: Ranges) -> Ranges:
    out: Ranges = []
    nxt = 0
    for lo, hi in normalize(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_RUNE:
        out.append((nxt, MAX_RUNE))
    return out


@functools.lru_cache(maxsize=4096)
def _char_node(bounds: tuple[int, ...]) -> Node:
    return ("char", bounds)  # shared: many patterns use the same few classes


def char_node(ranges: Ranges) -> Node:
    """A one-character node for a set of ranges."""
    bounds: list[int] = []
    for lo, hi in normalize(ranges):
        bounds += (lo, hi + 1)
    return _char_node(tuple(bounds))


@functools.lru_cache(maxsize=1024)
def _literal(char: str) -> Node:
    code = ord(char)
    return _char_node((code, code + 1))


_SPECIAL = frozenset("[\\^$.()|*+?{")
_OPERATORS = {"*": (0, -1), "+": (1, -1), "?": (0, 1)}
DOT = char_node([(0, 0x09), (0x0B, MAX_RUNE)])  # "." without the s flag
NOT_SLASH = char_node([(0, 0x2E), (0x30, MAX_RUNE)])  # "[^/]"
ANY_DIRS_GROUP: Node = ("group", ("cat", (("rep", DOT, 0, -1), _literal("/"))))  # "(.*/)"
ANY_DIRS: Node = ("rep", ANY_DIRS_GROUP, 0, 1)  # "(.*/)?"


class _Frame:
    """An open group: its finished alternatives and the one being read."""

    __slots__ = ("alts", "items")

    def __init__(self) -> None:
        self.alts: list[Node] = []
        self.items: list[Node] = []

    def finish_alt(self) -> None:
        items = self.items
        self.alts.append(items[0] if len(items) == 1 else ("cat", tuple(items)) if items else EPS)
        self.items = []

    def node(self) -> Node:
        self.finish_alt()
        return self.alts[0] if len(self.alts) == 1 else ("alt", tuple(self.alts))


class _Parser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.no_posix_end_after = len(source)  # no ":]" at or after this position
        # Repetitions applied to one item ("x{2}\\Q\\E{3}"), innermost first, as Go
        # nests them: the tree built here folds them where the language allows.
        self.chain: list[tuple[int, int]] = []
        self.chain_base: Node = EPS
        self.chain_node: Node | None = None

    def parse(self) -> Node:
        src = self.src
        n = len(src)
        frames = [_Frame()]
        items = frames[0].items
        # Go refuses to repeat a repetition ("a**"); \\Q\\E in between resets that.
        last_repeat = False
        while self.pos < n:
            char = src[self.pos]
            if char not in _SPECIAL:  # most of a pattern: plain characters
                items.append(_literal(char))
                self.pos += 1
                last_repeat = False
                continue
            if char in "*+?{":
                repeat = self.parse_repeat_op()
                if repeat is not None:
                    if last_repeat:
                        raise GoRegexError("invalid nested repetition operator")
                    if not items:
                        raise GoRegexError("missing argument to repetition operator")
                    items[-1] = self.repeat(items[-1], *repeat)
                    last_repeat = True
                    continue
                items.append(_literal(char))  # a "{" that starts no repetition
                self.pos += 1
                last_repeat = False
                continue
            last_repeat = False
            if src.startswith("[^/]", self.pos):  # patternmatcher's "*" and "?"
                items.append(NOT_SLASH)
                self.pos += 4
            elif src.startswith("(.*/)", self.pos):  # patternmatcher's "**/"
                items.append(ANY_DIRS_GROUP)
                self.pos += 5
            elif char == "[":
                items.append(char_node(self.parse_class()))
            elif char == "\\":
                items.extend(self.parse_top_escape())
            elif char in "^$":
                items.append(("empty", BEGIN if char == "^" else END))
                self.pos += 1
            elif char == ".":
                items.append(DOT)
                self.pos += 1
            elif char == "(":
                if src.startswith("(?", self.pos):
                    raise GoRegexError("unsupported group syntax")
                if len(frames) > MAX_NESTING:
                    raise GoRegexError("expression nests too deeply")
                frames.append(_Frame())
                items = frames[-1].items
                self.pos += 1
            elif char == ")":
                if len(frames) == 1:
                    raise GoRegexError("unexpected )")
                inner = frames.pop().node()
                items = frames[-1].items
                items.append(("group", inner))
                self.pos += 1
            else:  # "|"
                frames[-1].finish_alt()
                items = frames[-1].items
                self.pos += 1
        if len(frames) > 1:
            raise GoRegexError("missing closing )")
        return frames[0].node()

    def repeat(self, item: Node, low: int, high: int) -> Node:
        """Apply ``{low,high}`` to ``item``, checking Go's limits on the unfolded nesting."""
        if item is not self.chain_node:
            self.chain, self.chain_base = [], item
        chain = [*self.chain, (low, high)]
        if len(chain) + 2 > 1000:  # Go's height limit: item, repetitions, concatenation
            raise GoRegexError("expression nests too deeply")
        if low >= 2 or high >= 2:
            # Go's repeatIsValid on the nesting, outermost first: each bounded level
            # divides what is left of the 1000 copies allowed.
            limit = MAX_REPEAT
            for lo, hi in reversed(chain):
                if hi == 0:
                    break
                most = hi if hi >= 0 else lo
                if most > limit:
                    raise GoRegexError("invalid repeat count")
                if most > 0:
                    limit //= most
            else:
                if not _repeat_is_valid(self.chain_base, limit):
                    raise GoRegexError("invalid repeat count")
        self.chain = chain
        self.chain_node = _fold_repeat(item, low, high)
        return self.chain_node

    def parse_repeat_op(self) -> tuple[int, int] | None:
        """A repetition operator at ``pos`` (``*``, ``+``, ``?``, ``{n,m}``): (min, max).

        A ``{`` that does not form a valid ``{n}``, ``{n,}`` or ``{n,m}`` is a literal.
        A trailing ``?`` (non-greedy) changes nothing about which texts match.
        """
        src, pos = self.src, self.pos
        char = src[pos]
        if char in "*+?":
            end = pos + 1
            bounds = _OPERATORS[char]
        elif char == "{":
            found = _repeat_bounds(src, pos)
            if found is None:
                return None
            low, high, end = found
            if low > MAX_REPEAT or high > MAX_REPEAT or 0 <= high < low:
                raise GoRegexError(f"invalid repeat count: `{src[pos:end]}`")
            bounds = (low, high)
        else:
            return None
        if end < len(src) and src[end] == "?":
            end += 1
        self.pos = end
        return bounds

    def parse_top_escape(self) -> list[Node]:
        """An escape outside a class: the nodes it stands for (none for ``\\Q\\E``)."""
        src, pos = self.src, self.pos
        nxt = src[pos + 1] if pos + 1 < len(src) else ""
        assertions = {"A": BEGIN, "z": END, "b": WORD_BOUNDARY, "B": NOT_WORD_BOUNDARY}
        if nxt and nxt in assertions:
            self.pos += 2
            return [("empty", assertions[nxt])]
        if nxt == "C":
            raise GoRegexError("invalid escape sequence: `\\C`")
        if nxt == "Q":
            # \Q...\E: everything up to \E (or the end) is literal text.
            end = src.find("\\E", pos + 2)
            literal = src[pos + 2 :] if end < 0 else src[pos + 2 : end]
            self.pos = len(src) if end < 0 else end + 2
            return [char_node([(ord(c), ord(c))]) for c in literal]
        group = self.parse_group_escape()
        if group is not None:
            return [char_node(group)]
        code = self.parse_escape()
        return [char_node([(code, code)])]

    def parse_group_escape(self) -> Ranges | None:
        """A class escape at ``pos`` (``\\pX``, ``\\p{Name}``, ``\\d``, ``\\s``, ``\\w``, negated
        forms): its ranges, or None when there is none."""
        src, pos = self.src, self.pos
        nxt = src[pos + 1] if pos + 1 < len(src) else ""
        if nxt in ("p", "P") and nxt:
            negated = nxt == "P"
            at = pos + 2
            if at >= len(src):
                raise GoRegexError(f"invalid character class range: `\\{nxt}`")
            if src[at] == "{":
                end = src.find("}", at)
                if end < 0:
                    raise GoRegexError(f"invalid character class range: `{src[pos:]}`")
                name, after = src[at + 1 : end], end + 1
            else:
                name, after = src[at], at + 1
            if name.startswith("^"):
                negated = not negated
                name = name[1:]
            if name == "Any":
                ranges: Ranges = [(0, MAX_RUNE)]
            elif name in _UNICODE_CATEGORIES:
                ranges = list(_unicode_category(name))
            else:
                raise GoRegexError(f"invalid character class range: `{src[pos:after]}`")
            self.pos = after
            return negate(ranges) if negated else ranges
        if nxt and nxt.lower() in _PERL_GROUPS:
            self.pos += 2
            ranges = list(_PERL_GROUPS[nxt.lower()])
            return negate(ranges) if nxt.isupper() else ranges
        return None

    def parse_escape(self) -> int:
        """Go's ``parseEscape`` at ``pos`` (a backslash); returns the code point."""
        src = self.src
        start = self.pos
        if start + 1 >= len(src):
            raise GoRegexError("trailing backslash at end of expression")
        char = src[start + 1]
        self.pos = start + 2
        code = ord(char)
        if code < 0x80 and not char.isalnum():
            return code  # escaped punctuation is itself
        if char in "1234567" and not self._octal_next():
            raise GoRegexError(f"invalid escape sequence: `\\{char}`")  # a backreference
        if char in "01234567":
            value = code - 0x30
            for _ in range(2):
                if not self._octal_next():
                    break
                value = value * 8 + ord(src[self.pos]) - 0x30
                self.pos += 1
            return value
        if char == "x":
            if src.startswith("{", self.pos):
                end = src.find("}", self.pos)
                digits = src[self.pos + 1 : end] if end >= 0 else ""
                if digits and all(c in _HEX for c in digits):
                    value = int(digits, 16)
                    if value <= MAX_RUNE:
                        self.pos = end + 1
                        return value
                raise GoRegexError("invalid escape sequence: `\\x{`")
            hexdigits = src[self.pos : self.pos + 2]
            if len(hexdigits) == 2 and all(c in _HEX for c in hexdigits):
                self.pos += 2
                return int(hexdigits, 16)
            raise GoRegexError("invalid escape sequence: `\\x`")
        if char in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[char]
        raise GoRegexError(f"invalid escape sequence: `\\{char}`")

    def _octal_next(self) -> bool:
        return self.pos < len(self.src) and self.src[self.pos] in "01234567"

    def parse_class(self) -> Ranges:
        """Go's ``parseClass`` at ``pos`` (an opening ``[``)."""
        src = self.src
        start = self.pos
        self.pos += 1
        negated = False
        if self.pos < len(src) and src[self.pos] == "^":
            negated = True
            self.pos += 1
        ranges: Ranges = []
        first = True  # "]" is an ordinary character right after "[" or "[^"
        while self.pos >= len(src) or src[self.pos] != "]" or first:
            first = False
            rest = src[self.pos : self.pos + 64]
            if len(rest) > 2 and rest.startswith("[:"):
                # Go looks for ":]" anywhere further on; remember where it is absent so
                # that many "[:" stay linear.
                end = -1
                if self.pos + 2 < self.no_posix_end_after:
                    end = src.find(":]", self.pos + 2)
                    if end < 0:
                        self.no_posix_end_after = self.pos + 2
                if end >= 0:
                    name = src[self.pos + 2 : end]
                    self.pos = end + 2
                    group = _POSIX_GROUPS.get(name.removeprefix("^"))
                    if group is None:
                        raise GoRegexError(f"invalid character class range: `[:{name}:]`")
                    ranges.extend(negate(list(group)) if name.startswith("^") else group)
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
                    raise GoRegexError(f"invalid character class range: `{chr(lo)}-{chr(hi)}`")
            ranges.append((lo, hi))
        self.pos += 1  # the closing "]"
        return negate(ranges) if negated else ranges

    def class_char(self, class_start: int) -> int:
        src = self.src
        if self.pos >= len(src):
            raise GoRegexError(f"missing closing ]: `{src[class_start:]}`")
        if src[self.pos] == "\\":
            return self.parse_escape()
        self.pos += 1
        return ord(src[self.pos - 1])
