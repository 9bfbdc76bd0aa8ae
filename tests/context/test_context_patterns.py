"""Pattern parsing and matching against the reference vectors (see vectors.yaml)."""

from __future__ import annotations

import pathspec
import pytest
from support.context import vectors

from imagec.context import DockerPattern, IgnoreMatcher, InvalidPatternError, parse_ignore
from imagec.context.dockerignore import rules_from_text
from imagec.context.pattern import go_regex_source
from imagec.errors import SpecError

V = vectors()


def walk_decision(matcher: IgnoreMatcher, path: str) -> bool:
    """What the archive walk decides for ``path``, feeding each parent first."""
    parts = path.split("/")
    state = None
    excluded = False
    for depth in range(1, len(parts) + 1):
        excluded, state = matcher.match_child("/".join(parts[:depth]), state)
    return excluded


@pytest.mark.parametrize("case", V["readall"], ids=[repr(c["text"])[:40] for c in V["readall"]])
def test_readall(case: dict) -> None:
    assert [line.pattern for line in parse_ignore(case["text"])] == case["patterns"]


def test_readall_line_numbers_count_comments_and_blanks() -> None:
    lines = parse_ignore("# c\n\na\n  \n!b\n")
    assert [(line.pattern, line.line) for line in lines] == [("a", 3), ("!b", 5)]


def test_readall_accepts_bytes_and_strips_bom_only_at_start() -> None:
    lines = parse_ignore(b"\xef\xbb\xbfa\n\xef\xbb\xbfb\n")
    assert [line.pattern for line in lines] == ["a", "\ufeffb"]


@pytest.mark.parametrize(("pattern", "path", "expected"), V["match"])
def test_match(pattern: str, path: str, expected: bool) -> None:
    matcher = IgnoreMatcher([pattern])
    assert matcher.excluded(path) is expected
    assert walk_decision(matcher, path) is expected
    assert matcher.pathspec().match_file(path) is expected


@pytest.mark.parametrize(("patterns", "path", "expected"), V["multi"])
def test_multi(patterns: list[str], path: str, expected: bool) -> None:
    matcher = IgnoreMatcher(patterns)
    assert matcher.excluded(path) is expected
    assert walk_decision(matcher, path) is expected
    assert pathspec.PathSpec.from_lines(DockerPattern, patterns).match_file(path) is expected


@pytest.mark.parametrize("case", V["parent_results"], ids=lambda c: c["path"])
def test_parent_results(case: dict) -> None:
    matcher = IgnoreMatcher(case["patterns"])
    assert matcher.excluded(case["path"]) is case["excluded"]
    assert walk_decision(matcher, case["path"]) is case["walk"]


@pytest.mark.parametrize("pattern", V["invalid"])
def test_invalid(pattern: str) -> None:
    with pytest.raises(InvalidPatternError):
        DockerPattern(pattern)


@pytest.mark.parametrize("pattern", V["valid"])
def test_valid(pattern: str) -> None:
    assert DockerPattern(pattern).include is True


@pytest.mark.parametrize(("pattern", "kind", "regex"), V["compile"])
def test_compile(pattern: str, kind: str, regex: str) -> None:
    got_kind, got_regex = go_regex_source(pattern)
    assert got_kind == kind
    if kind == "regexp":
        assert got_regex == regex


def test_invalid_pattern_is_a_spec_error_at_its_line() -> None:
    with pytest.raises(SpecError) as info:
        rules_from_text("ok\n# comment\n[z-a]\n", file="proj/.dockerignore")
    assert info.value.line == 3
    assert str(info.value).startswith("proj/.dockerignore:3: [z-a]: ")
    assert "z-a" in info.value.message


def test_lone_exclamation_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match='illegal exclusion pattern: "!"') as info:
        rules_from_text("a\n!\n", file=".dockerignore")
    assert info.value.line == 2


def test_blank_pattern_is_a_no_op_for_pathspec() -> None:
    assert DockerPattern("   ").include is None
    assert len(IgnoreMatcher(["", "  ", "a"])) == 1


def test_exception_prefixes_decide_descent() -> None:
    matcher = IgnoreMatcher(["data", "!data/keep.csv", "!*/x"])
    assert matcher.may_descend("data")
    assert not matcher.may_descend("dat")
    assert not matcher.may_descend("other")
