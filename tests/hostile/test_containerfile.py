"""The lowering on its own: any IR value is either written so BuildKit reads back exactly that
value, or refused with an error naming the step's origin.

These tests build IR steps directly, with values the spec model would already reject, so the
lowering is checked without relying on validation upstream (plugins can add steps too).
"""

from __future__ import annotations

import dockerfile
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.adversarial import ARGV_TEXT, PROPERTY, TEXT
from support.containerfile_check import POISON, assert_round_trips, read_back

from imagec.backend.containerfile import MAX_LINE_BYTES, comment, json_array, quote, render
from imagec.errors import SpecError
from imagec.plan.ir import (
    Arg,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    From,
    Label,
    Origin,
    Plan,
    Run,
    Step,
    User,
    Workdir,
)

ORIGIN = Origin("environment", "imagec.yaml", 7)
BASE = From(Origin("base_image"), "python:3.11-slim")

# Everything that means something to a Containerfile or a shell, one per value.
NASTY = [
    "",
    " ",
    "  leading and trailing  ",
    "\\",
    "\\\\",
    "ends with \\",
    'ends with \\"',
    '\\"',
    '"',
    "'",
    "''",
    '"quoted"',
    "it's",
    "$HOME",
    "${HOME}",
    "${HOME:-x}",
    "${X:+y}",
    "$",
    "$$",
    "\\$HOME",
    "\\${HOME}",
    "a=b",
    "=",
    "a b c",
    "#",
    "# syntax=docker/dockerfile:1",
    "# escape=`",
    "`id`",
    "$(id)",
    "; rm -rf /",
    "&& echo pwned",
    "| cat",
    "<<EOF",
    "<< EOF",
    "<<-EOF",
    "cat <<EOF",
    "--platform=linux/arm64",
    "--chown=root",
    "-rf",
    "RUN id",
    "\ufeffbom first",
    "mid\ufeffbom",
    "\u00a0nbsp\u00a0",
    "\u3000ideographic space\u3000",
    "\u200bzero width",
    "ünïcödé 😀 ∑ 中文",
    "\U0001f600",
    "a\tb",  # only where the encoding allows controls (JSON)
]
RAW_SAFE = [v for v in NASTY if "\t" not in v]


def _label_key(value: str) -> str:
    # A label key cannot hold `=` (see the refusals below) or be empty.
    return value.replace("=", "") or "x"


def _round_trip(*steps: Step) -> str:
    plan = Plan(steps=(BASE, *steps))
    text = render(plan)
    assert_round_trips(plan, text)
    return text


@pytest.mark.parametrize("value", RAW_SAFE)
def test_env_label_arg_values_round_trip(value: str) -> None:
    _round_trip(
        Arg(ORIGIN, "NAME", value),
        Env(ORIGIN, (("A", value), ("B", "after"))),
        Label(ORIGIN, (("k", value), (_label_key(value), "v"))),
    )


@pytest.mark.parametrize("value", RAW_SAFE)
def test_workdir_user_and_copy_paths_round_trip(value: str) -> None:
    path = "/" + value
    _round_trip(
        Workdir(ORIGIN, path),
        Copy(ORIGIN, (value or ".", "src/"), path, chown="app:1000"),
        User(ORIGIN, value or "app"),
    )


@pytest.mark.parametrize("value", [*NASTY, "line\nbreak", "\r\n", "\x1b[31m", "\u2028", "\x85"])
def test_exec_form_arguments_round_trip(value: str) -> None:
    _round_trip(
        Run(ORIGIN, ("/bin/sh", "-c", value)),
        Entrypoint(ORIGIN, (value, "x")),
        Cmd(ORIGIN, (value,)),
    )


def test_heredoc_markers_in_exec_form_start_no_heredoc() -> None:
    # BuildKit looks for heredocs only in the shell form of RUN and COPY.
    text = _round_trip(Run(ORIGIN, ("sh", "-c", "cat <<EOF")), Run(ORIGIN, ("echo", "EOF")))
    assert [c.heredocs for c in dockerfile.parse_string(text)] == [(), (), ()]


def test_values_are_not_expanded() -> None:
    # read_back sets every variable to POISON; none may appear.
    text = _round_trip(Env(ORIGIN, (("A", "$A ${B} \\$C"),)), Workdir(ORIGIN, "/$HOME"))
    assert POISON not in repr(read_back(text))


def test_line_continuations_cannot_form() -> None:
    # A value ending in a backslash must not end the line with one: the next line would join.
    text = _round_trip(
        Env(ORIGIN, (("A", "x\\"),)), Label(ORIGIN, (("k", "\\"),)), Arg(ORIGIN, "B", "\\\\")
    )
    for line in text.splitlines():
        assert not line.rstrip().endswith("\\") or line.rstrip().endswith('\\""'), line


def test_json_never_holds_a_backslash_before_a_quote() -> None:
    # hadolint's parser misreads `\\"` and then lints the exec form as a shell command.
    assert json_array(["a\\", '\\"', "\\\\"]) == '["a\\u005c", "\\u005c\\"", "\\u005c\\u005c"]'


