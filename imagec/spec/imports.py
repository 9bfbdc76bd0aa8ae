"""The static import graph of a Python file: which local modules it imports, found on disk the
way Python's path finder would, without running anything.

Two users: the reader follows a run file (``run.py``: ``from pipelines.training import
training; training()``) to the ``@pipeline`` it uses, and the import check
(``imagec.resolve.import_check``) verifies that every local module the pipeline imports is in
the image. "Local" means found as ``NAME.py``, ``NAME/__init__.py`` or a ``NAME/`` directory
(a namespace package) under one of the search directories; everything else is third-party.
"""

from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from imagec.errors import SpecError
from imagec.spec.pysource import declared_pipelines, parse_source, read_source

MAX_MODULES = 2_000  # local modules followed; a real project has far fewer
# A dotted name longer than a path can be (PATH_MAX) names no file: not looked up, and its
# parents are listed only up to that length (a 100,000-part name would be quadratic).
MAX_MODULE_NAME = 4096
_DYNAMIC_CALLS = {"import_module", "__import__", "import_from_path", "run_path", "run_module"}


@dataclass(frozen=True, slots=True)
class Import:
    """One module an import statement names, absolute, with where it is written."""

    module: str  # dotted, relative imports made absolute
    file: Path  # the importing file
    line: int
    column: int
    certain: bool  # runs whenever the file is imported: module level, not under try/TYPE_CHECKING
    names: tuple[str, ...] = ()  # ``from module import names``


@dataclass
class Graph:
    """Local modules reachable from an entry file, and every import seen on the way."""

    modules: dict[str, Path] = field(default_factory=dict)  # dotted name -> file or directory
    imports: list[Import] = field(default_factory=list)
    dynamic: list[tuple[Path, int, int, str]] = field(default_factory=list)  # file, line, col, call


def find_module(name: str, search: list[Path]) -> Path | None:
    """Where ``name`` is found under the first search directory that has it, as Python's path
    finder looks: ``a/b.py``, ``a/b/__init__.py``, else a namespace directory ``a/b/``."""
    parts = name.split(".")
    if len(name) > MAX_MODULE_NAME or not all(p.isidentifier() for p in parts):
        return None
    namespace: Path | None = None
    for directory in search:
        base = directory.joinpath(*parts)
        try:
            if (base / "__init__.py").is_file():
                return base / "__init__.py"
            if base.with_suffix(".py").is_file():
                return base.with_suffix(".py")
            if namespace is None and base.is_dir():
                namespace = base
        except OSError:  # a name too long for a path: Python's finder does not find it either
            continue
    return namespace


def package_root(file: Path, *, max_depth: int = 64) -> Path | None:
    """The directory ``file``'s dotted name imports from when it is inside a package: the
    first directory upwards without ``__init__.py``; None for a file outside any package."""
    directory = file.absolute().parent
    top = directory
    while (top / "__init__.py").is_file() and top.parent != top and max_depth > 0:
        top = top.parent
        max_depth -= 1
    return top if top != directory else None


def module_of(file: Path, root: Path) -> str | None:
    """The dotted name ``file`` imports as from ``root`` (``pkg/__init__.py`` -> ``pkg``)."""
    try:
        rel = file.absolute().relative_to(root.absolute())
    except ValueError:
        return None
    parts = [*rel.parts[:-1]] + ([] if rel.name == "__init__.py" else [rel.stem])
    return ".".join(parts) if parts and all(p.isidentifier() for p in parts) else None


def imports_of(path: Path, module: str | None) -> tuple[list[Import], list[tuple[int, int, str]]]:
    """The imports written in ``path`` (whose dotted name is ``module``) and its dynamic-import
    calls. A file that does not parse is a SpecError: running it would fail the same way."""
    tree = parse_source(read_source(path), path)
    is_package = path.name == "__init__.py"
    package = module if is_package else (module.rpartition(".")[0] if module else None)
    found: list[Import] = []
    dynamic: list[tuple[int, int, str]] = []

    def visit(child: ast.AST, certain: bool) -> tuple[ast.AST, bool] | None:
        """Note what ``child`` imports; the node whose children come next, if any."""
        if isinstance(child, ast.Import):
            for alias in child.names:
                found.append(Import(alias.name, path, child.lineno, child.col_offset + 1, certain))
        elif isinstance(child, ast.ImportFrom):
            base = _absolute(child.module, child.level, package)
            if base is not None:
                names = tuple(a.name for a in child.names if a.name != "*")
                found.append(Import(base, path, child.lineno, child.col_offset + 1, certain, names))
        elif isinstance(child, ast.Call) and _call_name(child.func) in _DYNAMIC_CALLS:
            dynamic.append((child.lineno, child.col_offset + 1, _call_name(child.func)))
            return child, certain
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            return ast.Module(body=child.orelse, type_ignores=[]), certain
        elif isinstance(child, ast.If) and _is_main_check(child.test):
            return child, False  # runs only when the file is the script, not when imported
        elif isinstance(child, ast.Try | ast.TryStar):
            return child, False  # a guarded import (except ImportError: ...) may fail
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            return child, certain and isinstance(child, ast.ClassDef)
        else:
            return child, certain
        return None

    # Depth first in source order with an explicit stack: Python runs a file whose nesting (a
    # thousand nested lambdas) is deeper than a recursive walk could follow.
    stack = [(child, True) for child in reversed(list(ast.iter_child_nodes(tree)))]
    while stack:
        expand = visit(*stack.pop())
        if expand is not None:
            node, certain = expand
            stack.extend((c, certain) for c in reversed(list(ast.iter_child_nodes(node))))
    return found, dynamic


