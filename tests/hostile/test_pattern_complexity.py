""".dockerignore patterns cannot make matching slow: linear in the path, cheap in number.

Docker compiles each pattern to a Go regexp (RE2: no backtracking, time linear in the
path). imagec's automaton must be too, for every pattern shape. Linearity is asserted on
counted work (NFA instructions visited, :attr:`Automaton.work`) with the state cache off,
which is the worst case: every character then costs a pass over the active states, and
the work for a path four times longer must be about four times larger, never more.
Wall-clock time only bounds each test (a hang fails it), with generous limits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from imagec.context import DockerPattern, IgnoreMatcher, select_context, walk_context
from imagec.context.automaton import Automaton
from imagec.context.walk import FILE


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail the test when the block runs longer than ``seconds`` (SIGALRM, main thread).

    Nests: an enclosing limit keeps running, less the time spent inside.
    """

    def expire(signum: int, frame: Any) -> None:
        raise AssertionError(f"did not finish within {seconds} s")

    outer_left = signal.getitimer(signal.ITIMER_REAL)[0]
    start = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer_left or seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left:
            left = outer_left - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))


@pytest.fixture(autouse=True)
def _every_test_is_bounded() -> Iterator[None]:
    with time_limit(120):
        yield


# (pattern, the path element repeated to make a long path, expected match).
SHAPES = [
    # the reported case: nested stars against a run of the letter they look for
    ("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", "a", False),
    ("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a", "a", True),
    ("*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*!", "?", False),
    # ** chains and nested stars across directories
    ("**/**/**/**/**/**/**/**/x", "a/", False),
    ("**/*a*a*a*a*a*a*a*a*b/**", "a/", False),
    ("**a**a**a**a**a**a**a**b", "a/", False),
    ("a**/**/**/**/b**", "a/", False),
    # character classes, Go syntax: negation, ranges, POSIX and Unicode classes
    ("*[ab]*[^c]*[a-b]*[[:alpha:]]*[^/]*z", "ab", False),
    ("*\\pL*\\pL*\\pL*\\pL*\\pL*\\d", "é", False),
    ("*\\w*\\w*\\w*\\w*\\w*\\W", "w", False),
    ("*[^x]*[^x]*[^x]*[^x]*[^x]*x", "y", False),
    # escapes
    ("*\\**\\**\\**\\**\\**\\*b", "*", False),
    ("*\\\\*\\\\*\\\\*\\\\*\\\\*\\Q", "\\", False),
    # repetitions and alternations reaching the regexp unescaped
    ("*x{20}*x{20}*x{20}y", "x", False),
    ("*[ab]{1,100}*[ab]{1,100}c", "ab", False),
    ("b*|*a*a*a*a*a*a*a*a*a*b", "a", False),
    ("*a|*a*a*a*a*a*a*a*a*a*b", "a", True),
    # zero-width assertions: word boundaries need the next character too
    ("*\\b*\\b*\\b*\\b*\\b*\\Bq", "ab ", False),
    ("\\A*a*a*a*a*a*a*a*a*\\z", "a", True),
]


