"""Import mode: the file runs and the runtime decorator's record is read back."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from imagec.errors import SpecError
from imagec.spec.pyimport import import_spec
from imagec.spec.pysource import extract

FIXTURES = Path(__file__).parent.parent / "fixtures" / "python"
EXAMPLE = Path(__file__).parent.parent.parent / "examples" / "pipeline" / "pipeline.py"


def write(directory: Path, source: str, name: str = "pipe.py") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return path


def error(path: Path, function: str | None = None) -> str:
    with pytest.raises(SpecError) as info:
        import_spec(path, function)
    return str(info.value)


@pytest.mark.parametrize(
    "function",
    ["with_integrations", "with_requirement_list", "with_requirements_file", "with_dockerignore"],
)
def test_four_forms_match_static_extraction(function):
    static = extract(FIXTURES / "four_forms.py", function)
    imported = import_spec(FIXTURES / "four_forms.py", function)
    assert imported.data == static.data
    assert imported.pipeline == function
    assert imported.base_dir == FIXTURES.absolute()
    # Keyword values written in the decorator keep their exact places.
    for key in static.data:
        assert imported.where((key,)) == static.where((key,))
        assert imported.keys[(key,)] == static.keys[(key,)]


def test_combined_forms_match_static_extraction():
    assert import_spec(FIXTURES / "combined.py", "train").data == (
        extract(FIXTURES / "combined.py", "train").data
    )


def test_computed_arguments_work_and_point_at_the_decorator():
    doc = import_spec(FIXTURES / "dynamic.py")
    assert doc.data == {
        "base_image": "python:3.11-slim",
        "requirements": ["pandas>=2.0,<3", "scikit-learn>=1.3"],
    }
    assert doc.where(()) == (11, 2)
    assert doc.where(("requirements",)) == (13, 18)
    # Elements computed at run time fall back to the argument.
    assert doc.where(("requirements", 1)) == (13, 18)


def test_missing_dependency_is_one_clear_line():
    path = FIXTURES / "missing_dependency.py"
    assert error(path) == (
        f"{path}:3: importing the file failed: ModuleNotFoundError: No module named "
        "'torch_not_installed_here' (without --import, imagec reads the decorator without "
        "importing anything)"
    )


def test_example_needs_its_dependencies_in_import_mode_only():
    assert extract(EXAMPLE).pipeline == "churn_pipeline"
    assert error(EXAMPLE) == (
        f"{EXAMPLE}:10: importing the file failed: ModuleNotFoundError: No module named "
        "'pandas' (without --import, imagec reads the decorator without importing anything)"
    )


def test_exception_in_a_helper_points_at_the_users_line(tmp_path):
    path = write(
        tmp_path,
        """
        from imagec import pipeline

        def load():
            raise RuntimeError("no config\\nsecond line")

        @pipeline(requirements=load())
        def run():
            pass
        """,
    )
    assert error(path) == f"{path}:4: importing the file failed: RuntimeError: no config"


def test_sys_exit_while_importing(tmp_path):
    path = write(tmp_path, "import sys\nsys.exit(3)\n")
    assert error(path) == (
        f"{path}:2: importing the file failed: SystemExit: the file exited with status 3 "
        "while being imported"
    )


def test_syntax_error(tmp_path):
    path = write(tmp_path, "from imagec import pipeline\n@pipeline(\ndef run(): pass\n")
    assert error(path) == f"{path}:2:10: invalid Python syntax: '(' was never closed"


def test_several_pipelines():
    path = FIXTURES / "several.py"
    assert import_spec(path, "train").data == {"requirements": ["torch"]}
    assert error(path) == (
        f"{path}: 2 pipelines in this file: ingest (line 4), train (line 13); "
        f"choose one with {path}:NAME"
    )
    assert error(path, "helper") == f"{path}:9: function 'helper' is not decorated with @pipeline"
    assert error(path, "trian") == f"{path}: no pipeline named 'trian' (did you mean 'train'?)"


def test_sibling_modules_import_and_nothing_leaks(tmp_path):
    write(tmp_path, "REQS = ['torch>=2.0,<3']\n", name="settings_for_import_test.py")
    path = write(
        tmp_path,
        """
        from settings_for_import_test import REQS

        from imagec import pipeline

        @pipeline(
            requirements=REQS,
            labels={"set": {"b", "a"}},
            source_root=__import__("pathlib").Path("src"),
        )
        def run():
            pass
        """,
    )
    path_before, modules_before = list(sys.path), set(sys.modules)
    doc = import_spec(path)
    assert doc.data == {
        "requirements": ["torch>=2.0,<3"],
        "labels": {"set": ["a", "b"]},
        "source_root": "src",
    }
    assert sys.path == path_before
    assert not any(name.startswith("_imagec_import_") for name in set(sys.modules) - modules_before)


def test_each_import_runs_the_file_again(tmp_path):
    counter = tmp_path / "count"
    path = write(
        tmp_path,
        f"""
        import pathlib
        from imagec import pipeline

        p = pathlib.Path({str(counter)!r})
        p.write_text(str(int(p.read_text() if p.exists() else 0) + 1))

        @pipeline
        def run():
            pass
        """,
    )
    import_spec(path)
    import_spec(path)
    assert counter.read_text() == "2"


def test_missing_file(tmp_path):
    assert error(tmp_path / "nope.py") == f"{tmp_path / 'nope.py'}: Python file not found"
