"""Which directory is the user's source tree (the build context root), and which imagec
repository (the directory holding ``.imagec/``) a spec belongs to.

Rules, first match wins:

1. an explicit setting (``source_root`` in the spec);
2. the nearest directory, from the start directory upwards, holding an ``.imagec/``
   directory: the marker of an imagec repository. Discovery follows git's rules
   (CVE-2022-24765): a marker owned by another user than the one running imagec (root
   aside) is skipped with a warning, and the search does not enter a directory listed in
   ``IMAGEC_CEILING_DIRECTORIES`` (like ``GIT_CEILING_DIRECTORIES``);
3. for a Python file inside a package, the package's import root: the directory its
   dotted module name imports from (the first directory upwards without ``__init__.py``),
   or the ``src/`` directory of a ``src/`` layout (``src/`` next to ``pyproject.toml``);
4. the start directory itself (the directory of the spec or Python file).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from imagec.errors import SpecError
from imagec.spec.imports import package_root
from imagec.util.text import UNSAFE

REPO_MARKER = ".imagec"  # the directory that marks an imagec repository
CEILING_ENV_VAR = "IMAGEC_CEILING_DIRECTORIES"
# Files whose presence next to a ``src/`` directory makes it a src layout's import root.
_PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py")
# How many package levels a module name may have; deeper is a broken tree (or a loop).
_MAX_PACKAGE_DEPTH = 64


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
    python_file: str | Path | None = None,
) -> SourceRoot:
    """Pick the source root for a spec (or Python file) whose directory is ``start``.

    A relative ``explicit`` path is taken from ``start``. An explicit root that does
    not exist or is not a directory is a :class:`SpecError` (located at
    ``error_file`` when given). ``python_file`` is the Python file the user named, whose
    package (if any) gives the import-root rule.
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
    if python_file is not None:
        found = import_root(Path(python_file))
        if found is not None:
            return found
    return SourceRoot(start_dir, start_label)


def import_root(file: Path) -> SourceRoot | None:
    """The directory ``file``'s dotted module name imports from, when it is in a package."""
    directory = file.absolute().parent
    top = package_root(file, max_depth=_MAX_PACKAGE_DEPTH)
    if top is not None:
        return SourceRoot(top, f"import root of package {directory.relative_to(top).parts[0]}")
    for parent in (directory, *directory.parents):
        if parent.name == "src" and any((parent.parent / f).is_file() for f in _PROJECT_FILES):
            return SourceRoot(parent, f"src/ layout of {parent.parent}")
    return None


def module_name(file: Path, root: Path) -> str | None:
    """``pipelines.training`` for ``ROOT/pipelines/training.py`` when every directory between
    is a package (or ``ROOT`` is the file's directory and so imports it as a top-level module);
    None when the file is not importable by a dotted name from ``root``."""
    try:
        rel = file.absolute().relative_to(root.absolute())
    except ValueError:
        return None
    parts = [*rel.parts[:-1], rel.stem]
    if rel.suffix != ".py" or not all(p.isidentifier() for p in parts):
        return None
    directory = root.absolute()
    for part in rel.parts[:-1]:
        directory = directory / part
        if not (directory / "__init__.py").is_file() and not _in_src_layout(root):
            return None
    return ".".join(parts)


def _in_src_layout(root: Path) -> bool:
    # Namespace packages (no __init__.py) import from a src/ layout's root too.
    return root.name == "src" and any((root.parent / f).is_file() for f in _PROJECT_FILES)


def find_repository(start: Path, *, warn: bool = True) -> Path | None:
    """The nearest directory at or above ``start`` holding a trusted ``.imagec/``.

    Like git's discovery: the search stops before entering a ceiling directory (the start
    directory itself is always looked at), and a marker owned by someone else is skipped.
    """
    start = start.absolute()
    ceilings = _ceilings()
    for directory in (start, *start.parents):
        if directory != start and _normal(directory) in ceilings:
            return None
        marker = directory / REPO_MARKER
        if not marker.is_dir():
            continue
        owner = _untrusted_owner(marker)
        if owner is not None:
            if warn:
                print(
                    f"imagec: warning: ignoring {_printable(marker)}: owned by uid {owner}, "
                    f"not by the user running imagec (uid {_current_uid()}); "
                    f"set {CEILING_ENV_VAR} or pass source_root to choose the source root",
                    file=sys.stderr,
                )
            continue
        return directory
    return None


def _printable(path: Path) -> str:
    text = str(path)
    return repr(text) if UNSAFE.search(text) else text


def _ceilings() -> set[str]:
    """``IMAGEC_CEILING_DIRECTORIES``: ``:``-separated absolute paths (relative ones are
    ignored, as git does), compared after resolving symlinks."""
    value = os.environ.get(CEILING_ENV_VAR, "")
    return {_normal(Path(p)) for p in value.split(os.pathsep) if os.path.isabs(p)}


def _normal(path: Path) -> str:
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return os.path.normpath(path)


def _current_uid() -> int:
    return os.geteuid() if hasattr(os, "geteuid") else 0


def _trusted_uids() -> set[int]:
    """The user running imagec and root; under sudo, the user who ran sudo (git's rule)."""
    uid = _current_uid()
    trusted = {uid, 0}
    if uid == 0:
        sudo_uid = os.environ.get("SUDO_UID", "")
        if sudo_uid.isdigit():
            trusted.add(int(sudo_uid))
    return trusted


def _untrusted_owner(marker: Path) -> int | None:
    """The owner uid of ``marker`` (or of the symlink naming it) when not trusted, else None."""
    if not hasattr(os, "geteuid"):
        return None  # no POSIX ownership to check
    trusted = _trusted_uids()
    for stat in (marker.lstat, marker.stat):
        try:
            owner = stat().st_uid
        except OSError:
            return -1
        if owner not in trusted:
            return owner
    return None
