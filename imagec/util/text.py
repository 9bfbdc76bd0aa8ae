"""Values in messages and generated files: what may never appear raw, and how to quote a value
into a one-line message."""

from __future__ import annotations

import re
import unicodedata

# Characters no value may hold raw: C0 and C1 controls (newline, NUL, ESC, NEL, ...), Unicode
# line and paragraph separators (line breaks to editors and to Python's splitlines), unpaired
# surrogates (not encodable as UTF-8), and bidirectional controls, which make a generated file
# read differently from what it does.
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def show(value: str) -> str:
    """``value`` quoted for a one-line message, cut short when long."""
    return repr(value) if len(value) <= 80 else f"{value[:40]!r}... ({len(value)} characters)"


def unsafe_kind(ch: str) -> str:
    """What an UNSAFE character is, for messages: ``control character``, ``line separator``."""
    if unicodedata.category(ch) == "Cc":
        return "control character"
    if unicodedata.category(ch) == "Cs":
        return "unpaired surrogate"
    return unicodedata.name(ch).lower()
