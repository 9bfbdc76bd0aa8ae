"""Hypothesis settings and strategies shared by the property tests.

Runs are derandomized and keep no example database, so CI sees the same examples every
time. ``IMAGEC_HYPOTHESIS_EXPLORE=1`` turns on random exploration for a local hunt.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXPLORE = os.environ.get("IMAGEC_HYPOTHESIS_EXPLORE") == "1"
PROPERTY = settings(
    derandomize=not EXPLORE,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Fragments that mean something to a Containerfile, BuildKit's lexer, a shell or pip.
ADVERSARIAL = [
    " ",
    "  ",
    "\\",
    "\\\\",
    '\\"',
    '"',
    "'",
    "$",
    "$HOME",
    "${HOME}",
    "${X:-y}",
    "\\$",
    "=",
    "#",
    " #",
    "# syntax=docker/dockerfile:1",
    "# escape=`",
    "`id`",
    "$(id)",
    ";",
    "&&",
    "|",
    "<<EOF",
    "<<-EOF",
    "EOF",
    "--x",
    "-r",
    "RUN id",
    "\ufeff",
    "\u00a0",
    "\u3000",
    "\u200b",
    "ü",
    "😀",
    "中文",
    "{",
    "}",
    "[",
    "]",
    ",",
]

# Characters that may appear raw in a Containerfile line; the spec model refuses the others.
UNSAFE_CHARACTERS = (
    "\u2028\u2029\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
RAW_CHARS = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters=UNSAFE_CHARACTERS)
SNIPPETS = st.sampled_from(ADVERSARIAL)

# Dense in what matters: most characters here mean something to BuildKit's lexer, a shell or
# pip, so random strings over them hit quoting bugs quickly; the rest is arbitrary Unicode.
# (Strings are drawn whole, not character by character: that keeps generation cheap.)
ALPHABET = "aZ09 _-=:./@+,\\\"'$`{}()[]<>#;&|!*?~%^\u00a0\u3000\ufeff\u200b\u00e9\U0001f600\u4e2d"
TEXT = st.one_of(
    st.text(ALPHABET, max_size=16),
    st.builds(
        lambda head, snippet, tail: head + snippet + tail,
        st.text(ALPHABET, max_size=4),
        SNIPPETS,
        st.text(RAW_CHARS, max_size=4),
    ),
)
ARGV_TEXT = st.one_of(
    TEXT,
    st.text(ALPHABET + "\n\r\t\x1b\x85\u2028", max_size=16),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8),
)

# Characters the spec refuses in any value, each with the name its message gives.
FORBIDDEN = st.sampled_from(
    [
        "\n",
        "\r",
        "\x00",
        "\t",
        "\x0b",
        "\x0c",
        "\x1b",
        "\x7f",
        "\x85",
        "\x9b",
        "\u2028",
        "\u2029",
        "\u202e",
        "\u2066",
        "\u200f",
        "\ud800",
        "\udfff",
    ]
)
