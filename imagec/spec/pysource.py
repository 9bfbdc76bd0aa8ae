"""Read a ``@pipeline(...)`` spec from Python source without running it.

Only what the text alone determines is accepted: literals; module-level constants assigned
once, before the pipeline; ``+`` and ``*`` unpacking of lists and strings; f-strings; and the
names in ``imagec.integrations.constants``. Anything else (calls, attributes of other
modules, ``**kwargs``) is an error pointing at the argument, with ``--import`` as the way out.
So a pipeline whose imports (torch, tensorflow, ...) are not installed still compiles.
"""

from __future__ import annotations

import ast
import importlib
import io
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagec.errors import SpecError
from imagec.spec.document import Document, Loc
from imagec.spec.pipeline_choice import choose
from imagec.util.fsutil import read_user_bytes
from imagec.util.suggest import did_you_mean

CONSTANTS_MODULE = "imagec.integrations.constants"
_CONSTANTS_PATH = tuple(CONSTANTS_MODULE.split("."))
# What `@pipeline` may be spelled as, once import aliases are undone.
_DECORATOR_PATHS = {("imagec", "pipeline"), ("imagec", "runtime", "pipeline")}
_HINT = "use literals or module-level constants, or compile with --import"

# Bounds on the static evaluator, so a hostile file ends in a clear error rather than a
# RecursionError, a MemoryError or a hang: how deeply expressions and names may nest, how many
# expression nodes one spec may evaluate (constants used twice are evaluated twice, so
# doubling chains grow exponentially), and how long a string or list may get. Spec values are
# at most a few KiB; these are far above anything real.
MAX_DEPTH = 100
MAX_STEPS = 100_000
MAX_STRING = 64 * 1024
MAX_ITEMS = 10_000
# CPython's parser is worse than quadratic in the parts of one dotted name (`import a.a.a...`:
# 80,000 parts take a minute), so a file with a longer run of `.NAME` than any real code has is
# refused before it is parsed. Runs of name characters, dots and blanks are counted in one pass.
MAX_DOTTED_PARTS = 2_000
_NAME_RUN = re.compile(r"[\w.\s\\]+")
_DOT_PART = re.compile(r"\.[\s\\]*[^\W\d]")  # a part of a name: not a digit (1.5 2.5 ...)

Pos = tuple[int, int]
Located = tuple[Any, dict[Loc, Pos], dict[Loc, Pos]]  # value, value positions, key positions


def extract(path: Path, function: str | None = None) -> Document:
    """The keyword arguments of the ``@pipeline`` on ``function`` (or the only one) in ``path``."""
    source = read_source(path)
    module = _Module(parse_source(source, path), _Lines(source), path)
    if not module.pipelines and module.lookalikes and function is None:
        text, line = module.lookalikes[0]
        raise SpecError(
            f"no function decorated with @pipeline in this file; '@{text}' is not imagec's "
            "pipeline (import it with 'from imagec import pipeline')",
            file=path,
            line=line,
        )
    found = [(p.name, p.line, p) for p in module.pipelines]
    chosen = choose(found, function, path, undecorated=module.plain_functions)
    data, locations, keys = module.spec_of(chosen)
    return Document(
        path=path,
        data=data,
        locations=locations,
        keys=keys,
        base_dir=path.absolute().parent,
        pipeline=chosen.name,
    )


def declared_pipelines(path: Path) -> tuple[list[tuple[str, int]], bool]:
    """The ``(name, line)`` of each ``@pipeline`` in ``path``, and whether the file has a
    decorator that looks like one but is not imagec's (so it is not a run file to follow)."""
    source = read_source(path)
    module = _Module(parse_source(source, path), _Lines(source), path)
    return [(p.name, p.line) for p in module.pipelines], bool(module.lookalikes)


def read_source(path: Path) -> bytes:
    return read_user_bytes(path, "Python file")


