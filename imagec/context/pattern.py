"""A .dockerignore pattern and pattern list with moby/patternmatcher semantics.

:class:`DockerPattern` is a :class:`pathspec.Pattern`, so a list of them works in a
``pathspec.PathSpec`` (``PathSpec(patterns).match_file(p)`` is True when ``p`` is
excluded). The walk needs more than a yes/no per path, so :class:`IgnoreMatcher` also
reproduces the stateful ``MatchesUsingParentResults`` the docker CLI's archive walk uses,
quirks included (see :meth:`IgnoreMatcher.match_child`).

One deliberate difference: patternmatcher compiles a pattern's regexp the first time the
pattern is used, so a malformed one (``[z-a]``, ``x\\q*``) aborts a Docker build only if
some path reaches it. Here every pattern is compiled up front and a malformed one is
always an error, even an exception that nothing would have reached.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import pathspec

from imagec.context.goregex import GoRegexError, translate
from imagec.context.gosyntax import clean, glob_is_valid, trim_space

# How a compiled pattern is tested, mirroring patternmatcher's matchType.
EXACT, PREFIX, SUFFIX, REGEX = "exact", "prefix", "suffix", "regexp"

# Characters patternmatcher escapes for its regexp. It means to escape ".+()|{}$",
# but its lookup table only holds characters below 64, so "|", "{" and "}" reach the
# regexp unescaped: in a pattern that has wildcards, "a*|b*" is an alternation and
# "x{2}" a repetition. None of these turn a literal pattern into a regexp one.
_REGEX_ESCAPED = frozenset(".+()$")

# Which patterns a directory matched (``MatchInfo.parentMatched``), bit i for pattern i.
MatchState = int


class InvalidPatternError(ValueError):
    """A pattern Docker would refuse (the build aborts)."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"invalid pattern {pattern!r}: {reason}")
        self.pattern = pattern
        self.reason = reason


def go_regex_source(pattern: str) -> tuple[str, str]:
    """Port of patternmatcher's ``Pattern.compile``: (match kind, Go regexp source).

    The regexp source is only meaningful for the ``regexp`` kind.
    """
    out = ["^"]
    kind = EXACT
    n = len(pattern)
    # text/scanner skips a byte order mark at the start of its input.
    pos = 1 if pattern.startswith("\ufeff") else 0
    first = True
    while pos < n:
        char = pattern[pos]
        pos += 1
        if char == "*":
            if pos < n and pattern[pos] == "*":
                pos += 1
                if pos < n and pattern[pos] == "/":
                    pos += 1  # "**/" behaves like "**"
                if pos >= n:
                    if kind == EXACT:
                        kind = PREFIX
                    else:
                        out.append(".*")
                        kind = REGEX
                else:
                    out.append("(.*/)?")
                    kind = REGEX
                if first:
                    kind = SUFFIX
            else:
                out.append("[^/]*")
                kind = REGEX
        elif char == "?":
            out.append("[^/]")
            kind = REGEX
        elif char in _REGEX_ESCAPED:
            out.append("\\" + char)
        elif char == "\\":
            if pos < n:
                out.append("\\" + pattern[pos])
                pos += 1
                kind = REGEX
            else:
                out.append("\\")
        elif char in "[]":
            out.append(char)
            kind = REGEX
        else:
            out.append(char)
        first = False
    if kind == REGEX:
        out.append("$")
    return kind, "".join(out)


