"""Validate a ``Document`` into a ``Spec``, turning pydantic errors into one located line."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from imagec.errors import SpecError
from imagec.model.pydantic_errors import render_validation_error
from imagec.model.spec import FIELD_NAMES, UNION_TAGS, Spec
from imagec.spec.document import Document, Loc

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
        raise render_validation_error(
            exc, doc, known=_known, wording=_message, skip=UNION_TAGS
        ) from None


def _known(parent: Loc) -> Iterable[str]:
    # Names an unknown key is matched against for a "did you mean": top-level keys only.
    return FIELD_NAMES if not parent else ()


def _type_name(value: Any) -> str:
    return {dict: "mapping", list: "list", str: "string", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _message(loc: Loc, err: dict[str, Any]) -> str | None:
    """The spec's own wording for common mistakes; None: the shared default."""
    kind = err["type"]
    if kind == "list_type" and len(loc) == 1 and loc[0] in _LIST_OR_STRING:
        return f"expected a list of strings or a string, got {_type_name(err['input'])}"
    if kind in _TYPE_MESSAGES:
        got = err["input"]
        hint = " (quote it)" if kind == "string_type" and isinstance(got, int | float) else ""
        return f"{_TYPE_MESSAGES[kind]}, got {_type_name(got)}{hint}"
    if kind == "literal_error":
        return f"expected {err['ctx']['expected']}, got {err['input']!r}"
    return None
