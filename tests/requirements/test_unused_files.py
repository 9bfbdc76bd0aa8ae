"""A requirements.txt or pyproject.toml at the source root that no spec field names is reported
as a hint, never silently used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.cli import run_imagec

PYPROJECT = '[project]\nname = "app"\nversion = "1.0"\ndependencies = ["requests"]\n'


def compile_(tmp_path: Path, spec: str):
    (tmp_path / "imagec.yaml").write_text(spec)
    result = run_imagec("compile", str(tmp_path / "imagec.yaml"))
    assert result.returncode == 0, result.stderr
    return result


def test_an_unnamed_requirements_file_is_a_hint_not_a_layer(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("pandas\n")
    result = compile_(tmp_path, "install_imagec: false\n")
    assert (
        f"imagec: hint: {tmp_path / 'requirements.txt'}: not installed; add it to requirements "
        "(`requirements: requirements.txt` or a `-r` entry)\n"
    ) in result.stderr
    assert "pandas" not in result.stdout and "/imagec/requirements/" not in result.stdout


def test_an_unnamed_pyproject_with_dependencies_is_a_hint(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    result = compile_(tmp_path, "install_imagec: false\n")
    assert (
        f"imagec: hint: {tmp_path / 'pyproject.toml'}: its dependencies are not installed; add "
        "it to lock_files, or set install_project: true for the project itself\n"
    ) in result.stderr
    assert "requests" not in result.stdout


@pytest.mark.parametrize(
    "spec",
    [
        "requirements: requirements.txt\ninstall_project: true\n",
        "requirements: ['-r requirements.txt', '-e .']\n",
        "requirements: [-r other.txt]\ninstall_project: true\n",  # included from other.txt
    ],
)
def test_named_files_get_no_hint(tmp_path: Path, spec: str) -> None:
    (tmp_path / "requirements.txt").write_text("pandas\n")
    (tmp_path / "other.txt").write_text("-r requirements.txt\n")
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    assert "not installed" not in compile_(tmp_path, spec).stderr


def test_a_pyproject_with_tool_settings_only_gets_no_hint(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    assert "hint" not in compile_(tmp_path, "install_imagec: false\n").stderr


HINT = "requirements.txt: not installed; add it to requirements"


@pytest.mark.parametrize(
    ("argv", "hinted"),
    [
        (["compile"], True),
        (["ir"], True),
        (["validate"], True),
        (["export", "-o", "{out}"], True),
        (["context"], False),  # a listing of the context: the hint is no help there
        (["context", "--hash"], False),
    ],
)
def test_the_hint_only_where_it_helps_and_once(tmp_path: Path, argv: list[str], hinted: bool):
    (tmp_path / "requirements.txt").write_text("pandas\n")
    (tmp_path / "imagec.yaml").write_text("install_imagec: false\n")
    args = [a.format(out=tmp_path.parent / f"{tmp_path.name}-out") for a in argv]
    result = run_imagec(*args, str(tmp_path / "imagec.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(HINT) == (1 if hinted else 0), result.stderr


def test_a_spec_resolved_twice_in_one_process_hints_once(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("pandas\n")
    (tmp_path / "imagec.yaml").write_text("install_imagec: false\n")
    code = (
        "import sys\n"
        "from imagec.cli.main import main\n"
        "for _ in range(2):\n"
        "    assert main(['compile', sys.argv[1]]) == 0\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "imagec.yaml")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count(HINT) == 1, proc.stderr
