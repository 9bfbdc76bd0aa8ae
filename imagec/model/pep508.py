"""PEP 508 dependency specifiers, parsed as ``packaging`` parses them (its grammar, its
token patterns, its messages and its normal forms), without importing it: ``packaging``'s
requirement parser pulls in its platform tags, logging, ``subprocess`` and ``sysconfig``,
a tenth of a compile's start-up. ``tests/model/test_pep508.py`` holds the two to agreement
on a corpus of valid and invalid requirements and markers.

Every pattern is possessive or a single character class, so parsing is linear in the
input; markers nest at most 200 parentheses deep, as in ``packaging``. Markers are parsed
and validated, never evaluated: imagec writes them into requirements files for pip.

What is parsed::

    name [extras] (specifiers | @ URL) ; marker
    requests[socks] >=2.31, <3 ; python_version >= "3.8"

``str()`` gives ``packaging``'s normal form: ``requests[socks]<3,>=2.31; python_version >=
"3.8"``. Comparing versions (``Specifier.contains``) is left to ``packaging``, loaded then.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator


def _possessive(pattern: str) -> str:
    """``pattern`` as this interpreter can run it: CPython before 3.11.5 (and PyPy before 3.11.13)
    mis-match possessive repeats of groups (python/cpython#107795), so there, as ``packaging``
    does, they become plain repeats. The patterns stay linear either way: every repeat is
    followed by optional parts only, so a match never backtracks into it more than once."""
    cpython = sys.implementation.name == "cpython"
    if sys.version_info < (3, 11, 5 if cpython else 13):
        return pattern.replace("++", "+").replace("*+", "*").replace("?+", "?")
    if not cpython and getattr(sys, "pypy_version_info", (0,)) < (7, 3, 22):
        return pattern.replace("++", "+")
    return pattern


class _Patterns:
    """Patterns compiled on first use: compiling them is most of this module's import cost,
    and most requirements need a few (no marker, a plain release number)."""

    def __init__(self, **sources: tuple[str, int]) -> None:
        self._sources = sources

    def __getattr__(self, name: str) -> re.Pattern[str]:
        compiled = re.compile(*self._sources[name])
        setattr(self, name, compiled)
        return compiled


_VERSION = r"v?+(?:[0-9]++!)?+[0-9]++(?:\.[0-9]++)*+"
_PRE = r"(?a:[-_.]?+(?:alpha|beta|preview|pre|a|b|c|rc)[-_.]?+[0-9]*+)?+"
_POST = r"(?a:(?:-[0-9]++)|(?:[-_.]?+(?:post|rev|r)[-_.]?+[0-9]*+))?+"
_DEV = r"(?a:[-_.]?+dev[-_.]?+[0-9]*+)?+"
_LOCAL = r"(?a:\+[a-z0-9]++(?:[-_.][a-z0-9]++)*+)?+"
_P = _Patterns(
    WS=(r"[ \t]+", 0),
    # The package and extra names packaging reads (PEP 508 asks for an alphanumeric last
    # character; packaging also takes a trailing `_`). Not possessive: `foo-` is the name
    # `foo` (then an error at `-`); the one backtrack is linear.
    IDENTIFIER=(r"\b[a-zA-Z0-9][a-zA-Z0-9._-]*\b", 0),
    URL=(r"\S+", 0),
    # One version specifier as PEP 440 allows it after each operator: `===` takes anything up
    # to a space, `;` or `)`; only `==` and `!=` take `.*` or a local label; `~=` needs two
    # release numbers.
    SPECIFIER=(
        _possessive(
            r"===\s*+[^\s;)]++"
            rf"|(?:==|!=)\s*+{_VERSION}(?:\.\*|{_PRE}{_POST}{_DEV}{_LOCAL})?+"
            rf"|~=\s*+v?+(?:[0-9]++!)?+[0-9]++(?:\.[0-9]++)++{_PRE}{_POST}{_DEV}"
            rf"|(?:<=|>=|<|>)\s*+{_VERSION}{_PRE}{_POST}{_DEV}"
        ),
        re.IGNORECASE,
    ),
    # The common case of SPECIFIER, a plain release number where nothing of PEP 440's can
    # follow (a space, `,`, `;`, `)` or the end): the same match, for a far smaller pattern.
    PLAIN_SPECIFIER=(
        r"(?:[<>!=]=|[<>])\s*[0-9]+(?:\.[0-9]+)*(?=[\s,;)]|\Z)"
        r"|~=\s*[0-9]+(?:\.[0-9]+)+(?=[\s,;)]|\Z)",
        0,
    ),
    # A whole specifier list, as packaging reads one in one pass: printable ASCII and tabs up
    # to a `;`, a `)` or the end.
    SPECIFIER_LIST=(r"[\t\x20-\x28\x2a-\x3a\x3c-\x7e]*(?=[;)]|\Z)", 0),
    LOCAL_TRAIL=(r"\+[a-z0-9]", 0),  # a local label follows: `+ubuntu1`
    BOOLOP=(r"\b(?:or|and)\b", 0),
    IN=(r"\bin\b", 0),
    NOT=(r"\bnot\b", 0),
    OP=(r"===|==|~=|!=|<=|>=|<|>", 0),
    VARIABLE=(
        r"\b(?:python_version|python_full_version|os[._]name|sys[._]platform"
        r"|platform_(?:release|system)|platform[._](?:version|machine|python_implementation)"
        r"|python_implementation|implementation_(?:name|version)|extras?|dependency_groups)\b",
        0,
    ),
    QUOTED=(r"'[^']*'|\"[^\"]*\"", 0),
    NAME_RUNS=(r"[-_.]+", 0),
)
# packaging's messages name its tokens.
_PAIRS = {
    "]": "RIGHT_BRACKET for LEFT_BRACKET,",
    ")": "RIGHT_PARENTHESIS for LEFT_PARENTHESIS,",
}
MAX_MARKER_NESTING = 200  # as packaging (and CPython's parser) allow
# Marker variables whose value is a set of normalized names (PEP 685 extras, PEP 735 groups).
_SET_VARIABLES = ("extra", "extras", "dependency_groups")  # and `"x" == extra`


def canonicalize_name(name: str) -> str:
    """PEP 503's normal form of a project or extra name: ``Foo.Bar_baz`` -> ``foo-bar-baz``."""
    return _P.NAME_RUNS.sub("-", name).lower()


class InvalidRequirement(ValueError):
    """A requirement or marker that does not parse: ``message`` at ``span`` of ``source``.
    ``str()`` is packaging's three lines: the message, the text, a caret under the place."""

    def __init__(self, message: str, source: str, span: tuple[int, int] | None) -> None:
        super().__init__(message)
        self.message, self.source, self.span = message, source, span

    def __str__(self) -> str:
        if self.span is None:
            return self.message
        start, end = self.span
        return f"{self.message}\n    {self.source}\n    {' ' * start}{'~' * (end - start)}^"


class Specifier:
    """One version specifier, ``>=2.31``: the operator and the version as written."""

    __slots__ = ("operator", "version")

    def __init__(self, text: str) -> None:
        text = text.strip()
        width = 3 if text.startswith("===") else 2 if text[1:2] == "=" else 1
        self.operator, self.version = text[:width], text[width:].strip()

    def __str__(self) -> str:
        return self.operator + self.version

    def __repr__(self) -> str:
        return f"<Specifier({str(self)!r})>"

    def contains(self, version: str, prereleases: bool | None = None) -> bool:
        """Does ``version`` satisfy this specifier (PEP 440's rules, by ``packaging``)?"""
        from packaging.specifiers import Specifier as Exact

        return Exact(str(self)).contains(version, prereleases=prereleases)


class SpecifierSet:
    """The comma-separated specifiers of one requirement; ``str()`` sorts them, as
    ``packaging`` does, and writes each one once."""

    __slots__ = ("_specs",)

    def __init__(self, text: str = "") -> None:
        self._specs = tuple(Specifier(s) for s in text.split(",") if s.strip())

    def __iter__(self) -> Iterator[Specifier]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def __str__(self) -> str:
        operators = {str(s): s.operator for s in self._specs}
        if len(set(operators.values())) < len(operators):
            # Two specifiers with one operator may name one version (`==1.0`, `==1.0.0`),
            # which packaging writes once: only PEP 440 knows, so ask packaging.
            from packaging.specifiers import SpecifierSet as Exact

            return str(Exact(",".join(operators)))
        return ",".join(sorted(operators))

    def __repr__(self) -> str:
        return f"<SpecifierSet({str(self)!r})>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SpecifierSet) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def contains(self, version: str, prereleases: bool | None = None) -> bool:
        from packaging.specifiers import SpecifierSet as Exact

        return Exact(str(self)).contains(version, prereleases=prereleases)


# A parsed marker, as packaging holds it: a list of items (`(lhs, op, rhs)`, each side a
# `Variable` or a `Value`), `"and"`/`"or"` between them and nested lists for parentheses.
class Variable(str):
    __slots__ = ()

    def serialize(self) -> str:
        return str(self)


class Value(str):
    __slots__ = ()

    def serialize(self) -> str:
        if '"' not in self:
            return f'"{self}"'
        if "'" not in self:
            return f"'{self}'"
        raise ValueError("Cannot serialize marker value containing both quote characters")


class Op(Variable):
    __slots__ = ()


class Marker:
    """An environment marker, ``python_version >= "3.8" and sys_platform == "linux"``;
    ``str()`` is packaging's normal form (double quotes, one space around operators,
    ``os.name`` spelled ``os_name``, extra names normalized)."""

    __slots__ = ("_markers", "_text")

    def __init__(self, text: str) -> None:
        parser = _Parser(text)
        markers = parser.marker(0)
        parser.expect_end("end of marker expression")
        self._markers = _normalize_extras(markers)
        self._text: str | None = None

    @classmethod
    def _parsed(cls, markers: list) -> Marker:
        new = cls.__new__(cls)
        new._markers, new._text = _normalize_extras(markers), None
        return new

    def __str__(self) -> str:
        if self._text is None:
            self._text = _format(self._markers, True)
        return self._text

    def __repr__(self) -> str:
        return f"<Marker({str(self)!r})>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Marker) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


class Requirement:
    """``name[extras] specifiers ; marker`` or ``name[extras] @ URL ; marker`` (PEP 508)."""

    __slots__ = ("extras", "marker", "name", "specifier", "url")

    def __init__(self, text: str) -> None:
        parser = _Parser(text)
        self.name, self.extras, self.specifier, self.url, markers = parser.requirement()
        self.marker = Marker._parsed(markers) if markers is not None else None

    def __str__(self) -> str:
        parts = [self.name]
        if self.extras:
            parts.append(f"[{','.join(sorted(self.extras))}]")
        if self.specifier:
            parts.append(str(self.specifier))
        if self.url:
            parts.append(f" @ {self.url}")
            if self.marker:
                parts.append(" ")
        if self.marker:
            parts.append(f"; {self.marker}")
        return "".join(parts)

    def __repr__(self) -> str:
        return f"<Requirement({str(self)!r})>"

    def _key(self) -> tuple:
        # packaging's equality: names and extras normalized; specifiers compared as written
        # in normal form (packaging also equates `==1.0` and `==1.0.0`).
        extras = frozenset(canonicalize_name(e) for e in self.extras)
        return (canonicalize_name(self.name), extras, str(self.specifier), self.url, self.marker)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Requirement):
            return self._key() == other._key()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())


