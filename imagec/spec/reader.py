"""Read what a command names as SPEC into a ``Document``: a spec file (or a directory holding
one), or ``FILE.py[:PIPELINE]`` with a ``@pipeline``."""

from __future__ import annotations

from pathlib import Path

from imagec.errors import SpecError
from imagec.spec.document import Document
from imagec.spec.imports import locate_pipeline
from imagec.spec.loaders import load_spec_document
from imagec.spec.pyimport import import_spec
from imagec.spec.pysource import extract


def split_python_target(target: str) -> tuple[Path, str | None] | None:
    """``a/b.py:fn`` -> (a/b.py, "fn"); ``a/b.py`` -> (a/b.py, None); else None."""
    path, sep, name = target.rpartition(":")
    if sep and path.endswith(".py") and name.isidentifier():
        return Path(path), name
    if target.endswith(".py"):
        return Path(target), None
    return None


def read_document(target: str, *, import_module: bool = False) -> Document:
    """The document ``target`` names; ``import_module`` runs a Python file instead of reading
    its source."""
    python = split_python_target(target)
    if python is not None:
        entry, name = python
        # A run file (``run.py``) is followed to the pipeline it imports, by reading only.
        path, name = locate_pipeline(entry, name)
        doc = import_spec(path, name) if import_module else extract(path, name)
        if path != entry:
            doc.entry = entry
        return doc
    path = Path(target)
    if not path.exists():
        raise SpecError("spec file not found", file=path)
    return load_spec_document(path)
