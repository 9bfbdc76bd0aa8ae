"""The compile-time import check: every local module the pipeline imports is in the image.

From the pipeline's file, the static import graph (``imagec.spec.imports``) is followed through
the modules the image holds (the source root, less what the ignore file excludes), searched the
way the image's default command searches them. Then, per import:

- found in the image: fine;
- a local module the ignore file excludes, or one that exists beside the source root but not
  in it (``pipelines/training.py:2: 'steps.train' is not in the image: source root is
  pipelines/``): an error when the import runs whenever the module is imported, else a hint;
- ``importlib.import_module(...)`` and friends: a hint, the check cannot see them;
- third-party: a hint when no requirement source names the distribution that provides it in
  the running environment (``importlib.metadata.packages_distributions()``), never an error.

Nothing is imported or executed; files outside the source root are only looked for (stat),
never read.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from imagec.context.dockerignore import read_ignore_file
from imagec.errors import SpecError
from imagec.spec.imports import Graph, Import, find_module, follow

# How far above the source root a misplaced local module is looked for (stat only).
_LEVELS_ABOVE = 3
_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True, slots=True)
class Finding:
    file: Path
    line: int
    message: str
    error: bool


def check_imports(
    pipeline_file: Path,
    root: Path,
    *,
    image_path: list[Path],
    ignore_file: Path | None,
    requirement_texts: Iterable[str],
    hint: Callable[[str], None] | None = None,
) -> list[Finding]:
    """Check ``pipeline_file``'s imports against the image; raise the first error, report
    hints through ``hint`` (stderr by default), and return every finding."""
    root = root.absolute()
    matcher = read_ignore_file(ignore_file).matcher if ignore_file is not None else None
    graph = follow(pipeline_file.absolute(), [p.absolute() for p in image_path])
    findings = _findings(graph, root, matcher, set(_requirement_names(requirement_texts)))
    errors = [f for f in findings if f.error]
    if errors:
        first = errors[0]
        raise SpecError(first.message, file=_display(first.file), line=first.line)
    say = hint or (lambda text: print(f"imagec: hint: {text}", file=sys.stderr))
    for f in findings:
        say(f"{_display(f.file)}:{f.line}: {f.message}")
    return findings


def _findings(graph: Graph, root: Path, matcher, provided: set[str]) -> list[Finding]:
    out: list[Finding] = []
    above = [root.parent, *list(root.parents)[1:_LEVELS_ABOVE]]
    reported: set[tuple[Path, int, str]] = set()

    def add(imp: Import, message: str, error: bool) -> None:
        key = (imp.file, imp.line, message)
        if key not in reported:
            reported.add(key)
            out.append(Finding(imp.file, imp.line, message, error and imp.certain))

    for imp in graph.imports:
        top = imp.module.split(".")[0]
        if top in sys.stdlib_module_names or top == "imagec" or top == "__future__":
            continue
        where = graph.modules.get(imp.module)
        if where is not None:
            rel = _inside(where, root)
            if rel is None:
                continue  # found beside the pipeline file, outside the root: FILE form only
            if matcher is not None and matcher.excluded(rel):
                add(imp, f"'{imp.module}' is excluded from the image by the ignore file", True)
            continue
        if top in graph.modules:
            continue  # a local package without that submodule: running says so, not the check
        elsewhere = find_module(imp.module, above)
        if elsewhere is not None and elsewhere.is_file() and not _installed(top):
            shown = _display(root)
            add(imp, f"'{imp.module}' is not in the image: source root is {shown}/", True)
            continue
        distributions = _distributions(top)
        if distributions and not any(_normal(d) in provided for d in distributions):
            listed = " or ".join(sorted(distributions))
            add(
                imp,
                f"'{top}' is imported but no requirement provides it (usually from {listed})",
                False,
            )
    for file, line, _column, call in graph.dynamic:
        if _inside(file, root) is not None:
            out.append(
                Finding(
                    file, line, f"{call}() imports at run time; the check cannot follow it", False
                )
            )
    return out


def _requirement_names(texts: Iterable[str]) -> Iterable[str]:
    for text in texts:
        for line in text.splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith(("#", "-")):
                continue
            m = _NAME.match(stripped)
            if m:
                yield _normal(m.group(1))


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def _packages_distributions() -> dict[str, list[str]]:
    from importlib.metadata import packages_distributions  # lazy: scans every installed dist

    return packages_distributions()


def _distributions(top: str) -> list[str]:
    return list(dict.fromkeys(_packages_distributions().get(top, [])))


def _installed(top: str) -> bool:
    return top in _packages_distributions()


def _inside(path: Path, root: Path) -> str | None:
    try:
        return path.absolute().relative_to(root).as_posix()
    except ValueError:
        return None


def _display(path: Path) -> str:
    """``path`` relative to the working directory when it is below it, else absolute."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    except ValueError:
        return str(path)
