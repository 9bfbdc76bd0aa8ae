"""Paths a spec names, resolved against the spec's directory."""

from __future__ import annotations

from pathlib import Path

from imagec.errors import SpecError
from imagec.spec.document import Document


def resolve_path(doc: Document, value: str) -> Path:
    """``value`` (``~`` expanded) as an absolute path or relative to the spec's directory."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else doc.directory / path


def require_dir(doc: Document, value: str, field: str, *loc: str | int) -> Path:
    """The directory ``value`` names; a SpecError at ``field`` when it is missing or a file."""
    path = resolve_path(doc, value)
    if not path.is_dir():
        line, col = doc.where((field, *loc))
        what = "does not exist" if not path.exists() else "is not a directory"
        raise SpecError(f"{value!r} {what}", file=doc.path, line=line, column=col, field=field)
    return path