class _Parser:
    """packaging's recursive descent over one string; ``pos`` is the next character."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0

    def fail(self, message: str, start: int | None = None, end: int | None = None):
        span = (self.pos if start is None else start, self.pos if end is None else end)
        return InvalidRequirement(message, self.source, span)

    def match(self, pattern: re.Pattern[str]) -> str | None:
        found = pattern.match(self.source, self.pos)
        if found is None:
            return None
        self.pos = found.end()
        return found[0]

    def skip_ws(self) -> None:
        self.match(_P.WS)

    def at(self, char: str) -> bool:
        return self.source.startswith(char, self.pos)

    def at_end(self) -> bool:
        return self.pos == len(self.source)

    def expect_end(self, what: str) -> None:
        if not self.at_end():
            raise self.fail(f"Expected {what}")

    def close(self, char: str, opened: int, around: str) -> None:
        if not self.at(char):
            pair = _PAIRS[char]
            raise self.fail(f"Expected matching {pair} after {around}", opened)
        self.pos += 1

    # requirement = WS? IDENTIFIER WS? extras WS? (AT URL (WS marker?)? | specifier marker?)
    def requirement(self) -> tuple[str, set[str], SpecifierSet, str | None, list | None]:
        self.skip_ws()
        name = self.match(_P.IDENTIFIER)
        if name is None:
            raise self.fail("Expected package name at the start of dependency specifier")
        self.skip_ws()
        extras = self.extras()
        url, text, specifier, markers = None, "", SpecifierSet(), None
        if self.at("@"):
            self.pos += 1
            self.skip_ws()
            start = self.pos
            url = self.match(_P.URL)
            if url is None:
                raise self.fail("Expected URL after @")
            if not self.at_end():
                if self.match(_P.WS) is None:
                    raise self.fail("Expected whitespace after URL")
                if not self.at_end():
                    markers = self.requirement_marker(start, "semicolon (after URL and whitespace)")
        else:
            start = self.pos
            text = self.specifier()
            specifier = SpecifierSet(text)
            if not self.at_end():
                expected = (
                    "comma (within version specifier), semicolon (after version specifier)"
                    if text
                    else "semicolon (after name with no version specifier)"
                )
                markers = self.requirement_marker(start, expected)
        self.expect_end("end of dependency specifier")
        # `===` takes anything up to a space, commas too: once the whole text parses, each
        # comma-separated item must still be one specifier (the message has no place).
        for item in text.split(",") if "===" in text else ():
            item = item.strip()
            if item and not _is_specifier(item):
                raise InvalidRequirement(f"Invalid specifier: {item!r}", self.source, None)
        return name, set(extras), specifier, url, markers

    def requirement_marker(self, start: int, expected: str) -> list:
        if not self.at(";"):
            raise self.fail(f"Expected {expected} or end", start)
        self.pos += 1
        return self.marker(0)

    # extras = ('[' WS? (IDENTIFIER (WS? ',' WS? IDENTIFIER)*)? WS? ']' WS?)?
    def extras(self) -> list[str]:
        if not self.at("["):
            return []
        opened = self.pos
        self.pos += 1
        self.skip_ws()
        extras: list[str] = []
        extra = self.match(_P.IDENTIFIER)
        if extra is not None:
            extras.append(extra)
            while True:
                self.skip_ws()
                if _P.IDENTIFIER.match(self.source, self.pos):
                    raise self.fail("Expected comma between extra names")
                if not self.at(","):
                    break
                self.pos += 1
                self.skip_ws()
                extra = self.match(_P.IDENTIFIER)
                if extra is None:
                    raise self.fail("Expected extra name after comma")
                extras.append(extra)
        self.skip_ws()
        self.close("]", opened, "extras")
        self.skip_ws()
        return extras

    # specifier = '(' WS? version_many ')' WS? | version_many
    def specifier(self) -> str:
        if not self.at("("):
            return self.version_many()
        opened = self.pos
        self.pos += 1
        self.skip_ws()
        text = self.version_many()
        self.close(")", opened, "version specifier")
        self.skip_ws()
        return text

    # version_many = (SPECIFIER WS? (',' WS? SPECIFIER WS?)* ','?)?
    def version_many(self) -> str:
        """packaging's two readings: the whole list split at commas (so `===1, <2` is two
        specifiers) and, when that fails, one specifier after another, which finds the error
        (and reads `===1,` as one, as its pattern takes commas)."""
        whole = self.specifier_list()
        if whole is not None:
            return whole
        parts: list[str] = []
        while True:
            start = self.pos
            spec = self.match(_P.PLAIN_SPECIFIER) or self.match(_P.SPECIFIER)
            if spec is None:
                break
            parts.append(spec)
            if self.source.startswith(".*", self.pos):
                message = ".* suffix can only be used with `==` or `!=` operators"
                if spec.startswith("!=") or (spec.startswith("==") and spec[2:3] != "="):
                    message = (
                        ".* suffix cannot be used with pre-release, post-release, dev or local "
                        "versions"
                    )
                raise self.fail(message, start, self.pos + 1)
            if _P.LOCAL_TRAIL.match(self.source, self.pos):
                raise self.fail(
                    "Local version label can only be used with `==` or `!=` operators", start
                )
            self.skip_ws()
            if not self.at(","):
                break
            parts.append(",")
            self.pos += 1
            self.skip_ws()
        return "".join(parts)

    def specifier_list(self) -> str | None:
        found = _P.SPECIFIER_LIST.match(self.source, self.pos)
        if found is None or not found[0]:
            return None
        text = found[0]
        items = [item.strip() for item in text.split(",")]
        specs = [item for item in items if item]
        if not all(_is_specifier(item) for item in specs):
            return None
        # Empty items are skipped, but the grammar allows only a trailing comma.
        commas = len(items) - 1
        trailing = len(specs) == commas and text.rstrip(" \t").endswith(",")
        if not specs or (len(specs) != commas + 1 and not trailing):
            return None
        self.pos = found.end()
        return text

    # marker = atom (BOOLOP atom)*
    def marker(self, depth: int) -> list:
        expression = [self.marker_atom(depth)]
        while (op := self.match(_P.BOOLOP)) is not None:
            expression += (op, self.marker_atom(depth))
        return expression

    # atom = WS? ('(' marker ')' | item) WS?
    def marker_atom(self, depth: int) -> list | tuple:
        self.skip_ws()
        atom: list | tuple
        if self.at("("):
            if depth >= MAX_MARKER_NESTING:
                raise self.fail(
                    f"Marker expression is nested more than {MAX_MARKER_NESTING} levels deep"
                )
            opened = self.pos
            self.pos += 1
            atom = self.marker(depth + 1)
            self.close(")", opened, "marker expression")
        else:
            left = self.marker_var()
            self.skip_ws()
            op = self.marker_op()
            self.skip_ws()
            atom = (left, op, self.marker_var())
        self.skip_ws()
        return atom

    def marker_var(self) -> Variable | Value:
        start = self.pos
        name = self.match(_P.VARIABLE)
        if name is not None:
            name = name.replace(".", "_")
            if name == "python_implementation":
                name = "platform_python_implementation"
            return Variable(name)
        quoted = self.match(_P.QUOTED)
        if quoted is None:
            raise self.fail("Expected a marker variable or quoted string")
        if "\\" not in quoted and quoted.isprintable():
            return Value(quoted[1:-1])
        # An escape or an unprintable character: read as Python reads the string literal.
        import ast

        try:
            return Value(str(ast.literal_eval(quoted)))
        except (SyntaxError, ValueError):
            raise self.fail("Invalid quoted string", start, self.pos) from None

    def marker_op(self) -> Op:
        if self.match(_P.IN) is not None:
            return Op("in")
        if self.match(_P.NOT) is not None:
            if self.match(_P.WS) is None:
                raise self.fail("Expected whitespace after 'not'")
            if self.match(_P.IN) is None:
                raise self.fail("Expected 'in' after 'not'")
            return Op("not in")
        op = self.match(_P.OP)
        if op is None:
            raise self.fail(
                "Expected marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in"
            )
        return Op(op)


def _is_specifier(text: str) -> bool:
    return bool(_P.PLAIN_SPECIFIER.fullmatch(text) or _P.SPECIFIER.fullmatch(text))


def _normalize_extras(markers: list) -> list:
    """Extra (and dependency group) names compared in a marker, in their normal form."""
    out: list = []
    for item in markers:
        if isinstance(item, list):
            item = _normalize_extras(item)
        elif isinstance(item, tuple):
            lhs, op, rhs = item
            if type(lhs) is Variable and lhs == "extra" and type(rhs) is Value:
                rhs = Value(canonicalize_name(rhs))
            elif type(rhs) is Variable and type(lhs) is Value and rhs in _SET_VARIABLES:
                lhs = Value(canonicalize_name(lhs))
            item = (lhs, op, rhs)
        out.append(item)
    return out


def _format(marker: list | tuple | str, first: bool) -> str:
    if isinstance(marker, tuple):
        return " ".join(side.serialize() for side in marker)
    if isinstance(marker, str):
        return marker
    if len(marker) == 1 and isinstance(marker[0], (list, tuple)):
        return _format(marker[0], first)
    inner = " ".join(_format(m, False) for m in marker)
    return inner if first else f"({inner})"
