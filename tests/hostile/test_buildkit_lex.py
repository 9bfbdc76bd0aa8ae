"""The BuildKit word-processing port passes lex.go's own test vectors.

``vectors/envVarTest`` and ``vectors/wordsTest`` are copied unchanged from BuildKit (see
``vectors/README.md``); the table below is lex_test.go's ``TestProcessWithMatches``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.buildkit_lex import (
    Lex,
    LexError,
    convert_shell_pattern_to_regex,
    reverse_pattern,
)

VECTORS = Path(__file__).parent / "vectors"
ENV = {"PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""}


def _env_var_cases() -> list[tuple[int, str, str]]:
    cases = []
    text = (VECTORS / "envVarTest").read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#") or not line.strip():
            continue
        platform, source, expected = (part.strip() for part in line.strip().split("|"))
        assert platform in ("A", "U", "W"), line
        if platform != "W":  # the vectors for Windows fold variable names to upper case
            cases.append((number, source, expected))
    return cases


@pytest.mark.parametrize(("number", "source", "expected"), _env_var_cases())
def test_env_var_vectors(number: int, source: str, expected: str) -> None:
    if expected == "error":
        with pytest.raises(LexError):
            Lex().process_word(source, ENV)
    else:
        assert Lex().process_word(source, ENV) == expected, f"envVarTest line {number}"


def _words_cases() -> list[tuple[int, str, list[str], dict[str, str]]]:
    cases = []
    env: dict[str, str] = {}
    text = (VECTORS / "wordsTest").read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            continue
        if line.startswith("ENV "):
            key, _, value = line[3:].lstrip(" ").partition("=")
            env = {**env, key: value}
            continue
        test, expected = line.split("|")
        cases.append((number, test.strip(), expected.lstrip(" ").split(","), env))
    return cases


# lex_test.go runs the file a second time with RawQuotes and SkipUnsetEnv, but on the same,
# already consumed file handle, so only this first mode is ever checked there.
@pytest.mark.parametrize(("number", "test", "expected", "env"), _words_cases())
def test_words_vectors(number: int, test: str, expected: list[str], env: dict[str, str]) -> None:
    try:
        result = Lex().process_words(test, env)
    except LexError:
        result = ["error"]
    assert result == expected, f"wordsTest line {number}"


WITH_MATCHES = [
    # (input, envs, expected or None for an error, matches, unmatched)
    ("x", {"DUMMY": "dummy"}, "x", set(), set()),
    ("x ${UNUSED}", {"DUMMY": "dummy"}, "x ", set(), {"UNUSED"}),
    ("x ${FOO}", {"FOO": "y"}, "x y", {"FOO"}, set()),
    ("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", {"FOO": "xxx", "BAR": ""}, "xxx  ccc",
     {"FOO", "BAR"}, {"BAZ"}),
    ("${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", {"FOO": "xxx", "BAR": ""}, "xxx bbb ccc",
     {"FOO", "BAR"}, {"BAZ"}),
    ("${FOO:-}", {"FOO": "xxx", "BAR": ""}, "xxx", {"FOO"}, set()),
    ("${FOO:-}", {}, "", set(), {"FOO"}),
    ("${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", {"FOO": "xxx", "BAR": ""}, "aaa bbb ",
     {"FOO", "BAR"}, {"BAZ"}),
    ("${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", {"FOO": "xxx", "BAR": ""}, "aaa  ",
     {"FOO", "BAR"}, {"BAZ"}),
    ("${FOO?aaa}", {"FOO": "xxx", "BAR": ""}, "xxx", {"FOO"}, set()),
    ("${BAR?bbb}", {"FOO": "xxx", "BAR": ""}, "", {"BAR"}, set()),
    ("${BAZ?ccc}", {"FOO": "xxx", "BAR": ""}, None, set(), set()),
    ("${FOO:?aaa}", {"FOO": "xxx", "BAR": ""}, "xxx", {"FOO"}, set()),
    ("${BAR:?bbb}", {"FOO": "xxx", "BAR": ""}, None, set(), set()),
    ("${BAZ:?ccc}", {"FOO": "xxx", "BAR": ""}, None, set(), set()),
    ("${BAZ:?}", {"FOO": "xxx", "BAR": ""}, None, set(), set()),
    ("${FOO=aaa}", {"FOO": "xxx", "BAR": ""}, None, set(), set()),
    ("${FOO=:aaa}", {"FOO": "xxx", "BAR": ""}, None, set(), set()),
    ("${FOO=}", {}, None, set(), set()),
    ("${FOO#()[]{\\}^$.\\*\\?|\\\\}", {"FOO": "()[]{}^$.*?|\\x"}, "x", {"FOO"}, set()),
    ("${FOO%%\\**}", {"FOO": "xx**"}, "xx", {"FOO"}, set()),
    ("${FOO#*x*y}", {"FOO": "xxyy"}, "y", {"FOO"}, set()),
    ("${FOO#*}", {"FOO": "xxyy"}, "xxyy", {"FOO"}, set()),
    ("${FOO#$BAR}", {"FOO": "xxyy", "BAR": "x"}, "xyy", {"FOO", "BAR"}, set()),
    ("${FOO#$BAR}", {"FOO": "xxyy", "BAR": ""}, "xxyy", {"FOO", "BAR"}, set()),
    ("${FOO#}", {"FOO": "xxyy"}, "xxyy", {"FOO"}, set()),
    ("${FOO##*x}", {"FOO": "xxyy"}, "yy", {"FOO"}, set()),
    ("${FOO##}", {"FOO": "xxyy"}, "xxyy", {"FOO"}, set()),
    ("${FOO#?\\?}", {"FOO": "???y"}, "?y", {"FOO"}, set()),
    ("${ABC:-.}${FOO%x}${ABC:-.}", {"FOO": "xxyy"}, ".xxyy.", {"FOO"}, {"ABC"}),
    ("${FOO%%\\**\\*}", {"FOO": "a***yy*"}, "a", {"FOO"}, set()),
    ("${FOO%}", {"FOO": "xxyy"}, "xxyy", {"FOO"}, set()),
    ("${FOO%%$BAR}", {"FOO": "xxyy", "BAR": ""}, "xxyy", {"FOO", "BAR"}, set()),
    ("${FOO:#}", {}, None, set(), set()),
    ("${FOO:##}", {}, None, set(), set()),
    ("${FOO:%}", {}, None, set(), set()),
    ("${FOO:%%}", {}, None, set(), set()),
    ("${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}", {"FOO": "/foo*/*/*.txt", "NEEDLE": "\\*/"},
     "/foo.*/*.txt - /foo..*.txt", {"FOO", "NEEDLE"}, set()),
    ("${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}", {"FOO": "/tmp/tmp/bar.txt", "NEEDLE": "/tmp"},
     "/tmp/bar.txt - /bar.txt", {"FOO", "NEEDLE"}, set()),
    ("${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
     {"FOO": "/a/foo/b/c.txt", "NEEDLE": "/?/", "REPLACEMENT": "/"},
     "/foo/b/c.txt - /foo/c.txt", {"FOO", "NEEDLE", "REPLACEMENT"}, set()),
    ("${FOO/$NEEDLE/$REPLACEMENT}",
     {"FOO": "http://google.de", "NEEDLE": "http://", "REPLACEMENT": "https://"},
     "https://google.de", {"FOO", "NEEDLE", "REPLACEMENT"}, set()),
    ("${FOO//\\//\\/}", {"FOO": "/tmp/foo.txt"}, "\\/tmp\\/foo.txt", {"FOO"}, set()),
    ("${FOO/$BAR/ww}", {"FOO": "xxyy", "BAR": ""}, "wwxxyy", {"FOO", "BAR"}, set()),
    ("${FOO//ww}", {"FOO": "xxyy"}, None, set(), set()),
    ("${FOO//}", {"FOO": "xxyy"}, None, set(), set()),
    ("${FOO///}", {"FOO": "xxyy"}, "xxyy", {"FOO"}, set()),
    ("${FOO///}", {}, "", set(), {"FOO"}),
]  # fmt: skip


@pytest.mark.parametrize(("word", "env", "expected", "matches", "unmatched"), WITH_MATCHES)
def test_process_with_matches(
    word: str, env: dict[str, str], expected: str | None, matches: set, unmatched: set
) -> None:
    if expected is None:
        with pytest.raises(LexError):
            Lex().process_word_with_matches(word, env)
        return
    assert Lex().process_word_with_matches(word, env) == (expected, matches, unmatched)


def test_process_with_matches_platform() -> None:
    release = (
        "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz"
    )
    env = {"VERSION": "v1.2.3", "TARGETOS": "linux", "TARGETARCH": "arm", "TARGETVARIANT": "v7"}
    assert Lex().process_word(release, env) == "something-v1.2.3.linux-arm-v7.tar.gz"
    env |= {"TARGETARCH": "arm64", "TARGETVARIANT": ""}
    assert Lex().process_word(release, env) == "something-v1.2.3.linux-arm64.tar.gz"
    del env["TARGETVARIANT"]
    assert Lex().process_word(release, env) == "something-v1.2.3.linux-arm64.tar.gz"


def test_convert_shell_pattern_to_regex() -> None:
    cases = {
        "*": "^.*",
        "?": "^.",
        "\\*": "^\\*",
        "(()[]{\\}^$.\\*\\?|\\\\": "^\\(\\(\\)\\[\\]\\{\\}\\^\\$\\.\\*\\?\\|\\\\",
    }
    for pattern, expected in cases.items():
        assert convert_shell_pattern_to_regex(pattern, greedy=True, anchored=True).pattern == (
            expected
        )
    for pattern in ("\\", "\\x", "\\\\\\"):
        with pytest.raises(LexError):
            convert_shell_pattern_to_regex(pattern, greedy=True, anchored=True)


def test_reverse_pattern() -> None:
    cases = {
        "a\\*c": "c\\*a",
        "\\\\\\ab": "b\\a\\\\",
        "ab\\": "\\ba",
        "👽\\🚀🖖": "🖖\\🚀👽",
        "\\\\b": "b\\\\",
    }
    for pattern, expected in cases.items():
        assert reverse_pattern(pattern) == expected


def test_mandatory_env_vars() -> None:
    set_envs = {"VAR": "plain", "ARG": "x"}
    empty_envs = {"VAR": "", "ARG": "x"}
    unset_envs = {"ARG": "x"}
    no_empty, no_unset = "${VAR:?message here$ARG}", "${VAR?message here$ARG}"
    assert Lex().process_word(no_empty, set_envs) == "plain"
    for env in (empty_envs, unset_envs):
        with pytest.raises(LexError, match="message herex"):
            Lex().process_word(no_empty, env)
    assert Lex().process_word(no_unset, set_envs) == "plain"
    assert Lex().process_word(no_unset, empty_envs) == ""
    with pytest.raises(LexError, match="message herex"):
        Lex().process_word(no_unset, unset_envs)


def test_leading_byte_order_mark_is_dropped() -> None:
    # Go's text/scanner skips a BOM at the start of its input: an encoder must escape it.
    assert Lex().process_word("\ufeffa") == "a"
    assert Lex().process_word("\\\ufeffa") == "\ufeffa"
    assert Lex().process_word('"\ufeffa"') == "\ufeffa"
