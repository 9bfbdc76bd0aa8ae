"""Which ignore patterns can match the entries of a directory, worked out once per directory.

The archive walk asks, for every entry, which of the ignore file's patterns match it.
Testing every pattern against every path costs patterns x paths; with ten thousand
patterns that is most of a build's time. Instead the index files each pattern under what
an entry must look like to match it, and tests an entry only against the patterns filed
under its name or its path's ending:

- ``build`` at the top matches only the entry named ``build`` (NAME);
- ``cache-*`` needs a name starting with ``cache-`` (FIRST), ``**/*.pyc`` a path ending
  with ``.pyc`` (LAST), ``*foo*`` a path containing ``foo`` (TEST: run the matcher);
- ``src/app/*.py`` matches nothing in the top directory and waits for the entry ``src``
  (SEGMENT);
- ``dir/**`` inside ``dir/`` matches everything (ALWAYS).

Patterns that do not depend on the directory (``**/X``, ``**.txt``) are filed once. The
others are filed again for each directory the walk enters, from what is left of them once
the directory's path is read (their *residual*, see ``DockerPattern.descend``): a
directory's index is derived from its parent's, reading one more name, and only patterns
that can still match below it are carried.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from imagec.context.shape import ALWAYS, ANY, FIRST, LAST, NAME, NONE

# Indexes kept at once; the walk needs only those of the directories it is inside.
_MAX_CACHED = 256
_MAX_PARTS = 4

# The protocol is for type checkers only: `imagec context --tar` loads no typing.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    class IndexedPattern(Protocol):
        """What the index needs of a pattern (``DockerPattern`` implements it)."""

        def shared(self) -> tuple[str, str, bool] | None: ...

        def residual(self) -> object: ...

        def descend(self, residual: object, name: str) -> object | None: ...

        def bucket(self, residual: object) -> tuple[str, str, str, str]: ...

        def matches_child(self, residual: object, name: str, path: str) -> bool: ...

    # A pattern filed in a directory: (its number, the pattern, its residual).
    Row = tuple[int, IndexedPattern, object]


class _Buckets:
    """Patterns filed by what an entry must look like to match them."""

    __slots__ = ("always", "by_first", "by_last", "by_name", "tests", "used")

    def __init__(self) -> None:
        self.used = False  # whether anything is filed: the walk skips empty buckets
        self.by_name: dict[str, list[int]] = {}
        # key length -> key -> rows: a name is looked up once per distinct key length.
        self.by_first: dict[int, dict[str, list[Row]]] = {}
        self.by_last: dict[int, dict[str, list[Row]]] = {}
        self.always: list[int] = []
        self.tests: list[tuple[str, Row]] = []

    def add(self, how: str, key: str, row: Row) -> None:
        self.used = True
        if how == NAME:
            self.by_name.setdefault(key, []).append(row[0])
        elif how == FIRST:
            self.by_first.setdefault(len(key), {}).setdefault(key, []).append(row)
        elif how == LAST:
            self.by_last.setdefault(len(key), {}).setdefault(key, []).append(row)
        elif how == ALWAYS:
            self.always.append(row[0])
        else:
            self.tests.append((key, row))

    def candidates(self, name: str) -> Iterator[Row]:
        """Rows filed FIRST, LAST or TEST whose key fits ``name`` (used for names only)."""
        yield from self.first(name)
        for length, keyed in self.by_last.items():
            rows = keyed.get(name[-length:])
            if rows is not None:
                yield from rows
        for key, row in self.tests:
            if key in name:
                yield row

    def first(self, name: str) -> Iterator[Row]:
        """The FIRST rows whose key starts ``name``."""
        for length, keyed in self.by_first.items():
            rows = keyed.get(name[:length])  # a shorter name cannot equal a key
            if rows is not None:
                yield from rows

    def matching(self, name: str, path: str, found: list[int]) -> None:
        """Add to ``found`` the numbers of the patterns matching the entry."""
        # Called for every entry of the walk, mostly with few buckets in use: each kind is
        # looked at only when it holds something.
        if self.by_name:
            names = self.by_name.get(name)
            if names is not None:
                found += names
        if self.always:
            found += self.always
        if self.by_first:
            for number, pattern, residual in self.first(name):
                if pattern.matches_child(residual, name, path):
                    found.append(number)
        if self.by_last:
            for length, keyed in self.by_last.items():
                rows = keyed.get(path[-length:])
                if rows is not None:
                    for number, pattern, residual in rows:
                        if pattern.matches_child(residual, name, path):
                            found.append(number)
        if self.tests:
            for key, (number, pattern, residual) in self.tests:
                if key in path and pattern.matches_child(residual, name, path):
                    found.append(number)


class _Part:
    """Some of the patterns of a directory, filed by bucket."""

    __slots__ = (
        "_named_children",
        "_uniform_child",
        "any_below",
        "below",
        "buckets",
        "named_below",
        "rows",
        "shared",
        "uniform",
    )

    def __init__(self, rows: list[Row], *, shared: bool = False) -> None:
        self.rows = rows
        # A part made of uniform rows serves every sibling directory: what it gives for a
        # subdirectory name is worth keeping for the next sibling with that name.
        self.shared = shared
        self._named_children: dict[str, _Part | None] = {}
        self.buckets = _Buckets()  # for the directory's entries
        self.named_below: dict[str, list[Row]] = {}  # alive below one subdirectory
        self.any_below: list[Row] = []  # alive below any subdirectory, as descend says
        self.below = _Buckets()  # alive below subdirectories named like the key
        self.uniform: list[Row] = []  # alive below any subdirectory, whatever its name
        self._uniform_child: _Part | None = None
        for row in rows:
            here, key, below, below_key = row[1].bucket(row[2])
            if here != NONE:
                self.buckets.add(here, key, row)
            if below == NAME:
                self.named_below.setdefault(below_key, []).append(row)
            elif below == ALWAYS:
                self.any_below.append(row)
            elif below == ANY:
                self.uniform.append(row)
            elif below != NONE:
                self.below.add(below, below_key, row)

    def uniform_child(self, name: str) -> _Part | None:
        """The part made of the uniform rows inside a subdirectory: the same for all names."""
        if self._uniform_child is None and self.uniform:
            rows = []
            for number, pattern, residual in self.uniform:
                below = pattern.descend(residual, name)
                assert below is not None, "a uniform row survives every name"
                rows.append((number, pattern, below))
            self._uniform_child = _Part(rows, shared=True)
        return self._uniform_child

    def named_child(self, name: str) -> _Part | None:
        """The part made of the other rows inside the subdirectory ``name`` (kept when
        the part is shared)."""
        if name in self._named_children:
            return self._named_children[name]
        rows = list(self.named_rows(name))
        child = _Part(rows) if rows else None
        if self.shared and len(self._named_children) < _MAX_CACHED:
            self._named_children[name] = child
        return child

    def named_rows(self, name: str) -> Iterator[Row]:
        """The other rows that survive in the subdirectory ``name``, descended."""
        for number, pattern, residual in (
            *self.named_below.get(name, ()),
            *self.any_below,
            *self.below.candidates(name),
        ):
            below = pattern.descend(residual, name)
            if below is not None:
                yield number, pattern, below


class _Directory:
    """The patterns of one directory that depend on it, in parts.

    Patterns whose state is the same below every subdirectory (``*/src/*.py`` at the
    top, ``dir/**`` inside ``dir``) form a part shared by all sibling directories; the
    rest is derived for each subdirectory from its name.
    """

    __slots__ = ("newline", "parts")

    def __init__(self, parts: tuple[_Part, ...], newline: bool) -> None:
        self.parts = parts
        self.newline = newline  # the directory's path holds a newline (see shared())

    def child(self, name: str) -> _Directory:
        """The index of the subdirectory ``name``."""
        parts: list[_Part] = []
        rows: list[Row] = []
        for part in self.parts:
            uniform = part.uniform_child(name)
            if uniform is not None:
                parts.append(uniform)
            if part.shared:
                named = part.named_child(name)
                if named is not None:
                    parts.append(named)
            else:  # one part for all of them
                rows += part.named_rows(name)
        if rows:
            parts.append(_Part(rows))
        if len(parts) > _MAX_PARTS:  # deep trees: merge rather than pile up parts
            parts = [_Part([row for part in parts for row in part.rows])]
        return _Directory(tuple(parts), self.newline or "\n" in name)

    def matching(self, name: str, path: str, found: list[int]) -> None:
        for part in self.parts:
            part.buckets.matching(name, path, found)


class DirectoryIndex:
    """Per-directory indexes of a pattern list, built on demand and cached."""

    __slots__ = ("_basename", "_cache", "_shared", "_top")

    def __init__(self, patterns: Sequence[IndexedPattern]) -> None:
        self._shared = _Buckets()  # patterns that ignore the directory
        self._basename = _Buckets()  # "**/X": the same, except below a newline
        rows: list[Row] = []
        for number, pattern in enumerate(patterns):
            shared = pattern.shared()
            if shared is None:
                rows.append((number, pattern, pattern.residual()))
            else:
                how, key, basename = shared
                (self._basename if basename else self._shared).add(
                    how, key, (number, pattern, None)
                )
        self._top = _Directory((_Part(rows),), False)
        self._cache: dict[str, _Directory] = {}

    def directory(self, prefix: str) -> _Directory:
        """The index for entries whose path starts with ``prefix`` ("" or ending in "/")."""
        if not prefix:
            return self._top
        found = self._cache.get(prefix)
        if found is not None:
            return found
        # Derive from the nearest indexed ancestor, one name at a time.
        names = prefix[:-1].split("/")
        depth = len(names) - 1
        current = self._top
        while depth > 0:
            cached = self._cache.get("/".join(names[:depth]) + "/")
            if cached is not None:
                current = cached
                break
            depth -= 1
        if len(self._cache) + len(names) - depth > _MAX_CACHED:
            # Keep the ancestors of ``prefix`` only: the walk is inside them.
            self._cache = {key: d for key, d in self._cache.items() if prefix.startswith(key)}
        for at in range(depth, len(names)):
            current = current.child(names[at])
            self._cache["/".join(names[: at + 1]) + "/"] = current
        return current

    def matching(self, prefix: str, name: str, path: str) -> list[int]:
        """Numbers of the patterns matching ``path`` = ``prefix + name``, unordered."""
        directory = self._cache.get(prefix) if prefix else self._top
        if directory is None:
            directory = self.directory(prefix)
        found: list[int] = []
        for part in directory.parts:
            if part.buckets.used:
                part.buckets.matching(name, path, found)
        if self._shared.used:
            self._shared.matching(name, path, found)
        if self._basename.used and not directory.newline:
            self._basename.matching(name, path, found)
        return found
