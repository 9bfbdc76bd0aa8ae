"""Benchmark: .dockerignore matching, the linear automaton against the previous ``re`` matcher.

Two parts, each run with imagec's matcher and with the matcher imagec had before (the Go
regexps translated to Python ``re``, tests/support/go_re_oracle.py, with the same
per-pattern loop), side by side:

1. Hostile patterns: ``*a*a*...*b`` and other shapes against paths of growing length.
   ``re`` backtracks, so each of its runs goes in a child process with a time limit.
2. Many patterns: 10,000 patterns of one shape over a tree of 300 files (compile, then
   the walk that selects the build context).

    python benchmarks/patterns.py               # everything (the previous matcher: ~5 min)
    python benchmarks/patterns.py --quick       # fewer lengths, 3 many-pattern shapes
    python benchmarks/patterns.py --limit 30    # seconds allowed per previous-matcher run
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from support.go_re_oracle import translate  # noqa: E402

from imagec.context import DockerPattern, IgnoreMatcher, walk_context  # noqa: E402
from imagec.context.pattern import EXACT, PREFIX, SUFFIX, go_regex_source  # noqa: E402

# (pattern, repeated unit of the path, path lengths)
HOSTILE = [
    ("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", "a", [16, 20, 24, 28, 32, 40, 1000, 10_000]),
    ("**/*a*a*a*a*a*a*a*a*a*a*b", "a", [16, 20, 24, 28, 32, 40, 1000, 10_000]),
    ("*?*?*?*?*?*?*?*?*?*?*?*?*!", "x", [16, 20, 24, 28, 32, 40, 1000, 10_000]),
    ("**a**a**a**a**a**a**b", "a/", [16, 24, 32, 48, 64, 1000, 10_000]),
    ("*[ab]{1,50}*[ab]{1,50}*[ab]{1,50}c", "ab", [16, 32, 64, 128, 1000, 10_000]),
]
MANY = [
    "**/*.ext{i}",
    "**/file{i}*",
    "dir{d}/*",
    "*/sub{s}/*.py{i}",
    "dir{d}/sub*/file{i}.[pt]*",
    "dir{d}/**/*.tmp{i}",
    "*cache{i}*",
    "gen{i}",
]


# -- the previous matcher: patternmatcher's kinds, regexps on Python re ---------------------


def previous_fn(text: str) -> Callable[[str], object]:
    kind, source = go_regex_source(text)
    if kind == EXACT:
        return text.__eq__
    if kind == PREFIX:
        prefix = text[:-2]
        return lambda path: path.startswith(prefix)
    if kind == SUFFIX:
        suffix = text[2:]
        bare = suffix[1:] if suffix.startswith("/") else None
        return lambda path: path.endswith(suffix) or path == bare
    return re.compile(translate(source)).search


class PreviousMatcher:
    """The loop imagec ran before: every pattern on every entry (walk_context's interface)."""

    def __init__(self, lines: list[str]) -> None:
        texts = [DockerPattern(line) for line in lines]  # the same validation and cleaning
        self.rows = [(1 << i, p.exception, previous_fn(p.text)) for i, p in enumerate(texts)]
        self.has_exceptions = any(p.exception for p in texts)
        self.prefixes = tuple(p.text + "/" for p in texts if p.exception)

    def __bool__(self) -> bool:
        return bool(self.rows)

    def match_child(self, path: str, parent: int | None) -> tuple[bool, int]:
        matched, hits = False, 0
        if parent is None:
            parts = path.split("/")
            parents = ["/".join(parts[:i]) for i in range(1, len(parts))]
            for bit, exception, fn in self.rows:
                if exception == matched and (fn(path) or any(fn(p) for p in parents)):
                    hits |= bit
                    matched = not exception
            return matched, hits
        for bit, exception, fn in self.rows:
            if (parent & bit) or (exception == matched and fn(path)):
                hits |= bit
                matched = not exception
        return matched, hits

    def may_descend(self, directory: str) -> bool:
        return any(p.startswith(directory + "/") for p in self.prefixes)


# -- timing ----------------------------------------------------------------------------------


def _child(conn, task: str, args: tuple) -> None:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = TASKS[task](*args)
    conn.send((time.perf_counter() - start, result))


def in_child(task: str, args: tuple, limit: float) -> tuple[float | None, object]:
    """Run ``TASKS[task](*args)`` in a child process; (seconds or None if over ``limit``)."""
    receiver, sender = multiprocessing.Pipe(duplex=False)
    proc = multiprocessing.Process(target=_child, args=(sender, task, args))
    proc.start()
    if receiver.poll(limit):
        seconds, result = receiver.recv()
        proc.join()
        return seconds, result
    proc.terminate()
    proc.join()
    return None, None


def previous_match(text: str, path: str) -> bool:
    return bool(previous_fn(text)(path))


def current_match(text: str, path: str) -> bool:
    return DockerPattern(text).matches(path)


def _tree(root: Path) -> int:
    count = 0
    for d in range(30):
        for f in range(10):
            ext = ("py", "txt", "md", "json")[(d + f) % 4]
            path = root / f"dir{d}" / f"sub{f % 3}" / f"file{f}.{ext}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")
            count += 1
    return count


