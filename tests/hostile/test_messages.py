"""Class 11: messages never carry a secret, a control character or an unbounded value.

Every value echoed goes through ``imagec.util.text.show`` (credentials redacted as ``***``,
control characters escaped, long values cut), and every error line is printed as one line
(``ImagecError`` escapes what is left, file names included, and caps the line)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.hostile import imagec, refused
from support.timeout import time_limit_fixture

_limit = time_limit_fixture(60)

TOKEN = "ghs0mEt0kenXy"


@pytest.mark.parametrize(
    "entry",
    [
        f"https://u:{TOKEN}@files.example/p-1.whl",
        f"https://{TOKEN}@files.example/p-1.whl",
        f"git+https://{TOKEN}@github.com/o/p.git",
        f"https://files.example/p-1.whl?access_token={TOKEN}",
    ],
)
def test_bare_url_requirements_are_redacted(tmp_path: Path, entry: str) -> None:
    (tmp_path / "imagec.yaml").write_text(f"requirements: ['{entry}']\n")
    line = refused(
        imagec("validate", "imagec.yaml", cwd=tmp_path),
        r"imagec\.yaml:1:16: requirements\[0\]: '.*\*\*\*.*' contains a password or token.*",
    )
    assert TOKEN not in line


def test_bare_url_in_a_requirements_file_is_redacted(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(f"https://u:{TOKEN}@files.example/p-1.whl\n")
    (tmp_path / "imagec.yaml").write_text("requirements: requirements.txt\n")
    line = refused(
        imagec("validate", "imagec.yaml", cwd=tmp_path),
        r"requirements\.txt:1: 'https://\*\*\*@files\.example/p-1\.whl' contains a password .*",
    )
    assert TOKEN not in line


def test_conflict_messages_are_redacted(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "--index-url https://u:${A}@one.example/simple\n"
        "--index-url https://two.example/simple?token=${B}\n"
    )
    (tmp_path / "imagec.yaml").write_text("requirements: requirements.txt\n")
    result = imagec("validate", "imagec.yaml", cwd=tmp_path)
    refused(result, r"requirements\.txt:1: two index URLs: .*")


@pytest.mark.parametrize(
    "text, shown",
    [
        ("foo\x1b[2J==1\n", r"\\x1b\[2J"),
        ("foo==1\x07\n", r"\\x07"),
        ("foo\u202e==1\n", r"\\u202e"),
    ],
)
def test_control_characters_in_lines_are_escaped(tmp_path: Path, text: str, shown: str) -> None:
    (tmp_path / "requirements.txt").write_text(text)
    (tmp_path / "imagec.yaml").write_text("requirements: requirements.txt\n")
    result = imagec("validate", "imagec.yaml", cwd=tmp_path)
    line = refused(result, rf"requirements\.txt:1:\d+: .*{shown}.*")
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "\u202e" not in result.stderr and line


def test_control_characters_in_file_names_are_escaped(tmp_path: Path) -> None:
    (tmp_path / "req\x1b[31mx.txt").write_text("foo==1\nbar=1\n")
    (tmp_path / "requirements.txt").write_text("-r req\x1b[31mx.txt\n")
    (tmp_path / "imagec.yaml").write_text("requirements: requirements.txt\n")
    result = imagec("validate", "imagec.yaml", cwd=tmp_path)
    refused(result, r".*req\\x1b\[31mx\.txt:2:\d+: invalid requirement 'bar=1'.*")
    assert "\x1b" not in result.stderr


@pytest.mark.parametrize(
    "spec",
    [
        "{" + '"' + "k" * 100_000 + '": 1}',
        '{"user": "' + "u" * 100_000 + '"}',
        '{"requirements": ["' + "p" * 100_000 + '=1"]}',
        '{"labels": {"' + "l" * 100_000 + '": "x"}}',
    ],
)
def test_long_values_are_cut(tmp_path: Path, spec: str) -> None:
    (tmp_path / "imagec.json").write_text(spec)
    result = imagec("validate", "imagec.json", cwd=tmp_path)
    line = refused(result, r"imagec\.json:.*")
    assert len(line) < 2100, len(line)
