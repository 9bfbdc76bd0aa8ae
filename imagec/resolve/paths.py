"""Paths a spec names, resolved against the spec's directory."""

from __future__ import annotations

from pathlib import Path

from imagec.errors import SpecError
from imagec.spec.document import Document, format_loc
from imagec.util.text import show


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


def require_inside(
    doc: Document, path: Path, value: str, bases: list[Path], field: str, *loc: str | int
) -> Path:
    """``path`` (a directory a spec names) when it is inside one of ``bases`` after symlinks;
    else a SpecError at ``field``. Directories a spec names are copied into the image, so a
    spec may not reach outside its project (``find_links: ['~']`` would copy ``$HOME``)."""
    resolved = path.resolve()
    if any(resolved.is_relative_to(base.resolve()) for base in bases):
        return path
    line, col = doc.where((field, *loc))
    listed = ", ".join(sorted({str(base.resolve()) for base in bases}))
    raise SpecError(
        f"{show(value)} is outside the project ({listed}); "
        "a directory the spec names must be inside it",
        file=doc.path,
        line=line,
        column=col,
        field=format_loc((field, *loc)),
    )
