"""``imagec compile|ir|validate`` in their plain forms are read without argparse, exactly as
argparse reads them (the parser in imagec/cli/parser.py is the oracle); every other form is
left to argparse, with its errors."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagec.cli.main import PLAIN_OPTIONS, plain_args
from imagec.cli.parser import build_parser

ROOT = Path(__file__).resolve().parent.parent


def _pieces(command: str) -> list[list[str]]:
    """Each plain option of ``command`` in each spelling, with a value where it takes one."""
    out = []
    for option, (_, takes_value) in PLAIN_OPTIONS[command].items():
        if not takes_value:
            out.append([option])
            continue
        out += [[option, "v"], [option, "-"], [option, "a b"], [option, "x=y"]]
        if option.startswith("--"):
            out.append([f"{option}=v"])
    return out


def _plain_forms() -> list[list[str]]:
    forms = []
    for command in PLAIN_OPTIONS:
        pieces = _pieces(command)
        for spec in ("examples/quickstart", "app.py:train", "-", "x=y", ""):
            forms.append([command, spec])
            for piece in pieces:
                forms.append([command, spec, *piece])
                forms.append([command, *piece, spec])
        for a, b in itertools.combinations(pieces[::2], 2):
            forms.append([command, *a, "s.yaml", *b])
    return forms


@pytest.mark.parametrize("command", sorted(PLAIN_OPTIONS))
def test_plain_forms_read_as_argparse_reads_them(command: str) -> None:
    forms = [f for f in _plain_forms() if f[0] == command]
    read = 0
    for argv in forms:
        got = plain_args(argv)
        if got is None:
            continue
        read += 1
        assert vars(got) == vars(build_parser().parse_args(argv)), argv
    assert read > len(forms) * 0.9  # nearly all of them are plain


@pytest.mark.parametrize(
    "argv",
    [
        ["compile"],  # no SPEC: argparse's error
        ["compile", "a", "b"],
        ["compile", "a", "-h"],
        ["compile", "a", "--help"],
        ["compile", "a", "--out", "f"],  # an abbreviation
        ["compile", "a", "-of"],  # a value joined to a short option
        ["compile", "a", "-o=f"],  # argparse's value would be "=f"
        ["compile", "a", "-o"],
        ["compile", "a", "-o", "-x"],
        ["compile", "a", "--output="],
        ["compile", "a", "-o", "f", "-o", "g"],  # argparse keeps the last
        ["compile", "a", "--import", "--import"],
        ["compile", "a", "--import=yes"],
        ["compile", "--", "a"],
        ["compile", "a", "-O", "k=v"],  # appends: left to argparse
        ["compile", "a", "--on-unsupported", "warn"],
        ["ir", "a", "--backend", "docker"],  # not an option of ir
        ["validate", "a", "-o", "f"],
        ["build", "a"],
        ["schema"],
        ["--version"],
        [],
    ],
)
def test_other_forms_are_left_to_argparse(argv: list[str]) -> None:
    assert plain_args(argv) is None


def test_each_call_has_its_own_option_list() -> None:
    first, second = plain_args(["compile", "a"]), plain_args(["compile", "b"])
    assert first is not None and second is not None
    first.option.append("k=v")
    assert second.option == []


def test_a_plain_compile_builds_no_parser_and_loads_no_packaging() -> None:
    """Nor argparse, nor ``packaging``: imagec.model.pep508 reads the requirements."""
    code = (
        "import sys\n"
        "from imagec.cli import main\n"
        "sys.stdout = open('/dev/null', 'w')\n"
        "assert main(['compile', 'examples/quickstart']) == 0\n"
        "names = ('imagec.cli.parser', 'argparse', 'packaging')\n"
        "print(sorted(m for m in names if m in sys.modules),"
        " file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=os.environ
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_argparse_still_reports_a_bad_form(capsys) -> None:
    from imagec.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["compile", "a", "b"])
    assert exited.value.code == 2
    assert "unrecognized arguments: b" in capsys.readouterr().err
