"""A .dockerignore pattern and pattern list with moby/patternmatcher semantics.

:class:`DockerPattern` speaks pathspec's pattern protocol (``include``, ``match_file``), so a
list of them works in a ``pathspec.PathSpec`` (``PathSpec(patterns).match_file(p)`` is True
when ``p`` is excluded). It does not subclass ``pathspec.Pattern``: importing pathspec was
~9 ms of ``imagec context --tar``'s start-up, and nothing here uses it. The walk needs more
than a yes/no per path, so :class:`IgnoreMatcher` also reproduces the stateful
``MatchesUsingParentResults`` the docker CLI's archive walk uses, quirks included (see
:meth:`IgnoreMatcher.match_child`).

Matching takes time linear in the path's length for every pattern: patternmatcher's
exact, prefix and suffix tests are string comparisons, and its regexps run on
:mod:`imagec.context.automaton` (no backtracking, like Go's). Many patterns stay cheap
because the walk asks :mod:`imagec.context.dirindex` which patterns can still match
below a directory, once per directory.

One deliberate difference: patternmatcher compiles a pattern's regexp the first time the
pattern is used, so a malformed one (``[z-a]``, ``x\\q*``) aborts a Docker build only if
some path reaches it. Here every pattern is compiled up front and a malformed one is
always an error, even an exception that nothing would have reached.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections.abc import Callable, Iterable

from imagec.context import goregex, shape
from imagec.context.automaton import DEAD, HIT, MAX_PROGRAM, Automaton, go_text, program_size
from imagec.context.dirindex import DirectoryIndex
from imagec.context.gosyntax import clean, glob_is_valid, is_invalid_rune, trim_space

TYPE_CHECKING = False  # not typing's: `imagec context --tar` loads no typing
if TYPE_CHECKING:
    import pathspec

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

    The regexp source is only meaningful for the ``regexp`` kind. Go's text/scanner
    reads an invalid UTF-8 byte as U+FFFD, so that is what the regexp holds for it.
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
                out.append("\\" + _scanned(pattern[pos]))
                pos += 1
                kind = REGEX
            else:
                out.append("\\")
        elif char in "[]":
            out.append(char)
            kind = REGEX
        else:
            out.append(_scanned(char))
        first = False
    if kind == REGEX:
        out.append("$")
    return kind, "".join(out)


def _scanned(char: str) -> str:
    return "\ufffd" if is_invalid_rune(char) else char


def go_parents(path: str) -> tuple[str, tuple[int, ...]]:
    """The parent directories patternmatcher checks for ``path``, as (base, cuts).

    ``filepath.Dir(path)`` split at "/" and rejoined one element at a time: the parents
    are ``base[:cut]`` for each cut. None for a path without a directory part.
    """
    slash = path.rfind("/")
    base = clean(path[: slash + 1])  # path.Dir
    if base == ".":
        return base, ()
    cuts: list[int] = []
    at = -1
    for part in base.split("/"):
        at += len(part) + 1
        cuts.append(at)
    return base, tuple(cuts)


class DockerPattern:
    """One ignore pattern: ``*.pyc``, ``**/node_modules``, ``!keep/me``.

    ``include`` follows pathspec: True for an exclusion (the path is matched, i.e.
    ignored), False for a ``!`` exception, None for a blank line. ``match_file`` is
    true when the path or one of its parent directories matches, which is what a
    single pattern means to Docker (``a`` covers ``a/b/c``).

    A regexp pattern is parsed (and so validated) here; its automaton is built the
    first time a path needs it.
    """

    __slots__ = (
        "_automaton",
        "_basename",
        "_basename_node",
        "_buckets",
        "_deeper",
        "_element_tests",
        "_elements",
        "_tail",
        "exception",
        "include",
        "kind",
        "line",
        "matches",
        "node",
        "source",
        "text",
    )

    def __init__(self, pattern: str, line: int | None = None) -> None:
        self.source = pattern
        self.line = line
        self.node: goregex.Node | None = None  # the Go regexp's syntax tree (regexp kind)
        self._automaton: Automaton | None = None
        self._basename_node: goregex.Node | None = None
        self._basename: Callable[[str], bool] | None = None
        # A regexp made of path elements: their regexps, the last one for "**/X" if _tail.
        self._elements: tuple[goregex.Node, ...] | None = None
        self._element_tests: list[Callable[[str], bool] | None] = []
        self._tail = False
        self._deeper = False
        self._buckets: dict[object, tuple[str, str]] = {}
        text = trim_space(pattern)
        if not text:
            self.include: bool | None = None
            self.exception = False
            self.text = ""
            self.kind = EXACT
            self.matches: Callable[[str], bool] = _never
            return
        text = clean(text)
        self.exception = text.startswith("!")
        if self.exception:
            if len(text) == 1:
                raise InvalidPatternError(pattern, 'illegal exclusion pattern: "!"')
            text = text[1:]
        self.include = not self.exception
        if not glob_is_valid(text):
            raise InvalidPatternError(pattern, _glob_problem(text))
        self.text = text
        self.kind, go_source = go_regex_source(text)
        if self.kind == REGEX:
            try:
                self.node = goregex.parse(go_source)
            except goregex.GoRegexError as exc:
                raise InvalidPatternError(pattern, str(exc)) from None
            if ("{" in go_source or len(go_source) > MAX_PROGRAM // 4) and program_size(
                self.node
            ) > MAX_PROGRAM:
                raise InvalidPatternError(
                    pattern, f"pattern too large for imagec (over {MAX_PROGRAM} NFA states)"
                )
            # How the directory index will file it (see bucket()).
            found = shape.segments(self.node)
            if found is not None:
                elements, tail = found
                self._elements = (*elements, tail) if tail is not None else elements
                self._tail = tail is not None
                self._element_tests = [None] * len(self._elements)
            else:
                self._basename_node = shape.basename_part(self.node)
                # Whether a path below a directory can still match.
                self._deeper = (
                    not shape.anchored(self.node)
                    or not shape.end_anchored(self.node)
                    or shape.reads(self.node, shape.SLASH)
                )
        self.matches = self._matcher()

    @property
    def automaton(self) -> Automaton | None:
        """The linear-time matcher of a regexp pattern (None for the other kinds)."""
        if self._automaton is None and self.node is not None:
            self._automaton = Automaton(self.node)
        return self._automaton

    def _matcher(self) -> Callable[[str], bool]:
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
        return self._first_match

    def _first_match(self, path: str) -> bool:
        automaton = self.automaton
        assert automaton is not None
        self.matches = automaton.match
        return automaton.match(path)

    def __repr__(self) -> str:
        return f"DockerPattern({self.source!r})"

    def matches_path_or_parent(self, path: str) -> bool:
        """True when ``path`` or one of its parent directories (as Go splits it) matches.

        Linear in the length of ``path``: the parents are prefixes of one string, tested
        in one pass.
        """
        if self.matches(path):
            return True
        base, cuts = go_parents(path)
        if not cuts:
            return False
        text = self.text
        if self.kind == EXACT:
            return len(text) in cuts and base.startswith(text)
        if self.kind == PREFIX:
            return base.startswith(text[:-2])
        if self.kind == SUFFIX:
            suffix = text[2:]
            bare = suffix[1:] if suffix.startswith("/") else None
            return any(base.endswith(suffix, 0, cut) for cut in cuts) or (
                bare is not None and len(bare) in cuts and base.startswith(bare)
            )
        automaton = self.automaton
        assert automaton is not None
        return automaton.match_prefixes(base, cuts)

    def match_file(self, file: str) -> bool | None:
        """pathspec protocol: the pattern's verdict, or None when it does not apply."""
        if self.include is None or not self.matches_path_or_parent(file):
            return None
        return self.include

    # -- the directory index protocol (see imagec.context.dirindex) ------------------
    #
    # A residual is what is left of the pattern once the walk is inside a directory:
    # the rest of the literal text for exact and prefix patterns, the number of the
    # next path element for a regexp made of elements (``src/*/x?.py``, ``src/**/*.py``
    # where the last number stands for the whole "**/" part), the automaton's
    # state for any other regexp (None before the first directory). Suffix patterns and
    # "**/X" ones do not depend on the directory at all: they are "shared".

    def shared(self) -> tuple[str, str, bool] | None:
        """(bucket, key, basename) for a pattern that ignores the directory, else None.

        ``basename`` marks "**/X" patterns, which match nothing below a directory path
        holding a newline.
        """
        if self.kind == SUFFIX:
            suffix = self.text[3:] if self.text.startswith("**/") else self.text[2:]
            return (shape.LAST, suffix, False) if suffix else (shape.ALWAYS, "", False)
        if self._basename_node is not None:
            how, key = shape.literal_bucket(self._basename_node)
            return how, key, True
        return None

    def residual(self) -> object:
        """The residual at the top of the context."""
        if self.kind == PREFIX:
            return self.text[:-2]
        if self.kind == REGEX:
            return 0 if self._elements is not None else None
        return self.text

    def descend(self, residual: object, name: str) -> object | None:
        """The residual inside the directory ``name``; None when nothing below can match."""
        if self.kind == REGEX:
            if self._elements is not None:
                assert isinstance(residual, int)
                if self._tail and residual + 1 == len(self._elements):
                    # Inside "**/": any directory but one whose name holds a newline.
                    return None if "\n" in name else residual
                if residual + 1 < len(self._elements) and self._element_matches(residual, name):
                    return residual + 1
                return None
            automaton = self.automaton
            assert automaton is not None
            start = automaton.initial if residual is None else residual
            state = automaton.advance(start, go_text(name + "/"))  # type: ignore[arg-type]
            return None if state is DEAD else state
        assert isinstance(residual, str)
        segment = name + "/"
        if residual.startswith(segment):
            return residual[len(segment) :]
        if self.kind == PREFIX and (not residual or segment.startswith(residual)):
            return ""  # the prefix is complete: everything below matches
        return None

    def bucket(self, residual: object) -> tuple[str, str, str, str]:
        """How the index files this pattern in a directory: (here, key, below, key).

        ``here``, for the directory's entries: NAME, only the entry so named; FIRST /
        LAST, an entry whose name starts / whose path ends with the key; ALWAYS, every
        entry; TEST, entries whose path contains the key, after :meth:`matches_child`;
        NONE, no entry. ``below``, for the subdirectories the pattern may match in:
        NAME (the key), FIRST / LAST / TEST (on the subdirectory's name), ALWAYS (any),
        ANY (any, and :meth:`descend` gives the same residual whatever the name), NONE;
        :meth:`descend` decides.
        """
        kind = self.kind
        if kind != REGEX:
            assert isinstance(residual, str)
            if kind == PREFIX and not residual:
                return shape.ALWAYS, "", shape.ANY, ""
            if "/" in residual:
                return shape.NONE, "", shape.NAME, residual[: residual.index("/")]
            if kind == EXACT:
                return shape.NAME, residual, shape.NONE, ""
            return shape.FIRST, residual, shape.FIRST, residual
        if self._elements is not None:
            assert isinstance(residual, int)
            how, key = self._memo(residual, _element_bucket, self._elements[residual])
            if residual + 1 == len(self._elements):
                return how, key, shape.ALWAYS if self._tail else shape.NONE, ""
            if self._elements[residual] == _ANY_ELEMENT:
                how = shape.ANY
            return shape.NONE, "", how, key
        below = shape.ALWAYS if self._deeper else shape.NONE
        assert self.node is not None
        if residual is HIT:
            return shape.ALWAYS, "", shape.ANY, ""
        if residual is None:  # at the top: read the tree, build no automaton yet
            how, key = self._memo("start", _element_bucket, self.node)
        else:
            automaton = self.automaton
            assert automaton is not None
            forced = automaton.forced_text(residual)  # type: ignore[arg-type]
            how, key = shape.FIRST, forced.partition("\ufffd")[0]
            if "/" in key:
                how, key = shape.SEGMENT, key[: key.index("/")]
            elif not key:
                how, key = self._memo("tail", _tail_bucket, self.node)
        if how == shape.SEGMENT:
            return shape.NONE, "", shape.NAME, key
        if how == shape.NAME:
            return how, key, shape.NONE, ""
        if how == shape.FIRST:
            return how, key, shape.FIRST if self._deeper else shape.NONE, key
        return how, key, below, ""

    def matches_child(self, residual: object, name: str, path: str) -> bool:
        """Whether ``path``, the entry ``name`` of the directory of ``residual``, matches.

        For a shared pattern ``residual`` is None.
        """
        if self.kind == REGEX:
            if self._elements is not None:
                assert isinstance(residual, int)
                last = residual + 1 == len(self._elements)
                return last and self._element_matches(residual, name)
            if self._basename_node is not None and residual is None:
                if self._basename is None:
                    self._basename = _element_test(self._basename_node)
                return self._basename(name)
            automaton = self.automaton
            assert automaton is not None
            start = automaton.initial if residual is None else residual
            return automaton.accepts(automaton.advance(start, go_text(name)))  # type: ignore[arg-type]
        if self.kind == SUFFIX:
            return self.matches(path)
        assert isinstance(residual, str)
        return name.startswith(residual) if self.kind == PREFIX else name == residual

    def _memo(
        self,
        key: object,
        compute: Callable[[goregex.Node], tuple[str, str]],
        node: goregex.Node,
    ) -> tuple[str, str]:
        """``compute(node)``, kept on the pattern (the index asks once per directory)."""
        found = self._buckets.get(key)
        if found is None:
            found = self._buckets[key] = compute(node)
        return found

    def _element_matches(self, number: int, name: str) -> bool:
        """Whether path element ``name`` matches element ``number`` of the pattern."""
        test = self._element_tests[number]
        if test is None:
            assert self._elements is not None
            test = self._element_tests[number] = _element_test(self._elements[number])
        return test(name)


