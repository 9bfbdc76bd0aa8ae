"""Which directory is the user's source tree (the build context root), and which imagec
repository (the directory holding ``.imagec/``) a spec belongs to.

Rules, first match wins:

1. an explicit setting (``source_root`` in the spec, a command-line flag);
2. the nearest directory, from the start directory upwards, holding an ``.imagec/``
   directory: the marker of an imagec repository;
3. the start directory itself (the directory of the spec or Python file).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from imagec.errors import SpecError

REPO_MARKER = ".imagec"  # the directory that marks an imagec repository


@dataclass(frozen=True, slots=True)
class SourceRoot:
    path: Path  # absolute
    rule: str  # which rule chose it, for messages and `--explain` style output


def detect_source_root(
    start: str | Path,
    *,
    explicit: str | Path | None = None,
    explicit_label: str = "source_root in the spec",
    start_label: str = "directory of the spec file",
    error_file: str | Path | None = None,
) -> SourceRoot:
    """Pick the source root for a spec (or Python file) whose directory is ``start``.

    A relative ``explicit`` path is taken from ``start``. An explicit root that does
    not exist or is not a directory is a :class:`SpecError` (located at
    ``error_file`` when given).
    """
    start_dir = Path(start).absolute()
    if explicit is not None:
        path = (start_dir / explicit).absolute()
        if not path.exists():
            raise SpecError(
                f"source root {path} does not exist", file=error_file, field="source_root"
            )
        if not path.is_dir():
            raise SpecError(
                f"source root {path} is not a directory", file=error_file, field="source_root"
            )
        return SourceRoot(path, explicit_label)
    repository = find_repository(start_dir)
    if repository is not None:
        return SourceRoot(repository, f"imagec repository at {repository} ({REPO_MARKER}/)")
    return SourceRoot(start_dir, start_label)


def find_repository(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding ``.imagec/``."""
    start = start.absolute()
    for directory in (start, *start.parents):
        if (directory / REPO_MARKER).is_dir():
            return directory
    return None
