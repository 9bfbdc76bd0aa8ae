"""CI proof for third-party backends: the example buildah plugin, installed by pip from its
folder into a fresh virtual environment, works like a built-in backend and leaves nothing
behind when uninstalled."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from support.plugins import BUILDAH_PLUGIN, QUICKSTART
from support.venvs import Venv


def test_everything_runs_from_the_venv_not_the_checkout(plugin_venv: Venv):
    result = plugin_venv.python_run(
        "-c",
        "import imagec, imagec_containerfile, imagec_buildah\n"
        "for m in (imagec, imagec_containerfile, imagec_buildah): print(m.__file__)",
        cwd=plugin_venv.root,
    )
    assert result.returncode == 0, result.stderr
    for path in result.stdout.splitlines():
        assert Path(path).is_relative_to(plugin_venv.root), path


def test_listed_by_imagec_backends(plugin_venv: Venv):
    result = plugin_venv.imagec("backends")
    assert result.returncode == 0
    assert result.stderr == ""  # no plugin failed to load
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("buildah ")]
    assert "imagec-buildah 0.1.0" in line
    assert any(line.startswith("containerfile ") for line in result.stdout.splitlines())


def test_listed_by_imagec_backends_json(plugin_venv: Venv):
    result = plugin_venv.imagec("backends", "--json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert listing["failures"] == []
    (row,) = [row for row in listing["backends"] if row["name"] == "buildah"]
    assert row["distribution"] == "imagec-buildah"
    assert row["version"] == "0.1.0"
    assert row["output"] == "directory"
    assert row["ok"] is (shutil.which("buildah") is not None)
    assert set(row["options"]) == {"format", "squash", "pull", "comments"}
    assert row["options"]["format"]["enum"] == ["oci", "docker"]


def test_compiles_the_quickstart(plugin_venv: Venv, tmp_path: Path):
    result = plugin_venv.imagec("compile", str(QUICKSTART), "--backend", "buildah")
    assert result.returncode == 0, result.stderr
    script = result.stdout
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "ctr=$(buildah from --pull=missing " in script
    assert 'buildah commit --format=oci --rm "$ctr" "$image"' in script
    (tmp_path / "build.sh").write_text(script)
    subprocess.run(["bash", "-n", str(tmp_path / "build.sh")], check=True)


def test_options_are_validated(plugin_venv: Venv):
    ok = plugin_venv.imagec("compile", str(QUICKSTART), "--backend", "buildah", "-O", "format=oci")
    assert ok.returncode == 0, ok.stderr
    docker = plugin_venv.imagec(
        "compile", str(QUICKSTART), "--backend", "buildah", "-O", "format=docker", "-O", "squash=1"
    )
    assert "buildah commit --format=docker --squash" in docker.stdout

    bogus = plugin_venv.imagec("compile", str(QUICKSTART), "--backend", "buildah", "-O", "bogus=1")
    assert bogus.returncode == 2
    assert bogus.stdout == ""
    assert bogus.stderr == "imagec: error: --option bogus: unknown option for backend 'buildah'\n"

    bad = plugin_venv.imagec("compile", str(QUICKSTART), "--backend", "buildah", "-O", "format=tar")
    assert bad.returncode == 2
    assert bad.stderr == (
        "imagec: error: --option format: Input should be 'oci' or 'docker' for backend 'buildah'\n"
    )


def test_exports_a_directory_with_the_script(plugin_venv: Venv, tmp_path: Path):
    out = tmp_path / "out"
    result = plugin_venv.imagec("export", str(QUICKSTART), "--backend", "buildah", "-o", str(out))
    assert result.returncode == 0, result.stderr
    script = (out / "build.sh").read_text()
    assert script == plugin_venv.imagec("compile", str(QUICKSTART), "--backend", "buildah").stdout
    assert (out / "src" / "train.py").read_bytes() == (QUICKSTART / "train.py").read_bytes()


def test_the_plugins_own_tests_pass_against_the_installed_plugin(plugin_venv: Venv, tmp_path):
    # Run from elsewhere, so the tests import the installed package, not the source folder.
    result = plugin_venv.python_run(
        "-m", "pytest", "-q", "-p", "no:cacheprovider", str(BUILDAH_PLUGIN / "tests"), cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_imagec_keeps_working_after_pip_uninstall(plugin_venv: Venv):
    plugin_venv.pip("uninstall", "--yes", "imagec-buildah")
    try:
        listing = json.loads(plugin_venv.imagec("backends", "--json").stdout)
        assert "buildah" not in {row["name"] for row in listing["backends"]}
        assert "containerfile" in {row["name"] for row in listing["backends"]}
        assert listing["failures"] == []

        gone = plugin_venv.imagec("compile", str(QUICKSTART), "--backend", "buildah")
        assert gone.returncode == 2
        assert gone.stderr.startswith("imagec: error: --backend: unknown backend 'buildah'")

        still = plugin_venv.imagec("compile", str(QUICKSTART))
        assert still.returncode == 0, still.stderr
        assert still.stdout.startswith("# Containerfile generated by imagec")
    finally:
        # The venv is shared by this session's tests; put the plugin back.
        plugin_venv.install(BUILDAH_PLUGIN)
