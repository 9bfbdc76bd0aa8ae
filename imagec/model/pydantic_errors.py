"""Pydantic validation errors as one located line: ``file:line:col: field: message``.

The one renderer for every model user input is validated with: the spec
(``model/validate.py``), stack files (``resolve/stack.py``) and backend options
(``backend/base.py``). Each caller passes only its own wording; choosing the error, locating
it in the document and naming the field are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, Any

from imagec.errors import SpecError
from imagec.spec.document import Document, Loc, format_loc
from imagec.util.suggest import did_you_mean

if TYPE_CHECKING:
    from pydantic import ValidationError

# A caller's own message for an error (its ``loc`` already cleaned), or None for the default.
Wording = Callable[[Loc, dict[str, Any]], str | None]


def render_validation_error(
    error: ValidationError,
    doc: Document | None = None,
    *,
    known: Callable[[Loc], Iterable[str]] | None = None,
    wording: Wording | None = None,
    unknown: str = "unknown field",
    skip: Collection[str] = (),
) -> SpecError:
    """The error the user should fix first, as a ``SpecError``.

    That is the first in the document, except that a "missing" error yields to an unknown key
    (a misspelled key also makes its correct spelling missing; the typo explains both).
    ``known(parent_loc)`` names the keys an unknown key is matched against for a "did you
    mean"; ``skip`` holds loc parts that are no field (pydantic's union tags); ``doc``, when
    known, gives ``file:line:col``.
    """
    errors = error.errors(include_url=False)
    has_typo = any(e["type"] == "extra_forbidden" for e in errors)
    ranked = []
    for index, err in enumerate(errors):
        loc: Loc = tuple(p for p in err["loc"] if p not in skip)
        about_key = bool(loc) and loc[-1] == "[key]"
        loc = loc[:-1] if about_key else loc
        line, col = _locate(doc, loc, about_key or err["type"] == "extra_forbidden")
        explained = has_typo and err["type"] == "missing"
        ranked.append(((explained, line or 0, col or 0, index), loc, err, line, col))
    _, loc, err, line, col = min(ranked, key=lambda item: item[0])
    return SpecError(
        _message(loc, err, known, wording, unknown),
        file=doc.path if doc is not None else None,
        line=line or None,
        column=col or None,
        field=format_loc(tuple(p if isinstance(p, int) else str(p) for p in loc)) or None,
    )


def _locate(doc: Document | None, loc: Loc, about_key: bool) -> tuple[int | None, int | None]:
    if doc is None:
        return None, None
    if about_key and loc in doc.keys:
        return doc.keys[loc]
    return doc.where(loc)


def _message(
    loc: Loc,
    err: dict[str, Any],
    known: Callable[[Loc], Iterable[str]] | None,
    wording: Wording | None,
    unknown: str,
) -> str:
    own = wording(loc, err) if wording is not None else None
    if own is not None:
        return own
    kind = err["type"]
    if kind == "extra_forbidden":
        names = known(loc[:-1]) if known is not None and loc else ()
        return f"{unknown}{did_you_mean(str(loc[-1]), names) if loc else ''}"
    if kind == "value_error":
        return str(err["ctx"]["error"])
    msg = err["msg"]
    return msg[:1].lower() + msg[1:]
