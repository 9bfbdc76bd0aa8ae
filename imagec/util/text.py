"""Values in messages and generated files: what may never appear raw, and how to quote a value
into a one-line message."""

from __future__ import annotations

import re
import unicodedata

from imagec.util.secrets import redact_credentials

# Characters no value may hold raw: C0 and C1 controls (newline, NUL, ESC, NEL, ...), Unicode
# line and paragraph separators (line breaks to editors and to Python's splitlines), unpaired
# surrogates (not encodable as UTF-8), and bidirectional controls, which make a generated file
# read differently from what it does.
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


MAX_SHOWN = 80  # characters of a value repeated in a message


def show(value: str) -> str:
    """``value`` for a one-line message: credentials redacted, quoted with control and other
    unprintable characters escaped (Python's repr), cut short when long. Every value from
    the user's files goes into a message through here."""
    if len(value) <= MAX_SHOWN:
        return repr(redact_credentials(value))
    # Redact a bounded prefix (a credential that starts in the part shown is still caught).
    return f"{redact_credentials(value[:1024])[:40]!r}... ({len(value)} characters)"


def bare(value: str) -> str:
    """``show(value)`` without the quotes, for a value inside a quoted phrase (``'-r FILE'``)."""
    shown = show(value)
    if shown.endswith(" characters)"):
        return shown
    return shown[1:-1]


def unsafe_kind(ch: str) -> str:
    """What an UNSAFE character is, for messages: ``control character``, ``line separator``."""
    if unicodedata.category(ch) == "Cc":
        return "control character"
    if unicodedata.category(ch) == "Cs":
        return "unpaired surrogate"
    return unicodedata.name(ch).lower()
