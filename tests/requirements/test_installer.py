"""uv is the default installer: pinned, installed by pip from the spec's index right before the
first step that runs it; pip stays selectable, and installs any file only pip reads."""

from __future__ import annotations

import json
from pathlib import Path

from support.cli import run_imagec

from imagec.plan.compiler import UV_REQUIREMENT


def runs(spec: Path) -> list[list[str]]:
    result = run_imagec("ir", str(spec))
    assert result.returncode == 0, result.stderr
    return [s["argv"] for s in json.loads(result.stdout)["steps"] if s["kind"] == "run"]


def test_uv_by_default_bootstrapped_once_before_the_first_install(tmp_path: Path) -> None:
    (tmp_path / "reqs.txt").write_text("pandas\n")
    spec = tmp_path / "imagec.yaml"
    spec.write_text(
        "install_imagec: false\nindex_url: https://mirror.example/simple\n"
        "requirements: [six, -r reqs.txt]\n"
    )
    argvs = runs(spec)
    at = next(i for i, a in enumerate(argvs) if UV_REQUIREMENT in a)
    bootstrap = argvs[at]
    # pip from the spec's own index, one binary wheel, nothing else.
    assert bootstrap[:4] == ["python", "-m", "pip", "install"]
    assert bootstrap[-4:] == ["--no-deps", "--only-binary", ":all:", UV_REQUIREMENT]
    # The mounted cache named: it wins over the image's PIP_NO_CACHE_DIR.
    assert bootstrap[4:6] == ["--cache-dir", "/root/.cache/pip"]
    assert bootstrap[6:8] == ["--index-url", "https://mirror.example/simple"]
    installs = [a for a in argvs if "-r" in a]
    assert len(installs) == 2 and all(
        a[:6] == ["python", "-m", "uv", "pip", "install", "--system"] for a in installs
    )
    assert argvs.index(installs[0]) == at + 1
    assert sum(UV_REQUIREMENT in a for a in argvs) == 1


def test_no_requirements_no_uv(tmp_path: Path) -> None:
    spec = tmp_path / "imagec.yaml"
    spec.write_text("install_imagec: false\n")
    assert not any(UV_REQUIREMENT in a for a in runs(spec))


def test_pip_is_still_selectable(tmp_path: Path) -> None:
    spec = tmp_path / "imagec.yaml"
    spec.write_text("installer: pip\nrequirements: [six]\n")
    argvs = runs(spec)
    assert not any(UV_REQUIREMENT in a or "uv" in a for a in argvs)
    assert any(a[:4] == ["python", "-m", "pip", "install"] and "-r" in a for a in argvs)


def test_a_file_only_pip_reads_is_installed_with_pip(tmp_path: Path) -> None:
    (tmp_path / "native.txt").write_text("pillow-simd==9.0.0.post3 --global-option=build_ext\n")
    spec = tmp_path / "imagec.yaml"
    spec.write_text("requirements: [six, -r native.txt]\n")
    result = run_imagec("ir", str(spec))
    plan = json.loads(result.stdout)
    argvs = [s["argv"] for s in plan["steps"] if s["kind"] == "run" and "-r" in s["argv"]]
    by_file = {a[a.index("-r") + 1].rsplit("/", 1)[1]: a for a in argvs}
    assert by_file["1-file.txt"][:4] == ["python", "-m", "pip", "install"]
    assert by_file["2-list.txt"][:4] == ["python", "-m", "uv", "pip"]
    content = next(f["content"] for f in plan["files"] if f["path"].endswith("1-file.txt"))
    assert "# Installed with pip: uv reads no per-requirement --global-option\n" in content


def test_a_source_with_nothing_to_install_runs_nothing(tmp_path: Path) -> None:
    (tmp_path / "reqs.txt").write_text("# nothing yet\n--pre\n")
    spec = tmp_path / "imagec.yaml"
    spec.write_text("install_imagec: false\nrequirements: [-r reqs.txt]\n")
    result = run_imagec("ir", str(spec))
    plan = json.loads(result.stdout)["steps"]
    # The file is still copied (its content is part of the image), but no installer runs,
    # so no uv is needed and a build needs no index.
    assert any(s["kind"] == "copy" and "1-file.txt" in s["sources"][0] for s in plan)
    assert not any("-r" in s.get("argv", []) or UV_REQUIREMENT in s.get("argv", []) for s in plan)


def test_uv_reads_the_system_ca_store_as_pip_does(tmp_path: Path) -> None:
    spec = tmp_path / "imagec.yaml"
    spec.write_text("requirements: [six]\n")
    install = next(a for a in runs(spec) if "-r" in a)
    assert install[:7] == ["python", "-m", "uv", "pip", "install", "--system", "--native-tls"]