def parse_source(source: bytes, path: Path) -> ast.Module:
    text = source.decode("utf-8", "replace")
    for run in _NAME_RUN.finditer(text):
        if run.group().count(".") > MAX_DOTTED_PARTS and (
            len(_DOT_PART.findall(run.group())) > MAX_DOTTED_PARTS
        ):
            line = text.count("\n", 0, run.start()) + 1
            raise SpecError(
                f"a dotted name of more than {MAX_DOTTED_PARTS} parts (Python's parser would "
                "take minutes on it)",
                file=path,
                line=line,
            )
    try:
        return ast.parse(source, filename=str(path))
    except SyntaxError as e:
        raise SpecError(
            f"invalid Python syntax: {e.msg}", file=path, line=e.lineno, column=e.offset
        ) from None
    except ValueError as e:  # NUL bytes before 3.11.4 (later versions raise SyntaxError)
        raise SpecError(f"invalid Python syntax: {e}", file=path) from None
    except (RecursionError, MemoryError):
        # CPython's parser gives up on very deep expressions (a 3,000-term sum) this way;
        # running the file would fail the same way.
        raise SpecError(
            "expression nested too deeply for Python's parser", file=path, line=1
        ) from None


class _Lines:
    """Converts ast positions (UTF-8 byte columns, 0-based) to 1-based character columns."""

    def __init__(self, source: bytes) -> None:
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
            text = source.decode(encoding)
        except (SyntaxError, LookupError, UnicodeDecodeError):
            text = source.decode("utf-8", errors="replace")
        # Python's own line breaks, not str.splitlines() (which also splits on \f, \x1c, ...).
        self.lines = re.split(r"\r\n|\r|\n", text)

    def pos(self, node: ast.AST) -> Pos:
        line: int = node.lineno  # type: ignore[attr-defined]
        offset: int = node.col_offset  # type: ignore[attr-defined]
        if 0 < line <= len(self.lines):
            prefix = self.lines[line - 1].encode("utf-8")[:offset]
            return line, len(prefix.decode("utf-8", errors="replace")) + 1
        return line, offset + 1


@dataclass
class _Pipeline:
    name: str
    line: int  # of the decorator, which is where Python evaluates its arguments
    decorator: ast.expr
    call: ast.Call | None


class _NotStatic(Exception):
    """A value that only running the file would give; ``hint`` adds the way out."""

    def __init__(self, node: ast.AST, reason: str, *, hint: bool = True) -> None:
        super().__init__(reason)
        self.node = node
        self.reason = reason
        self.hint = hint


