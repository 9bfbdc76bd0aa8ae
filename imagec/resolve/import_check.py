"""The compile-time import check: every local module the pipeline imports is in the image.

From the pipeline's file, the static import graph (``imagec.spec.imports``) is followed through
the modules the image holds (the source root, less what the ignore file excludes), searched the
way the image's default command searches them. Then, per import:

- found in the image: fine;
- a local module the ignore file excludes (judged as the context walk judges it), one that
  exists beside the source root but not in it (``pipelines/training.py:2: 'steps.train' is
  not in the image: source root is pipelines/``), or one in the image that the image's command
  cannot import (a ``src/`` package below the source root, its pipeline file run by path because
  it has no module name; by module, the command imports from ``src/``): an error when the
  import runs whenever the module is imported, else a hint;
- a module reached through a symbolic link that, in the image, leads nowhere in the project
  (an absolute target, or one climbing out of the source root: the context archives links as
  links, never followed): an error like the others, naming the link, never its target;
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
from imagec.context.pattern import IgnoreMatcher, MatchState
from imagec.errors import SpecError
from imagec.resolve.source_root import import_root
from imagec.spec.imports import Graph, Import, find_module, follow

# How far above the source root a misplaced local module is looked for (stat only).
_LEVELS_ABOVE = 3
_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
# Links followed on one path before it counts as a loop (Linux's own limit).
_MAX_LINKS = 40


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
    """Check ``pipeline_file``'s imports against the image; report hints through ``hint``
    (stderr by default), then raise the first error, else return every finding. Hints come
    first so that one explaining the error (a dynamic import, say) is seen with it."""
    root = root.absolute()
    search = [p.absolute() for p in image_path]
    ignore = None
    if ignore_file is not None:
        ignore = (read_ignore_file(ignore_file).matcher, _display(ignore_file))
    graph = follow(pipeline_file.absolute(), search)
    # Where the pipeline's package imports from on this machine, when the image's command
    # does not search it (a src/ package below the source root, its file run by path).
    found = import_root(pipeline_file)
    unsearched = []
    if found is not None and found.path not in search and _inside(found.path, root) is not None:
        unsearched.append(found.path)
    provided = set(_requirement_names(requirement_texts))
    findings = _findings(graph, root, ignore, provided, unsearched)
    say = hint or (lambda text: print(f"imagec: hint: {text}", file=sys.stderr))
    for f in findings:
        if not f.error:
            say(f"{_display(f.file)}:{f.line}: {f.message}")
    errors = [f for f in findings if f.error]
    if errors:
        first = errors[0]
        raise SpecError(first.message, file=_display(first.file), line=first.line)
    return findings


def _findings(
    graph: Graph,
    root: Path,
    ignore: tuple[IgnoreMatcher, str] | None,
    provided: set[str],
    unsearched: list[Path],
) -> list[Finding]:
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
            link, reached = _in_image(root, rel)
            if link is not None:
                # The context keeps links as links: in the image this one points at nothing of
                # the project's (its target is not named: it is a host path).
                add(
                    imp,
                    f"'{imp.module}' is not in the image: {link} is a symbolic link out of the "
                    "source root: the build context sends the link, not what it points to",
                    True,
                )
            elif ignore is not None and not all(_sent(ignore[0], p) for p in {rel, reached}):
                add(imp, f"'{imp.module}' is excluded from the image by {ignore[1]}", True)
            continue
        if top in graph.modules:
            continue  # a local package without that submodule: running says so, not the check
        unreachable = find_module(imp.module, unsearched)
        if unreachable is not None and not _provided(top, provided):
            shown = _display(unsearched[0])
            add(
                imp,
                f"'{imp.module}' is not importable in the image: it imports from {shown}/, "
                "which the image's command does not search",
                True,
            )
            continue
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


def _in_image(root: Path, rel: str) -> tuple[str | None, str]:
    """``rel`` (below ``root``) as the image resolves it. The build context archives symbolic
    links as links, never followed, so in the image one leads into the project only when its
    target is relative and stays inside the source root: (None, the path reached), else (the
    link that does not, where it sits below the root, and "")."""
    parts = rel.split("/")
    done: list[str] = []
    link = ""  # the last link followed: a `..` of its target may climb out of the root
    links = 0
    while parts:
        name = parts.pop(0)
        if name in ("", "."):
            continue
        if name == "..":
            if not done:
                return link or rel, ""
            done.pop()
            continue
        here = root.joinpath(*done, name)
        if not here.is_symlink():
            done.append(name)
            continue
        links += 1
        link = "/".join([*done, name])
        try:
            target = os.readlink(here)
        except OSError:
            return link, ""
        if links > _MAX_LINKS or target.startswith("/"):
            return link, ""
        parts = target.split("/") + parts
    return None, "/".join(done)


def _sent(matcher: IgnoreMatcher, rel: str) -> bool:
    """Whether the context walk sends ``rel`` (a file): each directory on the way is judged
    with its parent's results, and an excluded one is entered only when a ``!`` pattern may
    bring something back below it (imagec.context.walk)."""
    parts = rel.split("/")
    state: MatchState | None = None
    for i in range(1, len(parts) + 1):
        prefix = "/".join(parts[:i])
        skip, state = matcher.match_child(prefix, state)
        if i == len(parts):
            return not skip
        if skip and not (matcher.has_exceptions and matcher.may_descend(prefix)):
            return False
    return True


def _provided(top: str, provided: set[str]) -> bool:
    """A requirement installs ``top`` in the image (the project itself, ``pip install .``)."""
    return _normal(top) in provided or any(_normal(d) in provided for d in _distributions(top))


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