def many(which: str, shape: str, root: str) -> tuple[float, float, int]:
    """(compile seconds, walk seconds, entries sent) for 10,000 patterns of ``shape``."""
    lines = [shape.format(i=i, d=i % 30, s=i % 3) for i in range(10_000)]
    start = time.perf_counter()
    matcher = PreviousMatcher(lines) if which == "previous" else IgnoreMatcher(lines)
    compiled = time.perf_counter()
    sent = sum(1 for _ in walk_context(root, matcher))  # type: ignore[arg-type]
    return compiled - start, time.perf_counter() - compiled, sent


TASKS: dict[str, Callable[..., object]] = {
    "previous_match": previous_match,
    "current_match": current_match,
    "many": many,
}


def fmt(seconds: float | None, limit: float) -> str:
    if seconds is None:
        return f"> {limit:.0f} s"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def ratio(old: float | None, new: float | None, limit: float) -> str:
    if new is None or new <= 0:
        return "-"
    if old is None:
        return f"> {limit / new:,.0f}x"
    return f"{old / new:,.1f}x"


def rows_hostile(quick: bool) -> Iterator[tuple[str, int, str]]:
    for text, unit, lengths in HOSTILE:
        for n in lengths[::2] if quick else lengths:
            yield text, n, (unit * n)[:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer lengths and shapes")
    parser.add_argument("--limit", type=float, default=30.0, help="seconds per previous run")
    args = parser.parse_args()
    limit = args.limit
    print(
        f"nproc {os.cpu_count()}, Python {platform.python_version()}, {platform.platform()}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )

    print("\n## Hostile patterns (one match, fresh compile each; previous: child process)\n")
    print("| pattern | path length | previous (re) | now | previous / now |")
    print("|---|--:|--:|--:|--:|")
    given_up: set[str] = set()
    for text, n, path in rows_hostile(args.quick):
        if text in given_up:
            old = None
        else:
            old, old_result = in_child("previous_match", (text, path), limit)
            if old is None:
                given_up.add(text)  # longer paths take longer still
        start = time.perf_counter()
        result = current_match(text, path)
        new = time.perf_counter() - start
        if old is not None:
            assert old_result == result, (text, n)
        times = f"{fmt(old, limit)} | {fmt(new, limit)} | {ratio(old, new, limit)}"
        print(f"| `{text}` | {n:,} | {times} |")

    print("\n## 10,000 patterns over 300 files (compile + walk)\n")
    print("| shape | previous compile | previous walk | now compile | now walk | previous / now |")
    print("|---|--:|--:|--:|--:|--:|")
    with tempfile.TemporaryDirectory(prefix="imagec-patterns-") as tmp:
        _tree(Path(tmp))
        for shape in MANY[:3] if args.quick else MANY:
            old_secs, old_out = in_child("many", ("previous", shape, tmp), limit * 4)
            new_secs, new_out = in_child("many", ("current", shape, tmp), limit * 4)
            assert new_out is not None
            if old_out is not None:
                assert old_out[2] == new_out[2], (shape, old_out, new_out)
            oc, ow = (old_out[0], old_out[1]) if old_out else (None, None)
            total_old = old_secs
            print(
                f"| `{shape}` | {fmt(oc, limit * 4)} | {fmt(ow, limit * 4)} | "
                f"{fmt(new_out[0], limit)} | {fmt(new_out[1], limit)} | "
                f"{ratio(total_old, new_secs, limit * 4)} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
