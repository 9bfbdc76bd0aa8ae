"""A parsed input document: plain data plus where each value came from.

Every frontend (YAML, TOML, JSON, pyproject.toml, Python source) produces a ``Document`` so
validation errors can name ``file:line:col`` whatever the input format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Loc = tuple[str | int, ...]
"""A path into the data: ``("requirements", 1)`` is the second requirement."""


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