def follow(entry: Path, search: list[Path], *, limit: int = MAX_MODULES) -> Graph:
    """Every local module reachable from ``entry`` by imports, breadth first."""
    graph = Graph()
    # A module that is a symlink out of the search directories is found but never read: it
    # would have a host file (`helper.py -> /etc/shadow`) parsed and quoted in a syntax error.
    roots = [directory.resolve() for directory in search]
    queue: deque[tuple[Path, str | None]] = deque([(entry, module_of(entry, search[0]))])
    seen = {entry.absolute()}
    while queue:
        path, module = queue.popleft()
        found, dynamic = imports_of(path, module)
        graph.imports.extend(found)
        graph.dynamic.extend((path, line, col, call) for line, col, call in dynamic)
        for imp in found:
            names = [imp.module, *(f"{imp.module}.{n}" for n in imp.names)]
            for name in _with_parents(names):
                where = find_module(name, search)
                if where is None:
                    continue
                graph.modules.setdefault(name, where)
                if (
                    where.is_file()
                    and where.absolute() not in seen
                    and len(seen) < limit
                    and _within(where, roots)
                ):
                    seen.add(where.absolute())
                    queue.append((where, name))
    return graph


def _within(path: Path, roots: list[Path]) -> bool:
    """Whether ``path``, symlinks followed, is below one of ``roots`` (resolved)."""
    return any(path.resolve().is_relative_to(root) for root in roots)


def locate_pipeline(entry: Path, function: str | None) -> tuple[Path, str | None]:
    """The file holding the pipeline ``entry`` means, and its name.

    ``entry`` itself when it declares a pipeline; otherwise a run file, whose local imports
    (from its own directory, as ``python run.py`` finds them) are followed to the
    ``@pipeline`` it uses. Several reachable pipelines: the ones ``entry`` imports by name,
    else ``FILE.py:NAME`` chooses.
    """
    own, lookalike = declared_pipelines(entry)
    if own or lookalike:
        return entry, function
    graph = follow(entry, [entry.absolute().parent])
    found: list[tuple[str, int, Path]] = []
    for where in graph.modules.values():
        if (
            where.is_file()
            and where.absolute() != entry.absolute()
            and _within(where, [entry.absolute().parent.resolve()])
        ):
            pipelines, _ = declared_pipelines(where)
            found.extend((name, line, where) for name, line in pipelines)
    if function is not None:
        chosen = [f for f in found if f[0] == function]
    else:
        named = {(imp.module, n) for imp in graph.imports if imp.file == entry for n in imp.names}
        chosen = [
            f for f in found if any(f[2] == graph.modules.get(m) and n == f[0] for m, n in named)
        ]
        if not chosen:
            chosen = found
    if len(chosen) == 1:
        return chosen[0][2], chosen[0][0]
    base = entry.absolute().parent
    if not chosen:
        if function is not None and found:
            listed = ", ".join(sorted({f[0] for f in found}))
            raise SpecError(
                f"no pipeline named '{function}' in this file or the modules it imports; "
                f"pipelines: {listed}",
                file=entry,
            )
        return entry, function  # nothing to follow: the reader says no pipeline is here
    listed = ", ".join(f"{name} ({_rel(where, base)}:{line})" for name, line, where in chosen)
    raise SpecError(
        f"{len(chosen)} pipelines reachable from this file: {listed}; choose one with {entry}:NAME",
        file=entry,
    )


def _rel(path: Path, base: Path) -> str:
    try:
        return path.absolute().relative_to(base).as_posix()
    except ValueError:
        return str(path)


def _with_parents(names: list[str]) -> list[str]:
    # Importing a.b.c imports a and a.b first; their __init__.py files run too.
    out: dict[str, None] = {}
    for name in names:
        end = name.find(".")
        while end != -1 and end <= MAX_MODULE_NAME:
            out[name[:end]] = None
            end = name.find(".", end + 1)
        if len(name) <= MAX_MODULE_NAME:
            out[name] = None
    return list(out)


def _absolute(module: str | None, level: int, package: str | None) -> str | None:
    if level == 0:
        return module
    if package is None:
        return None  # a relative import in a script: fails when run, nothing to follow
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, *([module] if module else [])]) or None


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_type_checking(test: ast.expr) -> bool:
    return _call_name(test) == "TYPE_CHECKING"


def _is_main_check(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )
