"""Read spec files (YAML, TOML, JSON, pyproject.toml) into located ``Document``s.

Each loader keeps the line and column of every value so that validation errors can point at
the exact place, whatever the format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from imagec.errors import SpecError
from imagec.spec.document import Document, Loc
from imagec.util.fsutil import MAX_USER_FILE_BYTES, read_user_text
from imagec.util.text import show

SPEC_FILE_NAMES = ("imagec.yaml", "imagec.yml", "imagec.toml", "imagec.json")
MAX_SPEC_BYTES = MAX_USER_FILE_BYTES
# Values in one document once YAML aliases are expanded: a few hundred bytes of aliases can
# stand for billions of values, which validation would then walk.
MAX_VALUES = 100_000
# Nesting depth of one document; a spec needs three. libyaml's composer recurses in C and
# crashes the interpreter on a few ten thousand nested brackets, so depth is checked first.
MAX_DEPTH = 64

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_text(path: Path, what: str = "spec file") -> str:
    """Read a spec (or another small YAML/TOML/JSON file the user named)."""
    return read_user_text(path, what, limit=MAX_SPEC_BYTES)


@contextmanager
def _parsing(path: Path, fmt: str) -> Iterator[None]:
    """Errors the parsers raise on hostile input that are not syntax errors."""
    try:
        yield
    except RecursionError:
        raise SpecError(f"invalid {fmt}: nested too deeply", file=path) from None
    except ValueError as exc:
        if "integer string conversion" not in str(exc):
            raise
        raise SpecError(f"invalid {fmt}: number with too many digits", file=path) from None


def load_yaml(path: Path, text: str | None = None) -> Document:
    text = read_text(path) if text is None else text
    with _parsing(path, "YAML"):
        return _load_yaml(path, text)


def _check_depth(path: Path, text: str) -> None:
    # Parsing events is iterative in libyaml (no C recursion), unlike composing nodes.
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                raise SpecError(
                    f"invalid YAML: nested more than {MAX_DEPTH} levels deep",
                    file=path,
                    line=mark.line + 1,
                    column=mark.column + 1,
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _load_yaml(path: Path, text: str) -> Document:
    try:
        _check_depth(path, text)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise SpecError(f"invalid YAML: {problem}", file=path, line=line, column=col) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", file=path) from None
    locations: dict[Loc, tuple[int, int]] = {}
    keys: dict[Loc, tuple[int, int]] = {}
    if node is not None:
        _locate_yaml(path, node, data, (), locations, keys, [MAX_VALUES], set())
    return Document(path=path, data=data, locations=locations, keys=keys)


def _locate_yaml(
    path: Path, node: Any, data: Any, loc: Loc, out: dict, keys: dict, budget: list, open_: set
) -> None:
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    budget[0] -= 1
    if budget[0] < 0:
        raise SpecError(f"more than {MAX_VALUES} values (YAML aliases expand)", file=path)
    if id(node) in open_:
        raise SpecError("YAML alias refers to a value that contains it", file=path, line=line)
    out[loc] = (line, col)
    open_.add(id(node))
    if isinstance(node, yaml.MappingNode) and isinstance(data, dict):
        seen: dict[str, int] = {}
        for key_node, _value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key in seen:
                raise SpecError(
                    f"duplicate key {key!r} (first on line {seen[key]})",
                    file=path,
                    line=key_node.start_mark.line + 1,
                    column=key_node.start_mark.column + 1,
                )
            if key is not None:
                seen[key] = key_node.start_mark.line + 1
        for (key_node, value_node), key in zip(node.value, data.keys(), strict=False):
            keys[(*loc, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _locate_yaml(path, value_node, data[key], (*loc, key), out, keys, budget, open_)
    elif isinstance(node, yaml.SequenceNode) and isinstance(data, list):
        for i, (child, value) in enumerate(zip(node.value, data, strict=False)):
            _locate_yaml(path, child, value, (*loc, i), out, keys, budget, open_)
    open_.discard(id(node))


def load_json(path: Path) -> Document:
    text = read_text(path)
    try:
        with _parsing(path, "JSON"):
            data = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise SpecError(
            f"invalid JSON: {exc.msg}", file=path, line=exc.lineno, column=exc.colno
        ) from None
    except _DuplicateKey as dup:
        # Refused as in YAML and TOML (json.loads would keep the last one silently); YAML's
        # reading of the same text says where both are.
        load_yaml(path, text)
        raise SpecError(f"duplicate key {show(dup.key)}", file=path) from None
    # JSON is (nearly) YAML: borrow YAML's marks for positions, best effort.
    try:
        located = load_yaml(path, text)
        if located.data == data:
            return Document(path=path, data=data, locations=located.locations, keys=located.keys)
    except SpecError:
        pass
    return Document(path=path, data=data)


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def load_toml(path: Path, table: tuple[str, ...] = ()) -> Document:
    import tomllib  # a YAML or JSON spec never needs the TOML parser

    text = read_text(path)
    try:
        with _parsing(path, "TOML"):
            data: Any = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib only says "(at line L, column C)" in the message.
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)$", msg)
        line, col = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        msg = msg[: m.start()].strip() if m else msg
        raise SpecError(f"invalid TOML: {msg}", file=path, line=line, column=col) from None
    for name in table:
        if not isinstance(data, dict) or name not in data:
            dotted = ".".join(table)
            raise SpecError(f"no [{dotted}] table", file=path)
        data = data[name]
    locations, keys = _locate_toml(text, table)
    return Document(path=path, data=data, locations=locations, keys=keys)


# Linear in the line (lines of multi-line strings are scanned too): the header's name is taken
# greedily and stripped in code, and a bare key part has no `.`, so `a.b.c` splits one way only
# (`[A-Za-z0-9_.-]+` with `\.` between parts was exponential in `a.a.a...!`, and a lazy name
# before `\s*\]` cubic in `[` and spaces).
_TOML_HEADER = re.compile(r"^\s*\[\[?([^\]]+)\]\]?\s*(?:#.*)?$")
_TOML_KEY = re.compile(
    r"^(\s*)((?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_-]+))*)\s*=\s*"
)


def _toml_key_parts(key: str) -> tuple[str, ...]:
    parts = re.findall(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_-]+)", key)
    return tuple(a or b or c for a, b, c in parts)


def _locate_toml(text: str, table: tuple[str, ...]) -> tuple[dict, dict]:
    """Line/column of each `key = value` (the value's column) and of table headers.

    tomllib keeps no positions, so this scans lines; values inside multi-line arrays and
    inline tables are located at their key.
    """
    out: dict[Loc, tuple[int, int]] = {}
    keys: dict[Loc, tuple[int, int]] = {}
    current: tuple[str, ...] = ()
    depth = 0  # bracket depth of a multi-line value being skipped
    for lineno, line in enumerate(text.splitlines(), 1):
        if depth:
            depth += line.count("[") + line.count("{") - line.count("]") - line.count("}")
            depth = max(depth, 0)
            continue
        header = _TOML_HEADER.match(line)
        if header:
            current = _toml_key_parts(header.group(1).strip())
            _store(out, current, table, (lineno, line.index("[") + 1))
            continue
        key = _TOML_KEY.match(line)
        if key:
            full = current + _toml_key_parts(key.group(2))
            _store(out, full, table, (lineno, key.end() + 1))
            _store(keys, full, table, (lineno, len(key.group(1)) + 1))
            rest = line[key.end() :]
            depth = max(rest.count("[") + rest.count("{") - rest.count("]") - rest.count("}"), 0)
    return out, keys


def _store(out: dict, full: tuple[str, ...], table: tuple[str, ...], pos: tuple[int, int]) -> None:
    if full[: len(table)] == table:
        out[full[len(table) :]] = pos


TOOL_IMAGEC_TABLE = re.compile(r"(?m)^[ \t]*\[[ \t]*tool\.imagec[ \t]*[\].]")


def find_spec_file(directory: Path) -> Path:
    for name in SPEC_FILE_NAMES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    pyproject = directory / "pyproject.toml"
    # [ \t]*, not \s*: a blank run that crosses lines would be rescanned from every line start
    # (quadratic in a file of blank lines).
    if pyproject.is_file() and TOOL_IMAGEC_TABLE.search(read_text(pyproject)):
        return pyproject
    names = ", ".join(SPEC_FILE_NAMES)
    raise SpecError(
        f"no spec file found (looked for {names}, and [tool.imagec] in pyproject.toml)",
        file=directory,
    )


def load_spec_document(path: Path) -> Document:
    """Load a spec file by its suffix; a directory is searched for its spec file."""
    if path.is_dir():
        path = find_spec_file(path)
    name = path.name
    if name == "pyproject.toml":
        return load_toml(path, ("tool", "imagec"))
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return load_yaml(path)
    if suffix == ".toml":
        return load_toml(path)
    if suffix == ".json":
        return load_json(path)
    if not path.exists():
        raise SpecError("spec file not found", file=path)
    raise SpecError(
        "unknown spec format (expected .yaml, .yml, .toml, .json, pyproject.toml or .py)",
        file=path,
    )