class DockerPattern(pathspec.Pattern):
    """One ignore pattern: ``*.pyc``, ``**/node_modules``, ``!keep/me``.

    ``include`` follows pathspec: True for an exclusion (the path is matched, i.e.
    ignored), False for a ``!`` exception, None for a blank line. ``match_file`` is
    true when the path or one of its parent directories matches, which is what a
    single pattern means to Docker (``a`` covers ``a/b/c``).
    """

    __slots__ = ("exception", "kind", "line", "matches", "regex", "source", "text")

    def __init__(self, pattern: str, line: int | None = None) -> None:
        self.source = pattern
        self.line = line
        text = trim_space(pattern)
        if not text:
            super().__init__(None)
            self.exception = False
            self.text = ""
            self.kind = EXACT
            self.regex = None
            self.matches = _never
            return
        text = clean(text)
        self.exception = text.startswith("!")
        if self.exception:
            if len(text) == 1:
                raise InvalidPatternError(pattern, 'illegal exclusion pattern: "!"')
            text = text[1:]
        super().__init__(not self.exception)
        if not glob_is_valid(text):
            raise InvalidPatternError(pattern, _glob_problem(text))
        self.text = text
        self.kind, go_source = go_regex_source(text)
        self.regex = None
        if self.kind == REGEX:
            try:
                self.regex = re.compile(translate(go_source))
            except GoRegexError as exc:
                raise InvalidPatternError(pattern, str(exc)) from None
            except re.error as exc:  # a construct the translation does not cover
                raise InvalidPatternError(pattern, f"unsupported pattern ({exc})") from None
        self.matches = self._matcher()

    def _matcher(self) -> Callable[[str], object]:
        """A fast callable testing one path (no parent logic): patternmatcher's ``match``."""
        text = self.text
        if self.kind == EXACT:
            return text.__eq__
        if self.kind == PREFIX:
            prefix = text[:-2]
            return lambda path: path.startswith(prefix)
        if self.kind == SUFFIX:
            suffix = text[2:]
            bare = suffix[1:] if suffix.startswith("/") else None  # "**/foo" matches "foo"
            return lambda path: path.endswith(suffix) or path == bare
        assert self.regex is not None
        return self.regex.search

    def __repr__(self) -> str:
        return f"DockerPattern({self.source!r})"

    def matches_path_or_parent(self, path: str) -> bool:
        """True when ``path`` or any of its parent directories matches."""
        if self.matches(path):
            return True
        parts = path.split("/")
        return any(self.matches("/".join(parts[:i])) for i in range(1, len(parts)))

    def match_file(self, file: str) -> bool | None:
        """pathspec protocol: the pattern's verdict, or None when it does not apply."""
        if self.include is None or not self.matches_path_or_parent(file):
            return None
        return self.include


def _never(_path: str) -> bool:
    return False


def _glob_problem(text: str) -> str:
    if text.endswith("\\") and (len(text) - len(text.rstrip("\\"))) % 2 == 1:
        return "trailing backslash escapes nothing"
    if "[" in text:
        return "malformed character class (unclosed '[', empty class or dangling '-')"
    return "syntax error in pattern"


class IgnoreMatcher:
    """An ordered list of :class:`DockerPattern` — patternmatcher's ``PatternMatcher``."""

    __slots__ = ("_rows", "exception_prefixes", "has_exceptions", "patterns")

    def __init__(self, patterns: Iterable[DockerPattern | str]) -> None:
        compiled = [p if isinstance(p, DockerPattern) else DockerPattern(p) for p in patterns]
        self.patterns: tuple[DockerPattern, ...] = tuple(
            p for p in compiled if p.include is not None
        )
        self.has_exceptions = any(p.exception for p in self.patterns)
        # The walk may enter an excluded directory only for a "!" pattern whose text
        # literally starts with that directory's path (no wildcard reasoning).
        self.exception_prefixes = tuple(p.text + "/" for p in self.patterns if p.exception)
        self._rows = tuple((1 << i, p.exception, p.matches) for i, p in enumerate(self.patterns))

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def __len__(self) -> int:
        return len(self.patterns)

    def pathspec(self) -> pathspec.PathSpec:
        """The same patterns as a ``PathSpec``; ``match_file`` equals :meth:`excluded`."""
        return pathspec.PathSpec(self.patterns, backend="simple")

    def excluded(self, path: str) -> bool:
        """patternmatcher's ``MatchesOrParentMatches``: last applicable pattern wins."""
        matched = False
        parts = path.split("/")
        parents = ["/".join(parts[:i]) for i in range(1, len(parts))]
        for _bit, exception, fn in self._rows:
            if exception != matched:
                continue
            if fn(path) or any(fn(parent) for parent in parents):
                matched = not exception
        return matched

    def match_child(self, path: str, parent: MatchState | None) -> tuple[bool, MatchState]:
        """patternmatcher's ``MatchesUsingParentResults``: (excluded, state for children).

        ``parent`` is the state returned for the parent directory, or None at the top.
        A pattern the parent matched counts as matched without re-testing. A pattern
        skipped for the parent (an exception while nothing was excluded yet, or an
        exclusion once already excluded) is recorded as not matched; that is why
        ``**/*.txt`` followed by ``!keep`` still excludes ``keep/x.txt``.
        """
        matched = False
        hits = 0
        if parent is None:
            parts = path.split("/")
            parents = ["/".join(parts[:i]) for i in range(1, len(parts))]
            for bit, exception, fn in self._rows:
                if exception != matched:
                    continue
                if fn(path) or any(fn(p) for p in parents):
                    hits |= bit
                    matched = not exception
            return matched, hits
        # The walk's hot loop: one call per entry, so kept to plain operations.
        for bit, exception, fn in self._rows:
            if (parent & bit) or (exception == matched and fn(path)):
                hits |= bit
                matched = not exception
        return matched, hits

    def may_descend(self, directory: str) -> bool:
        """Whether the walk enters the excluded ``directory`` (a ``!`` pattern starts with it)."""
        prefix = directory + "/"
        return any(p.startswith(prefix) for p in self.exception_prefixes)