def test_quote_examples() -> None:
    assert quote("plain") == '"plain"'
    assert quote('a"$b') == '"a\\"\\$b"'
    assert quote("a\\") == '"a"\\\\""'
    assert quote("") == '""'


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (Env(ORIGIN, (("A", "line\nbreak"),)), "holds '\\n'"),
        (Env(ORIGIN, (("A", "x\x00"),)), "holds '\\x00'"),
        (Env(ORIGIN, (("A", "\u2028"),)), "holds '\\u2028'"),
        (Env(ORIGIN, (("A", "\u202e"),)), "holds '\\u202e'"),
        (Env(ORIGIN, (("A", "\ud800"),)), "holds '\\ud800'"),
        (Env(ORIGIN, (("1A", "x"),)), "invalid variable name '1A'"),
        (Env(ORIGIN, (("A B", "x"),)), "invalid variable name 'A B'"),
        (Env(ORIGIN, ()), "no key=value pairs"),
        (Label(ORIGIN, (("k\nRUN id", "x"),)), "holds '\\n'"),
        (Label(ORIGIN, (("a=b", "x"),)), "invalid label key 'a=b'"),
        (Label(ORIGIN, (("", "x"),)), "invalid label key ''"),
        (Arg(ORIGIN, "A=B", "x"), "invalid build arg name 'A=B'"),
        (Arg(ORIGIN, "A", "x\ny"), "holds '\\n'"),
        (Run(ORIGIN, ()), "RUN needs a command"),
        (Run(ORIGIN, ("a\x00b",)), "holds '\\x00'"),
        (Cmd(ORIGIN, ("\udc80",)), "holds '\\udc80'"),
        (Workdir(ORIGIN, "/a\nRUN id"), "holds '\\n'"),
        (User(ORIGIN, "app\r"), "holds '\\r'"),
        (Copy(ORIGIN, ("a\nb",), "/x/"), "holds '\\n'"),
        (Copy(ORIGIN, (), "/x/"), "COPY needs a source"),
        (Copy(ORIGIN, ("a",), "/x/", chown="app $(id)"), "invalid owner"),
        (From(ORIGIN, "python:3.11\nRUN id"), "invalid image reference"),
        (From(ORIGIN, "$BASE"), "invalid image reference"),
        (From(ORIGIN, "python", "linux/amd64 --x"), "invalid platform"),
    ],
)
def test_unencodable_values_are_errors_at_the_origin(step: Step, message: str) -> None:
    with pytest.raises(SpecError) as info:
        render(Plan(steps=(BASE, step)))
    err = info.value
    assert (err.file, err.line, err.field) == ("imagec.yaml", 7, "environment")
    assert message in err.message
    assert "\n" not in str(err)


def test_overlong_line_is_an_error_not_an_unparseable_file() -> None:
    fits = "x" * (MAX_LINE_BYTES - len('ENV A=""'))
    _round_trip(Env(ORIGIN, (("A", fits),)))
    with pytest.raises(SpecError, match="ENV instruction is 65536 bytes long"):
        render(Plan(steps=(BASE, Env(ORIGIN, (("A", fits + "x"),)))))


def test_comments_stay_single_line_and_inert() -> None:
    assert comment("a\nRUN id") == "# a?RUN id"
    assert comment("x\u2028y\u202ez") == "# x?y?z"
    assert len(comment("y" * 10_000)) <= 202
    origin = Origin("labels\nRUN id", "spec\u2028.yaml\\", 3)
    text = _round_trip(Label(origin, (("k", "v"),)))
    assert "RUN id" in text and "\n# labels?RUN id (spec?.yaml\\:3)\n" in text


def test_header_comes_first_so_no_directive_can_follow() -> None:
    text = render(Plan(steps=(BASE,)), comments=True)
    assert text.startswith("# Containerfile generated by imagec")


NAMES = st.builds(str.__add__, st.sampled_from("A_z"), st.text("AZaz09_", max_size=15))


@settings(PROPERTY, max_examples=400)
@given(
    env=st.lists(st.tuples(NAMES, TEXT), min_size=1, max_size=4),
    labels=st.lists(st.tuples(TEXT.map(_label_key), TEXT), min_size=1, max_size=3),
    arg=st.tuples(NAMES, st.none() | TEXT),
    path=TEXT,
    user=TEXT,
    argv=st.lists(ARGV_TEXT, min_size=1, max_size=4),
    copy=st.lists(TEXT.filter(bool), min_size=1, max_size=3),
)
def test_any_encodable_ir_round_trips(
    env: list, labels: list, arg: tuple, path: str, user: str, argv: list, copy: list
) -> None:
    _round_trip(
        Arg(ORIGIN, *arg),
        Env(ORIGIN, tuple(env)),
        Label(ORIGIN, tuple(labels)),
        Workdir(ORIGIN, "/" + path),
        Copy(ORIGIN, tuple(copy), "/" + path, chown="app"),
        User(ORIGIN, user or "app"),
        Run(ORIGIN, tuple(argv)),
        Entrypoint(ORIGIN, tuple(argv)),
        Cmd(ORIGIN, ()),
    )
