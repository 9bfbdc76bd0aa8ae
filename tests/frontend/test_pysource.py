"""Static extraction of ``@pipeline(...)`` arguments: no user code runs."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from imagec.errors import SpecError
from imagec.spec.pysource import extract

FIXTURES = Path(__file__).parent.parent / "fixtures" / "python"


def write(tmp_path: Path, source: str, name: str = "pipe.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return path


def error(path: Path, function: str | None = None) -> str:
    with pytest.raises(SpecError) as info:
        extract(path, function)
    return str(info.value)


# --- the four decorator forms ----------------------------------------------------------------


def test_required_integrations_resolve_through_the_constants_module():
    doc = extract(FIXTURES / "four_forms.py", "with_integrations")
    assert doc.data == {"required_integrations": ["pytorch", "evidently"]}
    assert doc.pipeline == "with_integrations"
    assert doc.locations[()] == (5, 2)
    assert doc.locations[("required_integrations",)] == (5, 33)
    assert doc.locations[("required_integrations", 1)] == (5, 43)
    assert doc.keys[("required_integrations",)] == (5, 11)


def test_requirement_list():
    doc = extract(FIXTURES / "four_forms.py", "with_requirement_list")
    assert doc.data == {"requirements": ["torch==1.12.0", "torchvision"]}
    assert doc.where(("requirements", 0)) == (10, 25)
    assert doc.where(("requirements", 1)) == (10, 42)


def test_requirements_file_path_resolves_against_the_file_directory():
    doc = extract(FIXTURES / "four_forms.py", "with_requirements_file")
    assert doc.data == {"requirements": "reqs/requirements.txt"}
    assert doc.base_dir == FIXTURES.absolute()
    assert (doc.directory / doc.data["requirements"]).is_file()


def test_dockerignore_file():
    doc = extract(FIXTURES / "four_forms.py", "with_dockerignore")
    assert doc.data == {"dockerignore_file": ".dockerignore"}
    assert (doc.directory / doc.data["dockerignore_file"]).is_file()


def test_relative_paths_resolve_against_the_file_not_the_working_directory(monkeypatch, tmp_path):
    (tmp_path / "project").mkdir()
    write(
        tmp_path / "project",
        "from imagec import pipeline\n@pipeline(requirements='r.txt')\ndef f(): ...\n",
    )
    (tmp_path / "project" / "r.txt").write_text("torch\n")
    monkeypatch.chdir(tmp_path)
    doc = extract(Path("project/pipe.py"))
    monkeypatch.chdir("/")
    assert doc.path == Path("project/pipe.py")
    assert doc.directory == tmp_path / "project"
    assert (doc.directory / doc.data["requirements"]).is_file()


def test_combined_forms_and_aliases():
    doc = extract(FIXTURES / "combined.py", "train")
    assert doc.data == {
        "required_integrations": ["pytorch", "evidently"],
        "requirements": "reqs/requirements.txt",
        "dockerignore_file": ".dockerignore",
        "base_image": "python:3.11-slim",
        "python_version": "3.11",
        "apt_packages": ["libgomp1", "git", "curl"],
        "environment": {"PYTHONUNBUFFERED": "1", "MODE": "train"},
        "user": "app",
        "workdir": "/app",
        "entrypoint": ["python", "-m", "app"],
        "command": ["--epochs", "3"],
        "labels": {"org.opencontainers.image.title": "combined"},
        "build_args": {"PIP_INDEX_URL": "https://pypi.org/simple"},
        "platform": "linux/amd64",
        "copy_source": True,
        "copy_stack": False,
        "installer": "pip",
        "installer_args": ["--no-cache-dir"],
    }
    # Elements of a constant point at the constant's definition; the argument at its use.
    assert doc.where(("apt_packages", 0)) == (9, 8)
    assert doc.where(("apt_packages", 2)) == (19, 25)
    assert doc.where(("labels",)) == (25, 12)
    assert doc.where(("labels", "org.opencontainers.image.title")) == (10, 45)
    assert doc.keys[("environment", "MODE")] == (20, 43)


def test_bare_call_of_module_attribute():
    doc = extract(FIXTURES / "combined.py", "evaluate")
    assert doc.data == {}
    assert doc.locations == {(): (37, 2)}


def test_bare_decorator(tmp_path):
    path = write(
        tmp_path,
        """
        from imagec import pipeline

        @pipeline
        def run():
            pass
        """,
    )
    doc = extract(path)
    assert doc.data == {}
    assert doc.pipeline == "run"


def test_other_import_spellings(tmp_path):
    path = write(
        tmp_path,
        """
        import imagec.integrations.constants
        import imagec.runtime as pm
        from imagec.integrations.constants import *

        BASE = ("numpy>=1.26",)
        REQS = [*BASE, "scipy"] + ["pandas"]
        VERSION = "2.1"
        NEG = -3

        @pm.pipeline(
            required_integrations={SKLEARN, imagec.integrations.constants.XGBOOST, SKLEARN},
            requirements=REQS + [f"torch=={VERSION}.*"],
            labels={"n": f"{NEG:+d}", "r": f"{VERSION!r}"},
        )
        def fit():
            pass
        """,
    )
    doc = extract(path)
    assert doc.data == {
        "required_integrations": ["sklearn", "xgboost"],
        "requirements": ["numpy>=1.26", "scipy", "pandas", "torch==2.1.*"],
        "labels": {"n": "-3", "r": "'2.1'"},
    }
    assert doc.where(("requirements", 0)) == (5, 9)
    assert doc.where(("requirements", 2)) == (6, 28)
    assert doc.where(("requirements", 3)) == (12, 26)


def test_a_missing_dependency_does_not_matter():
    doc = extract(FIXTURES / "missing_dependency.py")
    assert doc.data == {"required_integrations": ["pytorch"], "requirements": ["torch>=2.0,<3"]}
    assert "torch_not_installed_here" not in sys.modules


def test_columns_count_characters_not_bytes(tmp_path):
    path = write(
        tmp_path,
        """
        from imagec import pipeline

        @pipeline(labels={"é": "ünïcode", "x": "y"})
        def run():
            pass
        """,
    )
    doc = extract(path)
    assert doc.where(("labels", "x")) == (3, 40)


# --- choosing a pipeline ---------------------------------------------------------------------


def test_pick_by_name():
    assert extract(FIXTURES / "several.py", "train").data == {"requirements": ["torch"]}
    assert extract(FIXTURES / "several.py", "ingest").data == {"requirements": ["pandas"]}


def test_several_pipelines_without_a_name():
    path = FIXTURES / "several.py"
    assert error(path) == (
        f"{path}: 2 pipelines in this file: ingest (line 4), train (line 13); "
        f"choose one with {path}:NAME"
    )


def test_unknown_name_suggests():
    path = FIXTURES / "several.py"
    assert error(path, "trian") == f"{path}: no pipeline named 'trian' (did you mean 'train'?)"
    assert error(path, "zzz") == (
        f"{path}: no pipeline named 'zzz'; pipelines in this file: ingest, train"
    )


def test_named_function_without_decorator():
    path = FIXTURES / "several.py"
    assert error(path, "helper") == f"{path}:9: function 'helper' is not decorated with @pipeline"


def test_no_pipeline(tmp_path):
    path = write(tmp_path, "def run():\n    pass\n")
    assert error(path) == f"{path}: no function decorated with @pipeline in this file"


def test_pipeline_decorator_from_another_library(tmp_path):
    path = write(
        tmp_path,
        """
        from somewhere import pipeline

        @pipeline(requirements=["x"])
        def run():
            pass
        """,
    )
    assert error(path) == (
        f"{path}:3: no function decorated with @pipeline in this file; '@pipeline' is not "
        "imagec's pipeline (import it with 'from imagec import pipeline')"
    )


def test_decorated_twice(tmp_path):
    path = write(
        tmp_path,
        """
        from imagec import pipeline

        @pipeline
        @pipeline(requirements=[])
        def run():
            pass
        """,
    )
    assert error(path) == f"{path}:4:2: 'run' is decorated with @pipeline more than once"


# --- what cannot be read statically ----------------------------------------------------------

HINT = "(use literals or module-level constants, or compile with --import)"


def test_function_call_argument():
    path = FIXTURES / "dynamic.py"
    assert error(path) == (
        f"{path}:13:18: requirements: can't be read without running the file: "
        f"'load_requirements(...)' is a function call {HINT}"
    )


@pytest.mark.parametrize(
    ("setup", "argument", "column", "reason"),
    [
        ("", "[os.environ['REQS']]", 25, "'os.environ['REQS']' is not a literal"),
        ("", "[os.sep]", 25, "'os.sep' is an attribute of another module"),
        ("", "[UNDEFINED]", 25, "'UNDEFINED' is not defined in this file"),
        ("from other import REQS", "REQS", 24, "'REQS' is imported from 'other'"),
        ("REQS = []\nREQS = ['x']", "REQS", 24, "'REQS' is assigned more than once (lines 3, 4)"),
        ("for REQS in [[]]: pass", "REQS", 24, "'REQS' is not a module-level constant"),
        ("", "[x for x in 'ab']", 24, "'[x for x in 'ab']' is not a literal"),
        ("BASE = {}", "{**BASE}", 27, "'**BASE' unpacks a mapping"),
        ("R = 'x'", "[*R]", 25, "'*R' is not a list"),
        ("A = B\nB = ['x']", "A", 24, "'B' is assigned after 'A' (line 4)"),
        ("A = B\nB = A", "A", 24, "'B' is assigned after 'A' (line 4)"),
        ("def f(): ...", "f", 24, "'f' is not a module-level constant"),
    ],
)
def test_non_static_arguments(tmp_path, setup, argument, column, reason):
    path = write(
        tmp_path,
        f"import os\nfrom imagec import pipeline\n{setup}\n"
        f"@pipeline(requirements={argument})\ndef run():\n    pass\n",
    )
    line = 4 + setup.count("\n")
    # An error inside a constant's definition points there, not at the decorator.
    if reason.startswith("'B'"):
        line, column = 3, 5
    assert error(path) == (
        f"{path}:{line}:{column}: requirements: can't be read without running the file: "
        f"{reason} {HINT}"
    )


def test_constant_assigned_after_the_pipeline(tmp_path):
    path = write(
        tmp_path,
        """
        from imagec import pipeline

        @pipeline(requirements=REQS)
        def run():
            pass

        REQS = ["torch"]
        """,
    )
    assert error(path) == (
        f"{path}:3:24: requirements: can't be read without running the file: "
        f"'REQS' is assigned after the pipeline (line 7) {HINT}"
    )


def test_constant_changed_by_global_statement(tmp_path):
    path = write(
        tmp_path,
        """
        from imagec import pipeline

        REQS = ["torch"]

        def change():
            global REQS
            REQS = []

        @pipeline(requirements=REQS)
        def run():
            pass
        """,
    )
    assert error(path) == (
        f"{path}:9:24: requirements: can't be read without running the file: "
        f"'REQS' is reassigned through 'global REQS' in a function {HINT}"
    )


def test_keyword_unpacking(tmp_path):
    path = write(
        tmp_path,
        """
        from imagec import pipeline

        SPEC = {"requirements": ["torch"]}

        @pipeline(**SPEC)
        def run():
            pass
        """,
    )
    assert error(path) == (
        f"{path}:5:11: '**SPEC' can't be read without running the file; use literals or "
        "module-level constants, or compile with --import"
    )


def test_positional_argument(tmp_path):
    path = write(
        tmp_path,
        """
        from imagec import pipeline

        @pipeline("python:3.11")
        def run():
            pass
        """,
    )
    assert error(path) == (
        f"{path}:3:11: positional arguments are not supported; pass spec fields as keywords, "
        "e.g. @pipeline(requirements=[...])"
    )


def test_repeated_keyword(tmp_path):
    path = write(
        tmp_path,
        """
        from imagec import pipeline

        @pipeline(user="a", user="b")
        def run():
            pass
        """,
    )
    assert error(path) == f"{path}:3:21: user: is given more than once"


def test_mismatched_concatenation(tmp_path):
    path = write(
        tmp_path,
        """
        from imagec import pipeline

        @pipeline(requirements=["a"] + "b")
        def run():
            pass
        """,
    )
    assert error(path) == f"{path}:3:24: requirements: '+' of list and str is not supported"


def test_unknown_integration_constant(tmp_path):
    path = write(
        tmp_path,
        """
        from imagec import pipeline
        from imagec.integrations.constants import PYTOCH

        @pipeline(required_integrations=[PYTOCH])
        def run():
            pass
        """,
    )
    assert error(path) == (
        f"{path}:2:43: 'PYTOCH' is not in imagec.integrations.constants (did you mean 'PYTORCH'?)"
    )


# --- unreadable files ------------------------------------------------------------------------


def test_syntax_error(tmp_path):
    path = write(
        tmp_path,
        """
        from imagec import pipeline

        @pipeline(requirements=["torch"]
        def run():
            pass
        """,
    )
    assert error(path) == f"{path}:3:10: invalid Python syntax: '(' was never closed"


def test_null_bytes(tmp_path):
    path = tmp_path / "pipe.py"
    path.write_bytes(b"x = 1\0\n")
    assert error(path) == (
        f"{path}: invalid Python syntax: source code string cannot contain null bytes"
    )


def test_missing_file(tmp_path):
    assert error(tmp_path / "nope.py") == f"{tmp_path / 'nope.py'}: Python file not found"


def test_directory(tmp_path):
    assert error(tmp_path) == f"{tmp_path}: is a directory, expected a Python file"


def test_nothing_is_imported_or_run(tmp_path):
    marker = tmp_path / "ran"
    path = write(
        tmp_path,
        f"""
        import pathlib
        pathlib.Path({str(marker)!r}).write_text("ran")
        from imagec import pipeline

        @pipeline(requirements=["x"])
        def run():
            pass
        """,
    )
    assert extract(path).data == {"requirements": ["x"]}
    assert not marker.exists()


def test_the_example_pipeline():
    example = Path(__file__).parent.parent.parent / "examples" / "pipeline"
    doc = extract(example / "pipeline.py")
    assert doc.pipeline == "churn_pipeline"
    assert doc.data == {
        "required_integrations": ["pytorch", "evidently"],
        "requirements": "requirements.txt",
        "dockerignore_file": ".dockerignore",
        "base_image": "python:3.11-slim",
        "python_version": "3.11",
        "environment": {"PYTHONUNBUFFERED": "1", "CHURN_EPOCHS": "20"},
    }
    from imagec.resolve.requirements import read_requirements_file

    lines = read_requirements_file(Path(doc.data["requirements"]), base_dir=doc.directory)
    assert [line.text for line in lines] == [
        "pandas>=2.0,<3",
        "pyarrow>=14",
        'scikit-learn>=1.3,<2 ; python_version >= "3.9"',
    ]
    ignore = (doc.directory / doc.data["dockerignore_file"]).read_text().splitlines()
    assert "data" in ignore and "!data/schema.json" in ignore