def _path(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def uncached_work(pattern: DockerPattern, path: str) -> int:
    """Instructions visited matching ``path`` (and its parents) with no state reused."""
    assert pattern.node is not None
    automaton = Automaton(pattern.node, cache=False)
    automaton.work = 0
    automaton.match(path)
    return automaton.work


@pytest.mark.parametrize(("text", "unit", "expected"), SHAPES, ids=[s[0][:40] for s in SHAPES])
def test_match_time_is_linear_in_the_path(text: str, unit: str, expected: bool) -> None:
    pattern = DockerPattern(text)
    assert pattern.node is not None, "a regexp pattern"
    short, long = _path(unit, 600), _path(unit, 2400)
    # The answer, on a long path and on a 10,000-character one, with the state cache on.
    with time_limit(20):
        assert pattern.matches(long) is expected
        assert pattern.matches(_path(unit, 10_000)) is expected
        assert pattern.matches_path_or_parent(_path(unit, 10_000)) is expected
    # The worst case (cache off) grows like the path: 4x the length, about 4x the work.
    with time_limit(60):
        small, large = uncached_work(pattern, short), uncached_work(pattern, long)
    assert small > 0
    assert large <= 4.4 * small, (small, large)


@pytest.mark.parametrize(
    ("text", "unit", "expected"), SHAPES[:6], ids=[s[0][:40] for s in SHAPES[:6]]
)
def test_cached_states_make_long_paths_cheap(text: str, unit: str, expected: bool) -> None:
    """With the cache on, a long path re-uses the states a shorter one built."""
    pattern = DockerPattern(text)
    automaton = pattern.automaton
    assert automaton is not None
    automaton.match(_path(unit, 2000))
    automaton.work = 0
    assert automaton.match(_path(unit, 8000)) is expected
    assert automaton.work < 2000  # no new states: one dict lookup per character


def test_the_issue_example_in_a_real_tree(tmp_path: Path) -> None:
    """The reported pattern against a file named with 40 (and 250) a's, end to end."""
    root = tmp_path / "ctx"
    root.mkdir()
    for name in ("a" * 40, "a" * 250, "a" * 40 + "b", "Dockerfile"):
        (root / name).write_text("")
    deep = root / "d"
    for _ in range(30):
        deep = deep / ("a" * 100)
    deep.mkdir(parents=True)
    (deep / ("a" * 200)).write_text("")
    (root / ".dockerignore").write_text(
        "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\n**/*a*a*a*a*a*a*a*a*a*a*b\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "imagec", "context", str(root), "--list"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    listing = result.stdout.splitlines()
    assert "a" * 40 + "b" not in listing
    assert "a" * 40 in listing and "a" * 250 in listing
    assert any(line.endswith("a" * 200) for line in listing)


def test_every_hostile_shape_in_one_ignore_file(tmp_path: Path) -> None:
    """All the shapes together, as exclusions and exceptions, over long names and deep paths."""
    root = tmp_path / "ctx"
    deep = root
    for depth in range(12):
        deep = deep / ("a" * 60 + str(depth))
        deep.mkdir(parents=True)
        for unit in ("a", "ab", "é", "x", "*", "?", "ab "):
            (deep / _path(unit, 120)).write_text("")  # NAME_MAX: 255 bytes
    lines = [("!" if n % 3 == 2 else "") + text for n, (text, _, _) in enumerate(SHAPES)]
    (root / ".dockerignore").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with time_limit(60):
        sent = set(select_context(root).leaf_listing())
    # The same decisions, transcribed from patternmatcher and the archive walk without the
    # directory index: every pattern tested on every path.
    matcher = IgnoreMatcher(lines)
    for path in _walk_files(root):
        parts = path.split("/")
        pruned = any(
            naive_walk(matcher, "/".join(parts[:depth]))
            and not matcher.may_descend("/".join(parts[:depth]))
            for depth in range(1, len(parts))
        )
        assert (path in sent) == (not pruned and not naive_walk(matcher, path)), path


def naive_walk(matcher: IgnoreMatcher, path: str) -> bool:
    """``MatchesUsingParentResults`` called for each directory down to ``path``."""
    parts = path.split("/")
    parent: list[bool] | None = None
    matched = False
    for depth in range(1, len(parts) + 1):
        current = "/".join(parts[:depth])
        matched = False
        info = [False] * len(matcher.patterns)
        for i, pattern in enumerate(matcher.patterns):
            match = parent[i] if parent else False
            if not match:
                if pattern.exception != matched:
                    continue
                match = (
                    pattern.matches(current) if parent else pattern.matches_path_or_parent(current)
                )
            info[i] = match
            if match:
                matched = not pattern.exception
        parent = info
    return matched


def _walk_files(root: Path) -> Iterator[str]:
    for current, _, names in os.walk(root):
        for name in names:
            if name != ".dockerignore":
                yield os.path.relpath(os.path.join(current, name), root)


# -- many patterns ---------------------------------------------------------------------

MANY_SHAPES = [
    "**/*.ext{i}",
    "**/file{i}*",
    "dir{d}/*/file{i}.[pt]*",
    "*/sub{s}/*.py{i}",
    "gen{i}",
    "dir{d}/sub{s}/file{i}.txt",
    "*.log{i}",
    "*cache{i}*",
    "dir{d}/**/*.tmp{i}",
    "!dir{d}/sub{s}/keep{i}",
]


def _many_tree(root: Path) -> list[str]:
    paths = []
    for d in range(20):
        for f in range(15):
            rel = f"dir{d}/sub{f % 3}/file{f}.{('py', 'txt', 'md', 'json', 'log1')[f % 5]}"
            paths.append(rel)
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text("")
    return paths


@pytest.mark.parametrize("shape", MANY_SHAPES)
def test_ten_thousand_patterns_are_tested_only_where_they_can_match(
    tmp_path: Path, shape: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk runs a pattern's matcher only on entries it is filed for: a few per entry,
    not 10,000 (counted, not timed). The result equals testing every pattern."""
    root = tmp_path / "ctx"
    paths = _many_tree(root)
    lines = [shape.format(i=i, d=i % 20, s=i % 3) for i in range(10_000)]
    calls = 0
    real = DockerPattern.matches_child

    def counted(self: DockerPattern, residual: object, name: str, path: str) -> bool:
        nonlocal calls
        calls += 1
        return real(self, residual, name, path)

    monkeypatch.setattr(DockerPattern, "matches_child", counted)
    with time_limit(60):
        matcher = IgnoreMatcher(lines)
        files = [e.path for e in walk_context(root, matcher) if e.kind == FILE]
    entries = len(paths) + 20 * 4  # files and directories
    assert calls <= 20 * entries, calls
    # The same answer as testing every pattern on the path and its parents (sampled: that
    # is the slow way).
    sent = set(files)
    for path in paths[::15]:
        assert (path in sent) == (not matcher.excluded(path)), path
