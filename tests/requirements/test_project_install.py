"""Installing the project itself: a switch that, after the source copy, installs the source root
as a package (--no-deps); `-e .` in a requirement source maps to it with a hint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import run_imagec


def project(tmp_path: Path, spec: str, requirements: str | None = None) -> Path:
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "mypkg"\nversion = "1.0"\n')
    if requirements is not None:
        (tmp_path / "requirements.txt").write_text(requirements)
    (tmp_path / "imagec.yaml").write_text(spec)
    return tmp_path / "imagec.yaml"


def steps(spec: Path) -> tuple[list[dict], str]:
    result = run_imagec("ir", str(spec))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["steps"], result.stderr


def project_step(plan: list[dict]) -> int:
    """The step that installs the project: the first after the source copy that ends with
    ``--no-deps .`` (with uv, the uv bootstrap may come between)."""
    copy = next(i for i, s in enumerate(plan) if s["kind"] == "copy" and s["sources"] == ["src/"])
    return next(
        i for i, s in enumerate(plan) if i > copy and s.get("argv", [])[-2:] == ["--no-deps", "."]
    )


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_the_switch_installs_the_source_root_after_the_copy(tmp_path: Path, installer) -> None:
    spec = project(tmp_path, f"installer: {installer}\ninstall_project: true\n")
    plan, _ = steps(spec)
    run = plan[project_step(plan)]
    expected = {
        "uv": ["python", "-m", "uv", "pip", "install", "--system"],
        "pip": ["python", "-m", "pip", "install"],
    }[installer]
    assert run["argv"][: len(expected)] == expected
    assert run["argv"][-2:] == ["--no-deps", "."]
    assert run["origin"]["field"] == "install_project"
    if installer == "uv":  # no requirements: uv is bootstrapped for this step, just before
        assert "uv==" in plan[project_step(plan) - 1]["argv"][-1]


def test_dash_e_dot_in_a_file_maps_to_it_with_a_hint(tmp_path: Path) -> None:
    spec = project(tmp_path, "requirements: requirements.txt\n", "-e .\nsix\n")
    plan, stderr = steps(spec)
    assert plan[project_step(plan)]["argv"][-2:] == ["--no-deps", "."]
    assert "imagec: hint: " in stderr and "'-e .' installs the source root" in stderr
    result = run_imagec("ir", str(spec))
    files = json.loads(result.stdout)["files"]
    content = next(f["content"] for f in files if f["path"].endswith("1-file.txt"))
    assert "-e" not in content and "six" in content


def test_dash_e_dot_in_the_list_maps_to_it(tmp_path: Path) -> None:
    spec = project(tmp_path, "requirements: ['-e .', six]\n")
    plan, stderr = steps(spec)
    assert plan[project_step(plan)]["argv"][-2:] == ["--no-deps", "."]
    assert "'-e .' installs the source root" in stderr


@pytest.mark.parametrize(
    ("spec", "requirements", "message"),
    [
        ("requirements: ['-e ./mypkg']\n", None, "only the source root itself ('-e .')"),
        ("requirements: requirements.txt\n", "-e ./mypkg\n", "editable installs need"),
        ("install_project: true\ncopy_source: false\n", None, "set copy_source: true"),
    ],
)
def test_what_cannot_be_installed_is_an_error(
    tmp_path: Path, spec: str, requirements: str | None, message: str
) -> None:
    result = run_imagec("compile", str(project(tmp_path, spec, requirements)))
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_a_source_root_without_project_metadata_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "imagec.yaml").write_text("install_project: true\n")
    result = run_imagec("compile", str(tmp_path / "imagec.yaml"))
    assert result.returncode == 2
    assert "imagec.yaml:1:18: install_project: the source root" in result.stderr
    assert "has no pyproject.toml or setup.py to install" in result.stderr
