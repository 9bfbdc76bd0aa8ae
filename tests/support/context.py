"""Helpers for the build-context tests: the shared vectors and real trees on disk."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import yaml

VECTORS = Path(__file__).parents[1] / "context" / "vectors.yaml"


@functools.cache
def vectors() -> dict[str, Any]:
    return yaml.safe_load(VECTORS.read_text(encoding="utf-8"))


def make_tree(root: Path, tree: dict[str, Any]) -> Path:
    """Create files ("" or text), empty directories (None) and symlinks ({symlink: target})."""
    for rel, value in tree.items():
        path = root / rel
        if value is None:
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(value, dict):
            os.symlink(value["symlink"], path)
        elif isinstance(value, bytes):
            path.write_bytes(value)
        else:
            path.write_text(value, encoding="utf-8")
    return root


def ids(items: list[Any], key: str = "id") -> list[str]:
    return [str(item[key]) if isinstance(item, dict) else repr(item)[:60] for item in items]
