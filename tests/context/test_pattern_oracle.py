"""The linear-time matcher against an oracle: Python ``re`` on the same Go regexps.

``support.go_re_oracle`` is the translation of patternmatcher's Go regexps to Python ``re`` that
imagec used before it had its own automaton, with its own parser. On inputs small enough
for ``re``'s backtracking, both must agree on which patterns are valid and on every
match; whole pattern lists must agree with a direct transcription of patternmatcher's
``MatchesOrParentMatches`` and ``MatchesUsingParentResults`` over the oracle.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from support.go_re_oracle import GoRegexError, translate

from imagec.context import DockerPattern, IgnoreMatcher, InvalidPatternError
from imagec.context.automaton import go_text
from imagec.context.gosyntax import clean, glob_is_valid, trim_space
from imagec.context.pattern import EXACT, PREFIX, REGEX, SUFFIX, go_parents, go_regex_source

PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=1000)

# Pieces of patterns: wildcards, Go regexp syntax that reaches the regexp, escapes,
# classes, invalid UTF-8 (a lone surrogate, as file names decode) and plain text.
PATTERN_PIECES = [
    "a", "b", "ab", "/", "*", "**", "**/", "?", ".", "-", "!", "_", " ", "2",
    "[", "]", "[^", "[^a]", "[!a]", "[a-b]", "[]]", "[[:digit:]]", "[[:^alpha:]]",
    "^", "$", "|", "{", "}", "{2}", "{0}", "{1,}", "{,2}", "{2,1}", "x{2,3}", "(", ")",
    "\\", "\\*", "\\a", "\\d", "\\D", "\\s", "\\w", "\\b", "\\B", "\\A", "\\z", "\\Q",
    "\\E", "\\x41", "\\x{62}", "\\141", "\\pL", "\\PN", "\\.", "\\[", "\\q", "\\\\",
    "\n", "\ufffd", "\udc80", "é",
    # whole shapes, so that the rare combinations come up often enough
    "a*|b", "*|", "|*", "|a", "**/a", "a/**", "*/", "/*", "**/*", "*a*", "\\Q*", "\\E",
    "a/**/*", "*/**/a", "/**/",
]  # fmt: skip
PATH_PIECES = [
    "a", "b", "ab", "aa", "/", ".", "x", "2", "_", "-", "!", " ", "[", "]", "*", "$", "|",
    "{", "}", "\\", "\n", "é", "\ufffd", "\udc80", "A", "Q",
]  # fmt: skip

patterns = st.lists(st.sampled_from(PATTERN_PIECES), min_size=1, max_size=7).map("".join)
paths = st.lists(st.sampled_from(PATH_PIECES), max_size=10).map("".join)
segments = st.lists(
    st.sampled_from([p for p in PATH_PIECES if p != "/"]), min_size=1, max_size=4
).map("".join)
walk_paths = st.lists(segments, min_size=1, max_size=4).map("/".join)


def oracle(text: str) -> Callable[[str], bool] | None:
    """patternmatcher's ``match`` for a cleaned pattern, through ``re``; None if invalid."""
    kind, source = go_regex_source(text)
    if kind == EXACT:
        return text.__eq__
    if kind == PREFIX:
        return lambda path: path.startswith(text[:-2])
    if kind == SUFFIX:
        suffix = text[2:]
        return lambda path: path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
    assert kind == REGEX
    try:
        compiled = re.compile(translate(source))
    except GoRegexError:
        return None
    return lambda path: compiled.search(go_text(path)) is not None


def oracle_or_parent(fn: Callable[[str], bool], path: str) -> bool:
    base, cuts = go_parents(path)
    return fn(path) or any(fn(base[:cut]) for cut in cuts)


def compile_both(text: str) -> tuple[DockerPattern, Callable[[str], bool]]:
    """The pattern and its oracle; skips texts whose glob part is invalid (shared code)."""
    cleaned = clean(trim_space(text))
    cleaned = cleaned[1:] if cleaned.startswith("!") else cleaned
    assume(trim_space(text) and cleaned and glob_is_valid(cleaned))
    try:
        fn = oracle(cleaned)
    except NotImplementedError:  # \p{Name}: the oracle does not cover it
        assume(False)
    try:
        pattern: DockerPattern | None = DockerPattern(text)
    except InvalidPatternError:
        pattern = None
    assert (pattern is None) == (fn is None), f"valid here {pattern is not None}: {text!r}"
    assume(pattern is not None and fn is not None)
    return pattern, fn  # type: ignore[return-value]


@PROPERTY
@given(patterns, st.lists(paths, min_size=1, max_size=6))
def test_one_pattern_agrees_with_re(text: str, candidates: list[str]) -> None:
    pattern, fn = compile_both(text)
    for path in candidates:
        assert pattern.matches(path) == fn(path), (pattern.text, path)
        assert pattern.matches_path_or_parent(path) == oracle_or_parent(fn, path), (
            pattern.text,
            path,
        )


