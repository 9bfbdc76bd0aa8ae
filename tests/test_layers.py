"""The stages of docs/architecture.md import only the stages before them.

The contracts live in pyproject.toml (``[tool.importlinter]``): a ``layers`` contract over
imagec's stage packages, no import cycles inside any package, and no engine SDK or backend
distribution in the core. import-linter reads every import statement (function bodies too;
``TYPE_CHECKING`` blocks aside), so an upward import fails here even when it is indirect.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LINT = """
import sys
from importlinter.cli import lint_imports
sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True, no_logo=True))
"""


def lint(source_dir: Path) -> subprocess.CompletedProcess[str]:
    """Check the ``imagec`` package found in ``source_dir`` against the repository's contracts."""
    env = {**os.environ, "PYTHONPATH": str(source_dir)}
    return subprocess.run(
        [sys.executable, "-c", LINT, str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=source_dir,
        check=False,
    )


def test_the_stages_keep_their_layering() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture
def copy_of_imagec(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "imagec", tmp_path / "imagec", ignore=shutil.ignore_patterns("*.pyc"))
    return tmp_path


def append(path: Path, code: str) -> None:
    path.write_text(path.read_text() + code)


def test_an_upward_import_breaks_the_layers_contract(copy_of_imagec: Path) -> None:
    # A reader reaching up into the CLI, inside a function where it is easy to miss.
    append(copy_of_imagec / "imagec/spec/document.py", "\n\ndef _x():\n    import imagec.cli\n")
    result = lint(copy_of_imagec)
    assert result.returncode == 1
    assert "stages import only earlier stages BROKEN" in result.stdout
    assert "imagec.spec.document -> imagec.cli" in result.stdout


def test_an_engine_sdk_in_the_core_breaks_the_forbidden_contract(copy_of_imagec: Path) -> None:
    append(copy_of_imagec / "imagec/plan/compiler.py", "\n\ndef _x():\n    import docker\n")
    result = lint(copy_of_imagec)
    assert result.returncode == 1
    assert "no engine SDK and no backend distribution BROKEN" in result.stdout


def test_a_cycle_inside_a_package_breaks_the_acyclic_contract(copy_of_imagec: Path) -> None:
    # ir imports nothing of the plan package; make it reach back into the compiler.
    append(copy_of_imagec / "imagec/plan/ir.py", "\n\ndef _x():\n    import imagec.plan.compiler\n")
    result = lint(copy_of_imagec)
    assert result.returncode == 1
    assert "no import cycles between the modules of any package BROKEN" in result.stdout
