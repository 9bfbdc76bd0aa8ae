"""Validate a ``Document`` into a ``Spec``, turning pydantic errors into one located line."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from imagec.errors import SpecError
from imagec.model.spec import FIELD_NAMES, UNION_TAGS, Spec
from imagec.spec.document import Document, format_loc
from imagec.util.suggest import did_you_mean

_LIST_OR_STRING = ("requirements", "entrypoint", "command")
_TYPE_MESSAGES = {
    "string_type": "expected a string",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "model_type": "expected a mapping of spec fields",
    "model_attributes_type": "expected a mapping of spec fields",
}


def validate_spec(doc: Document) -> Spec:
    data = doc.data
    if data is None:
        raise SpecError("spec is empty", file=doc.path)
    if not isinstance(data, dict):
        line, col = doc.where(())
        got = type(data).__name__
        raise SpecError(
            f"expected a mapping of spec fields, got {got}", file=doc.path, line=line, column=col
        )
    try:
        return Spec.model_validate(data)
    except ValidationError as exc:
        raise _first_error(doc, exc.errors(include_url=False)) from None


def _first_error(doc: Document, errors: list[Any]) -> SpecError:
    located = []
    for err in errors:
        loc = tuple(p for p in err["loc"] if p not in UNION_TAGS)
        is_key = bool(loc) and loc[-1] == "[key]"
        loc = loc[:-1] if is_key else loc
        if (is_key or err["type"] == "extra_forbidden") and loc in doc.keys:
            line, col = doc.keys[loc]
        else:
            line, col = doc.where(loc)
        located.append(((line or 0, col or 0), loc, err))
    located.sort(key=lambda item: item[0])
    (line, col), loc, err = located[0]
    return SpecError(
        _message(loc, err),
        file=doc.path,
        line=line or None,
        column=col or None,
        field=format_loc(loc) or None,
    )


def _type_name(value: Any) -> str:
    return {dict: "mapping", list: "list", str: "string", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _message(loc: tuple, err: dict) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        name = str(loc[-1])
        hint = did_you_mean(name, FIELD_NAMES) if len(loc) == 1 else ""
        return f"unknown field{hint}"
    if kind == "value_error":
        return str(err["ctx"]["error"])
    if kind == "list_type" and len(loc) == 1 and loc[0] in _LIST_OR_STRING:
        return f"expected a list of strings or a string, got {_type_name(err['input'])}"
    if kind in _TYPE_MESSAGES:
        got = err["input"]
        hint = " (quote it)" if kind == "string_type" and isinstance(got, int | float) else ""
        return f"{_TYPE_MESSAGES[kind]}, got {_type_name(got)}{hint}"
    if kind == "literal_error":
        return f"expected {err['ctx']['expected']}, got {err['input']!r}"
    msg = err["msg"]
    return msg[:1].lower() + msg[1:]
