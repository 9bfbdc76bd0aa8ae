"""A parsed input document: plain data plus where each value came from.

Every frontend (YAML, TOML, JSON, pyproject.toml, Python source) produces a ``Document`` so
validation errors can name ``file:line:col`` whatever the input format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imagec.util.records import Record, mark_frozen, record

Loc = tuple[str | int, ...]
"""A path into the data: ``("requirements", 1)`` is the second requirement."""


@record
class Origin(Record):
    """Where a value came from: a spec field (or an imagec default) and its file and line.

    Every IR step carries one, so messages and comments can point back at the spec.
    """

    field: str
    file: str | None = None
    line: int | None = None

    def describe(self) -> str:
        where = self.file or ""
        if where and self.line is not None:
            where += f":{self.line}"
        return f"{self.field} ({where})" if where else self.field


@dataclass
class Document:
    path: Path
    data: Any
    # (line, column), both 1-based, of the value at each path; missing paths fall back
    # to the nearest located ancestor.
    locations: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    # (line, column) of each mapping key, for errors about the key itself (unknown fields).
    keys: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    # Directory that relative paths in the data resolve against.
    base_dir: Path | None = None
    # For Python sources: the name of the decorated pipeline function the spec belongs to.
    pipeline: str | None = None
    # For Python sources: the file the user named (``run.py``) when the pipeline was found by
    # following its imports into another file (``path``); None when ``path`` is that file.
    entry: Path | None = None

    def where(self, loc: Loc) -> tuple[int | None, int | None]:
        loc = tuple(loc)
        while True:
            if loc in self.locations:
                return self.locations[loc]
            if not loc:
                return None, None
            loc = loc[:-1]

    @property
    def directory(self) -> Path:
        return self.base_dir if self.base_dir is not None else self.path.parent

    def origin(self, field: str, *loc: str | int) -> Origin:
        """Where ``field`` was written, or ``"<field> (default)"`` when the spec leaves it out."""
        if not isinstance(self.data, dict) or field not in self.data:
            return Origin(field=f"{field} (default)")
        line, _ = self.where((field, *loc))
        return Origin(field=field, file=self.path.name, line=line)


def format_loc(loc: Loc) -> str:
    """``("requirements", 1, "x")`` -> ``requirements[1].x``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not part.isprintable():
            out += f"[{part!r}]"  # a key is user input: no escape sequences to the terminal
        else:
            out += f".{part}" if out else str(part)
    return out


mark_frozen(Origin)