class _Module:
    def __init__(self, tree: ast.Module, lines: _Lines, path: Path) -> None:
        self.lines = lines
        self.path = path
        self.decorator_names: set[str] = set()  # local names for imagec's `pipeline`
        self.modules: dict[str, tuple[str, ...]] = {}  # local name -> imagec module path
        self.constants: dict[str, Any] = {}  # imported from imagec.integrations.constants
        self.imported_from: dict[str, str] = {}  # other imports: local name -> module
        self.assignments: dict[str, tuple[ast.stmt, ast.expr]] = {}
        self.bindings: dict[str, list[int]] = {}
        self.plain_functions: dict[str, int] = {}
        self.pipelines: list[_Pipeline] = []
        self.lookalikes: list[tuple[str, int]] = []
        self._resolving: list[str] = []
        self._depth = 0  # expressions and names being evaluated, innermost last
        self._steps = 0  # expression nodes evaluated for this spec
        self._collect_bindings(tree)
        # `global NAME` in any function means NAME can change after it is first assigned.
        self.rebound = {n for g in ast.walk(tree) if isinstance(g, ast.Global) for n in g.names}
        for stmt, top in _module_statements(tree.body):
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                self._import(stmt)
            elif top and isinstance(stmt, ast.Assign | ast.AnnAssign):
                self._assignment(stmt)
        for stmt, _ in _module_statements(tree.body):
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                self._function(stmt)

    # --- scanning ---------------------------------------------------------------------------

    def _collect_bindings(self, tree: ast.Module) -> None:
        def add(name: str, line: int) -> None:
            self.bindings.setdefault(name, []).append(line)

        # Iterative: a long expression is a deep tree, deeper than Python's recursion limit.
        stack: list[ast.AST] = [tree]
        while stack:
            for child in ast.iter_child_nodes(stack.pop()):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    add(child.name, child.lineno)
                    continue  # its body is another scope
                if isinstance(child, ast.Lambda):
                    continue
                if isinstance(child, ast.Name) and not isinstance(child.ctx, ast.Load):
                    add(child.id, child.lineno)
                elif isinstance(child, ast.Import | ast.ImportFrom):
                    for alias in child.names:
                        if alias.name != "*":
                            add(alias.asname or alias.name.split(".")[0], child.lineno)
                elif (
                    isinstance(child, ast.ExceptHandler | ast.MatchAs | ast.MatchStar)
                    and child.name
                ):
                    add(child.name, child.lineno)
                stack.append(child)
        for lines in self.bindings.values():
            lines.sort()

    def _import(self, stmt: ast.Import | ast.ImportFrom) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                parts = tuple(alias.name.split("."))
                if parts[0] != "imagec":
                    self.imported_from[alias.asname or parts[0]] = alias.name
                elif alias.asname:
                    self.modules[alias.asname] = parts
                else:
                    self.modules["imagec"] = ("imagec",)
            return
        module = stmt.module or ""
        if stmt.level or not (module == "imagec" or module.startswith("imagec.")):
            for alias in stmt.names:
                self.imported_from[alias.asname or alias.name] = "." * stmt.level + module
            return
        for alias in stmt.names:
            full = (*module.split("."), alias.name)
            local = alias.asname or alias.name
            if alias.name == "*":
                if module == CONSTANTS_MODULE:
                    for name in _constants_module().__all__:
                        self.constants[name] = getattr(_constants_module(), name)
                elif module in ("imagec", "imagec.runtime"):
                    self.decorator_names.add("pipeline")
            elif full in _DECORATOR_PATHS:
                self.decorator_names.add(local)
            elif module == CONSTANTS_MODULE:
                self.constants[local] = self._constant(alias.name, alias)
            else:
                self.modules[local] = full

    def _constant(self, name: str, node: ast.AST) -> Any:
        constants = _constants_module()
        if name.startswith("_") or not hasattr(constants, name):
            hint = did_you_mean(name, getattr(constants, "__all__", []))
            line, column = self.lines.pos(node)
            raise SpecError(
                f"'{name}' is not in {CONSTANTS_MODULE}{hint}",
                file=self.path,
                line=line,
                column=column,
            )
        return getattr(constants, name)

    def _assignment(self, stmt: ast.Assign | ast.AnnAssign) -> None:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        if stmt.value is None:
            return
        for target in targets:
            if isinstance(target, ast.Name):
                self.assignments[target.id] = (stmt, stmt.value)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        ours = []
        for dec in node.decorator_list:
            call = dec if isinstance(dec, ast.Call) else None
            target = dec.func if isinstance(dec, ast.Call) else dec
            if self._is_decorator(target):
                ours.append(_Pipeline(node.name, dec.lineno, dec, call))
            elif (isinstance(target, ast.Name) and target.id == "pipeline") or (
                isinstance(target, ast.Attribute) and target.attr == "pipeline"
            ):
                self.lookalikes.append((_code(target), dec.lineno))
        if len(ours) > 1:
            line, column = self.lines.pos(ours[1].decorator)
            raise SpecError(
                f"'{node.name}' is decorated with @pipeline more than once",
                file=self.path,
                line=line,
                column=column,
            )
        if ours:
            self.pipelines.append(ours[0])
        else:
            self.plain_functions.setdefault(node.name, node.lineno)

    def _is_decorator(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name) and node.id in self.decorator_names:
            return True
        return self._qualify(node) in _DECORATOR_PATHS

    def _qualify(self, node: ast.expr) -> tuple[str, ...] | None:
        """``ic.pipeline`` after ``import imagec as ic`` -> ``("imagec", "pipeline")``."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.insert(0, node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id not in self.modules:
            return None
        return (*self.modules[node.id], *parts)

    # --- evaluation -------------------------------------------------------------------------

    def spec_of(self, pipeline: _Pipeline) -> tuple[dict[str, Any], dict[Loc, Pos], dict[Loc, Pos]]:
        data: dict[str, Any] = {}
        locations: dict[Loc, Pos] = {(): self.lines.pos(pipeline.decorator)}
        keys: dict[Loc, Pos] = {}
        call = pipeline.call
        if call is None:
            return data, locations, keys
        for arg in call.args:
            line, column = self.lines.pos(arg)
            if isinstance(arg, ast.Starred):
                message = f"'*{_code(arg.value)}' can't be read without running the file"
                raise SpecError(f"{message}; {_HINT}", file=self.path, line=line, column=column)
            raise SpecError(
                "positional arguments are not supported; pass spec fields as keywords, "
                "e.g. @pipeline(requirements=[...])",
                file=self.path,
                line=line,
                column=column,
            )
        for kw in call.keywords:
            line, column = self.lines.pos(kw)
            if kw.arg is None:
                message = f"'**{_code(kw.value)}' can't be read without running the file"
                raise SpecError(f"{message}; {_HINT}", file=self.path, line=line, column=column)
            if kw.arg in data:
                raise SpecError(
                    "is given more than once",
                    file=self.path,
                    line=line,
                    column=column,
                    field=kw.arg,
                )
            try:
                value, positions, key_positions = self._value(kw.value, pipeline.line)
            except _NotStatic as e:
                line, column = self.lines.pos(e.node)
                message = f"can't be read without running the file: {e.reason} ({_HINT})"
                raise SpecError(
                    message if e.hint else e.reason,
                    file=self.path,
                    line=line,
                    column=column,
                    field=kw.arg,
                ) from None
            data[kw.arg] = value
            keys[(kw.arg,)] = (line, column)
            locations.update({(kw.arg, *loc): p for loc, p in positions.items()})
            keys.update({(kw.arg, *loc): p for loc, p in key_positions.items()})
        return data, locations, keys

    def _value(self, node: ast.expr, before: int) -> Located:
        """Evaluate ``node`` as Python would on line ``before``, or raise ``_NotStatic``."""
        self._steps += 1
        if self._steps > MAX_STEPS:
            raise _NotStatic(
                node, f"evaluating the spec takes more than {MAX_STEPS} steps", hint=False
            )
        if self._depth >= MAX_DEPTH:
            raise _NotStatic(
                node,
                f"expressions and constants nest more than {MAX_DEPTH} levels deep",
                hint=False,
            )
        self._depth += 1
        try:
            located = self._evaluate(node, before)
        finally:
            self._depth -= 1
        _check_size(node, located[0])
        return located

    def _evaluate(self, node: ast.expr, before: int) -> Located:
        here = {(): self.lines.pos(node)}
        if isinstance(node, ast.Constant):
            return node.value, here, {}
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return self._sequence(node, before)
        if isinstance(node, ast.Dict):
            return self._dict(node, before)
        if isinstance(node, ast.Name):
            return self._name(node, before)
        if isinstance(node, ast.Attribute):
            path = self._qualify(node)
            if path is not None and path[:-1] == _CONSTANTS_PATH:
                return self._constant(path[-1], node), here, {}
            raise _NotStatic(node, f"'{_code(node)}' is an attribute of another module")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._add(node, before)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            value = self._value(node.operand, before)[0]
            if isinstance(value, int | float) and not isinstance(value, bool):
                return (-value if isinstance(node.op, ast.USub) else value), here, {}
        if isinstance(node, ast.JoinedStr):
            return self._fstring(node, before), here, {}
        if isinstance(node, ast.Call):
            raise _NotStatic(node, f"'{_code(node.func)}(...)' is a function call")
        raise _NotStatic(node, f"'{_code(node)}' is not a literal")

    def _sequence(self, node: ast.List | ast.Tuple | ast.Set, before: int) -> Located:
        items: list[Any] = []
        positions: dict[Loc, Pos] = {(): self.lines.pos(node)}
        key_positions: dict[Loc, Pos] = {}
        for elt in node.elts:
            if isinstance(elt, ast.Starred):
                value, sub, sub_keys = self._value(elt.value, before)
                if not isinstance(value, list):
                    raise _NotStatic(elt, f"'*{_code(elt.value)}' is not a list")
                values, subs = value, [(i,) for i in range(len(value))]
            else:
                value, sub, sub_keys = self._value(elt, before)
                values, subs = [value], [()]
            # Positions grouped by the item they belong to: one pass, not one per item.
            by_item, keys_by_item = _by_prefix(sub, len(values)), _by_prefix(sub_keys, len(values))
            for i, (value, prefix) in enumerate(zip(values, subs, strict=True)):
                if isinstance(node, ast.Set) and _contains(items, value):
                    continue
                index = len(items)
                items.append(value)
                if len(items) > MAX_ITEMS:
                    raise _NotStatic(node, f"more than {MAX_ITEMS} items", hint=False)
                at = i if prefix else None
                for rest, p in by_item.get(at, ()):
                    positions[(index, *rest)] = p
                for rest, p in keys_by_item.get(at, ()):
                    key_positions[(index, *rest)] = p
        return items, positions, key_positions

    def _dict(self, node: ast.Dict, before: int) -> Located:
        out: dict[Any, Any] = {}
        positions: dict[Loc, Pos] = {(): self.lines.pos(node)}
        key_positions: dict[Loc, Pos] = {}
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            if key_node is None:
                raise _NotStatic(value_node, f"'**{_code(value_node)}' unpacks a mapping")
            key = self._value(key_node, before)[0]
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise _NotStatic(key_node, f"'{_code(key_node)}' is not a valid key")
            value, sub, sub_keys = self._value(value_node, before)
            out[key] = value
            key_positions[(key,)] = self.lines.pos(key_node)
            positions.update({(key, *loc): p for loc, p in sub.items()})
            key_positions.update({(key, *loc): p for loc, p in sub_keys.items()})
        return out, positions, key_positions

    def _name(self, node: ast.Name, before: int) -> Located:
        name = node.id
        here = self.lines.pos(node)
        bound = self.bindings.get(name, [])
        if len(bound) > 1:
            lines = ", ".join(map(str, bound))
            raise _NotStatic(node, f"'{name}' is assigned more than once (lines {lines})")
        if name in self.rebound:
            raise _NotStatic(node, f"'{name}' is reassigned through 'global {name}' in a function")
        if name in self.constants:
            return self.constants[name], {(): here}, {}
        if name in self.imported_from:
            raise _NotStatic(node, f"'{name}' is imported from '{self.imported_from[name]}'")
        if name not in self.assignments:
            reason = "is not a module-level constant" if bound else "is not defined in this file"
            raise _NotStatic(node, f"'{name}' {reason}")
        stmt, value_node = self.assignments[name]
        if stmt.lineno >= before:
            user = f"'{self._resolving[-1]}'" if self._resolving else "the pipeline"
            raise _NotStatic(node, f"'{name}' is assigned after {user} (line {stmt.lineno})")
        if name in self._resolving:
            raise _NotStatic(node, f"'{name}' refers to itself")
        self._resolving.append(name)
        try:
            value, positions, key_positions = self._value(value_node, stmt.lineno)
        finally:
            self._resolving.pop()
        # The name itself is where the value is used; its parts point into the definition.
        return value, {**positions, (): here}, key_positions

    def _add(self, node: ast.BinOp, before: int) -> Located:
        # `a + b + c` is a left-deep tree: walk its spine in a loop, not by recursion.
        terms: list[ast.expr] = []
        left: ast.expr = node
        while isinstance(left, ast.BinOp) and isinstance(left.op, ast.Add):
            terms.append(left.right)
            left = left.left
        value, positions, keys = self._value(left, before)
        for term, sum_node in zip(reversed(terms), _add_spine(node, len(terms)), strict=True):
            right, right_pos, right_keys = self._value(term, before)
            value, positions, keys = self._plus(sum_node, (value, positions, keys), right,
                                                right_pos, right_keys)  # fmt: skip
            _check_size(sum_node, value)
        return value, positions, keys

    def _plus(
        self,
        node: ast.BinOp,
        left_located: Located,
        right: Any,
        right_pos: dict[Loc, Pos],
        right_keys: dict[Loc, Pos],
    ) -> Located:
        left, left_pos, left_keys = left_located
        here = {(): self.lines.pos(node)}
        if isinstance(left, list) and isinstance(right, list):
            shift = len(left)
            positions = {**left_pos, **{_shift(loc, shift): p for loc, p in right_pos.items()}}
            keys = {**left_keys, **{_shift(loc, shift): p for loc, p in right_keys.items()}}
            return left + right, {**positions, **here}, keys
        if isinstance(left, str) and isinstance(right, str):
            return left + right, here, {}
        numbers = (int, float)
        if isinstance(left, numbers) and isinstance(right, numbers):
            return left + right, here, {}
        kinds = f"{type(left).__name__} and {type(right).__name__}"
        raise _NotStatic(node, f"'+' of {kinds} is not supported", hint=False)

    def _fstring(self, node: ast.JoinedStr, before: int) -> str:
        parts: list[str] = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
                continue
            assert isinstance(part, ast.FormattedValue)
            value = self._value(part.value, before)[0]
            if part.conversion != -1:
                value = {ord("s"): str, ord("r"): repr, ord("a"): ascii}[part.conversion](value)
            spec = self._fstring(part.format_spec, before) if part.format_spec else ""  # type: ignore[arg-type]
            # A width or precision is a number of characters to produce: `{'':>999999999999}`
            # would ask for a terabyte.
            if any(len(n) > 6 or int(n) > MAX_STRING for n in re.findall(r"[0-9]+", spec)):
                raise _NotStatic(
                    part, f"format width or precision larger than {MAX_STRING}", hint=False
                )
            try:
                parts.append(format(value, spec))
            except (TypeError, ValueError, OverflowError) as e:
                raise _NotStatic(part, f"bad format: {e}", hint=False) from None
            if sum(map(len, parts)) > MAX_STRING:
                raise _NotStatic(node, f"string longer than {MAX_STRING} characters", hint=False)
        return "".join(parts)


def _shift(loc: Loc, by: int) -> Loc:
    if loc and isinstance(loc[0], int):
        return (loc[0] + by, *loc[1:])
    return loc


def _by_prefix(located: dict[Loc, Pos], count: int) -> dict[int | None, list[tuple[Loc, Pos]]]:
    """Positions of an unpacked list by item index (``None``: not unpacked, all of them)."""
    out: dict[int | None, list[tuple[Loc, Pos]]] = {None: list(located.items())}
    for loc, p in located.items():
        if loc and isinstance(loc[0], int) and loc[0] < count:
            out.setdefault(loc[0], []).append((loc[1:], p))
    return out


def _add_spine(node: ast.BinOp, count: int) -> list[ast.BinOp]:
    """The ``+`` nodes of a left-deep sum, innermost first."""
    spine: list[ast.BinOp] = []
    current: ast.expr = node
    for _ in range(count):
        assert isinstance(current, ast.BinOp)
        spine.append(current)
        current = current.left
    return spine[::-1]


def _check_size(node: ast.AST, value: Any) -> None:
    if isinstance(value, str) and len(value) > MAX_STRING:
        raise _NotStatic(node, f"string longer than {MAX_STRING} characters", hint=False)
    if isinstance(value, list | dict) and len(value) > MAX_ITEMS:
        raise _NotStatic(node, f"more than {MAX_ITEMS} items", hint=False)


def _code(node: ast.AST) -> str:
    """Source text of ``node`` for a message: unparsed, and cut short when long."""
    try:
        text = ast.unparse(node)
    except (RecursionError, MemoryError):
        return "expression"
    return text if len(text) <= 60 else f"{text[:40]}... ({len(text)} characters)"


def _contains(items: list[Any], value: Any) -> bool:
    return any(type(item) is type(value) and item == value for item in items)


def _module_statements(body: list[ast.stmt], top: bool = True) -> Iterator[tuple[ast.stmt, bool]]:
    """Statements run at import time: the module body and its if/try/with/for blocks."""
    for stmt in body:
        yield stmt, top
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(stmt, field, []):
                if isinstance(child, ast.stmt):
                    yield from _module_statements([child], top=False)
                else:  # except handlers and match cases hold statements
                    yield from _module_statements(child.body, top=False)


def _constants_module() -> Any:
    # imagec's own module of plain strings: importing it runs no user code.
    return importlib.import_module(CONSTANTS_MODULE)