def naive_excluded(rows: list[tuple[Callable[[str], bool], bool]], path: str) -> bool:
    """``MatchesOrParentMatches`` transcribed."""
    matched = False
    for fn, exception in rows:
        if exception != matched:
            continue
        if oracle_or_parent(fn, path):
            matched = not exception
    return matched


def naive_walk(rows: list[tuple[Callable[[str], bool], bool]], path: str) -> bool:
    """``MatchesUsingParentResults`` called for each directory down to ``path``."""
    parts = path.split("/")
    parent: list[bool] | None = None
    matched = False
    for depth in range(1, len(parts) + 1):
        current = "/".join(parts[:depth])
        matched = False
        info = [False] * len(rows)
        for i, (fn, exception) in enumerate(rows):
            match = parent[i] if parent else False
            if not match:
                if exception != matched:
                    continue
                match = fn(current) if parent else oracle_or_parent(fn, current)
            info[i] = match
            if match:
                matched = not exception
        parent = info
    return matched


def walk_decision(matcher: IgnoreMatcher, path: str) -> bool:
    parts = path.split("/")
    state = None
    excluded = False
    for depth in range(1, len(parts) + 1):
        excluded, state = matcher.match_child("/".join(parts[:depth]), state)
    return excluded


@PROPERTY
@given(
    st.lists(st.tuples(st.booleans(), patterns), min_size=1, max_size=5),
    st.lists(walk_paths, min_size=1, max_size=6),
)
# Found by random exploration: an unanchored alternative, and regexps whose final "$" a
# \Q (or a trailing backslash) made literal, so that a match may be a prefix of the path.
@example([(False, "a*|b"), (True, "\\Q")], ["$/b"])
@example([(False, "*.py|*.txt")], ["d/e.txt", "d/e/f.py"])
@example([(False, "**/a\\Q")], ["x/a$/y", "a$", "x/a$", "x/a"])
@example([(False, "a/b\\Q")], ["a/b$/c", "a/b$"])
@example([(False, "*"), (True, "a/*\\Q")], ["a/b$/c", "a/b/c"])
@example([(False, "*/c"), (True, "**/a\\Q")], ["a$/c", "x/a$b/c"])
@example([(False, "*/*/c"), (True, "a/*/b\\Q")], ["a/x/b$/c", "a/x/b/c"])
# "**/" inside a pattern: the directories it covers may not hold a newline.
@example([(False, "a/**/*")], ["a/b\nc/d", "a/d", "a/b/c/d", "a\n/b"])
@example([(False, "*/**/b"), (True, "x/**/b")], ["a\nx/b", "a/c\n/b", "a/b", "x/y/b"])
def test_pattern_lists_agree_with_patternmatcher(
    lines: list[tuple[bool, str]], candidates: list[str]
) -> None:
    compiled = []
    rows = []
    for negated, text in lines:
        pattern, fn = compile_both(("!" if negated else "") + text)
        compiled.append(pattern)
        rows.append((fn, pattern.exception))
    matcher = IgnoreMatcher(compiled)
    for path in candidates:
        assert matcher.excluded(path) == naive_excluded(rows, path), path
        assert walk_decision(matcher, path) == naive_walk(rows, path), path
    # The same matcher again, paths in another order: the per-directory cache must not
    # carry anything from one path to the next.
    for path in reversed(candidates):
        assert walk_decision(matcher, path) == naive_walk(rows, path), path


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        # \Q\E between two repetitions: Go repeats the repetition (a** alone is an error).
        ("*a\\Q\\E{2}", "xaa", True),
        ("a*\\Q\\E{2}z", "az", True),
        # \x{...} and \p{Name} are Go syntax the previous translation refused.
        ("*\\x{41}", "zA", True),
        ("*\\p{Lu}", "xÉ", True),
        ("*\\p{Lu}", "xé", False),
        ("*\\p{^Lu}", "xé", True),
        ("*\\p{Any}", "x\n", True),
        # An invalid byte in a regexp pattern is U+FFFD to Go, which also reads every
        # invalid byte of a path as U+FFFD.
        ("*\udc80", "a\udcff", True),
        ("*\udc80", "a\ufffd", True),
        ("*\udc80", "ab", False),
        # Exact patterns compare bytes.
        ("a\udc80", "a\udc80", True),
        ("a\udc80", "a\udcff", False),
    ],
)
def test_go_syntax_beyond_the_previous_translation(pattern: str, path: str, expected: bool) -> None:
    assert DockerPattern(pattern).matches(path) is expected


@pytest.mark.parametrize("pattern", ["*\\p{Greek}", "*\\p{Nope}", "*\\x{110000}", "*\\x{}"])
def test_unsupported_or_invalid_unicode_syntax_is_refused(pattern: str) -> None:
    with pytest.raises(InvalidPatternError):
        DockerPattern(pattern)