_ANY_ELEMENT = ("cat", (("empty", goregex.BEGIN), shape.ANY_NAME, ("empty", goregex.END)))


def _always(_name: str) -> bool:
    return True


# Patterns often share elements (``src/*/x.py``, ``src/*/y.py``) or whole regexps: their
# index keys and matchers are worked out once.
@functools.lru_cache(maxsize=4096)
def _element_bucket(node: goregex.Node) -> tuple[str, str]:
    return shape.literal_bucket(node)


@functools.lru_cache(maxsize=4096)
def _tail_bucket(node: goregex.Node) -> tuple[str, str]:
    return shape.tail_bucket(node)


@functools.lru_cache(maxsize=4096)
def _element_test(node: goregex.Node) -> Callable[[str], bool]:
    """A test of one path element against ``^element$``."""
    how, key = _element_bucket(node)
    if node == _ANY_ELEMENT:
        return _always
    if how == shape.NAME and "\ufffd" not in key:
        return key.__eq__
    return Automaton(node).match


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

    __slots__ = (
        "_exceptions",
        "_index",
        "_parents",
        "exception_prefixes",
        "has_exceptions",
        "patterns",
    )

    def __init__(self, patterns: Iterable[DockerPattern | str]) -> None:
        compiled = [p if isinstance(p, DockerPattern) else DockerPattern(p) for p in patterns]
        self.patterns: tuple[DockerPattern, ...] = tuple(
            p for p in compiled if p.include is not None
        )
        self._exceptions = tuple(p.exception for p in self.patterns)
        self.has_exceptions = any(self._exceptions)
        # The walk may enter an excluded directory only for a "!" pattern whose text
        # literally starts with that directory's path (no wildcard reasoning). Sorted,
        # so that the patterns starting with a given path are found by bisection.
        self.exception_prefixes = tuple(
            sorted({p.text + "/" for p in self.patterns if p.exception})
        )
        self._index = DirectoryIndex(self.patterns)
        self._parents: dict[int, list[int]] = {}  # parent state -> its pattern numbers

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def __len__(self) -> int:
        return len(self.patterns)

    def pathspec(self) -> pathspec.PathSpec:
        """The same patterns as a ``PathSpec``; ``match_file`` equals :meth:`excluded`."""
        import pathspec

        return pathspec.PathSpec(self.patterns, backend="simple")

    def excluded(self, path: str) -> bool:
        """patternmatcher's ``MatchesOrParentMatches``: last applicable pattern wins."""
        matched = False
        for pattern, exception in zip(self.patterns, self._exceptions, strict=True):
            if exception == matched and pattern.matches_path_or_parent(path):
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
        slash = path.rfind("/")
        if parent is None and slash >= 0:
            return self._match_without_parent_results(path)
        # Which patterns match at all, from the index of the path's directory; the
        # order-dependent skipping is then replayed on those alone.
        hits = self._index.matching(path[: slash + 1], path[slash + 1 :], path)
        return self._decide(hits, parent or 0)

    def match_entry(
        self, prefix: str, name: str, path: str, parent: MatchState | None
    ) -> tuple[bool, MatchState]:
        """:meth:`match_child` for ``path`` = ``prefix + name`` (``prefix`` "" or ending in
        "/"), when the caller has the parts at hand: the walk, once per entry."""
        if parent is None and prefix:
            return self._match_without_parent_results(path)
        hits = self._index.matching(prefix, name, path)
        if not hits and not parent:
            return False, 0  # what _decide answers: most entries of a walk, so without it
        return self._decide(hits, parent or 0)

    def _decide(self, hits: list[int], parent: MatchState) -> tuple[bool, MatchState]:
        exceptions = self._exceptions
        inherited = self._parent_numbers(parent) if parent else []
        if not hits:
            return (not exceptions[inherited[-1]] if inherited else False), parent
        hits.sort()
        matched = False
        state = parent
        done = 0  # inherited patterns already replayed
        for number in hits:
            before = bisect_left(inherited, number, done)
            if before > done:
                matched = not exceptions[inherited[before - 1]]
                done = before
            if done < len(inherited) and inherited[done] == number:
                matched = not exceptions[number]
                done += 1
            elif exceptions[number] == matched:
                state |= 1 << number
                matched = not exceptions[number]
        if done < len(inherited):
            matched = not exceptions[inherited[-1]]
        return matched, state

    def _parent_numbers(self, parent: MatchState) -> list[int]:
        """The pattern numbers set in ``parent``, ascending (cached: siblings share it)."""
        found = self._parents.get(parent)
        if found is None:
            if len(self._parents) >= 256:
                self._parents.clear()
            digits = bin(parent)[:1:-1]  # bit i is digits[i]
            found = []
            at = digits.find("1")
            while at >= 0:
                found.append(at)
                at = digits.find("1", at + 1)
            self._parents[parent] = found
        return found

    def _match_without_parent_results(self, path: str) -> tuple[bool, MatchState]:
        """No parent results: each pattern is tested on the path and its parents."""
        matched = False
        state = 0
        for number, (pattern, exception) in enumerate(
            zip(self.patterns, self._exceptions, strict=True)
        ):
            if exception == matched and pattern.matches_path_or_parent(path):
                state |= 1 << number
                matched = not exception
        return matched, state

    def may_descend(self, directory: str) -> bool:
        """Whether the walk enters the excluded ``directory`` (a ``!`` pattern starts with it)."""
        prefix = directory + "/"
        prefixes = self.exception_prefixes
        at = bisect_left(prefixes, prefix)
        return at < len(prefixes) and prefixes[at].startswith(prefix)
