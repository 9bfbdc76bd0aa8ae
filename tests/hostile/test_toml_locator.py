"""Class 4b: the TOML position locator and spec discovery are linear in their input.

tomllib keeps no positions, so imagec scans a TOML spec line by line for keys and table
headers, lines of multi-line strings included; and `imagec ... DIR` looks for `[tool.imagec]`
in pyproject.toml. A spec from a pull request may hold any text there: a dotted run
(`a.a.a...!`, exponential for a key pattern whose bare part admits `.`), `[` and a long run of
blanks (cubic for a lazy header name), a file of blank lines (quadratic for `^\\s*` under
MULTILINE). Each ends within seconds."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support.hostile import imagec
from support.timeout import time_limit_fixture

from imagec.spec.loaders import _TOML_HEADER, _TOML_KEY, TOOL_IMAGEC_TABLE
from imagec.util.fsutil import MAX_USER_FILE_BYTES

_limit = time_limit_fixture(60)

LINES = {
    "dotted run": "a." * 200_000 + "!",
    "bracket and blanks": "[" + " " * 400_000,
    "double bracket and blanks": "[[" + " " * 400_000 + "x",
    "blanks around a key": " " * 200_000 + "a" + " " * 200_000,
    "quoted parts": '"a".' * 100_000 + "!",
}


@pytest.mark.parametrize("name", list(LINES))
def test_line_patterns_are_linear(name: str) -> None:
    line = LINES[name]
    started = time.monotonic()
    _TOML_HEADER.match(line)
    _TOML_KEY.match(line)
    assert time.monotonic() - started < 1


def test_tool_imagec_search_is_linear() -> None:
    text = "\n" * MAX_USER_FILE_BYTES
    started = time.monotonic()
    assert TOOL_IMAGEC_TABLE.search(text) is None
    assert TOOL_IMAGEC_TABLE.search(" \n" * 1000 + "  [ tool.imagec ]\n")
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("name", ["dotted run", "bracket and blanks"])
def test_a_toml_spec_with_such_a_line_in_a_string(tmp_path: Path, name: str) -> None:
    line = LINES[name][:100_000]
    (tmp_path / "imagec.toml").write_text(f'python_version = "3.11"\ncommand = """\n{line}\n"""\n')
    started = time.monotonic()
    result = imagec("validate", "imagec.toml", cwd=tmp_path)
    assert time.monotonic() - started < 20
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.startswith("imagec.toml:2:11: command: ")


def test_a_pyproject_of_blank_lines_in_a_spec_directory(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("\n" * (MAX_USER_FILE_BYTES - 1))
    started = time.monotonic()
    result = imagec("validate", ".", cwd=tmp_path)
    assert time.monotonic() - started < 20
    assert result.returncode == 2 and "no spec file found" in result.stderr, result.stderr
