"""Replicating the local environment: the environment imagec runs in, frozen into a requirement
source, leaving out imagec, its backends, installers and editable or local installs."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from support.cli import run_imagec
from support.package_index import write_probe_wheel

from imagec.resolve.requirements.environment import freeze


def installed(tmp_path: Path) -> Path:
    """A real install (pip --target) of probe wheels, some then marked as pip marks installs
    from a VCS, an editable checkout and a local file (PEP 610 direct_url.json)."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    names = ["probe-a", "probe-vcs", "probe-editable", "probe-local", "setuptools", "imagec"]
    for name in names:
        write_probe_wheel(wheels, name, "1.0" if name != "probe-a" else "2.3")
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--find-links",
         str(wheels), "--target", str(target), *names],
        check=True, capture_output=True,
    )  # fmt: skip
    direct = {
        "probe_vcs": {
            "url": "https://github.com/org/probe-vcs",
            "vcs_info": {"vcs": "git", "commit_id": "0123abc"},
        },
        "probe_editable": {"url": "file:///home/me/probe", "dir_info": {"editable": True}},
        "probe_local": {"url": "file:///home/me/probe_local-1.0.tar.gz", "archive_info": {}},
    }
    for module, data in direct.items():
        (target / f"{module}-1.0.dist-info" / "direct_url.json").write_text(json.dumps(data))
    return target


def test_freeze_reads_the_installed_metadata(tmp_path: Path) -> None:
    frozen = freeze([str(installed(tmp_path))])
    assert frozen.requirements == (
        "probe-a==2.3",
        "probe-vcs @ git+https://github.com/org/probe-vcs@0123abc",
    )
    reasons = dict(item.split(": ", 1) for item in frozen.left_out)
    assert set(reasons) == {"imagec", "probe-editable", "probe-local", "setuptools"}
    assert "editable" in reasons["probe-editable"]
    assert "local directory or file" in reasons["probe-local"]
    assert "installer or build tool" in reasons["setuptools"]


def test_the_running_environment_is_a_layer_before_the_users(tmp_path: Path) -> None:
    spec = tmp_path / "imagec.yaml"
    spec.write_text(
        "replicate_local_python_environment: true\nrequired_integrations: [pytorch]\n"
        "requirements: [packaging==20.0]\n"
    )
    result = run_imagec("ir", str(spec))
    assert result.returncode == 0, result.stderr
    files = {
        f["path"].rsplit("/", 1)[1]: f["content"]
        for f in json.loads(result.stdout)["files"]
        if "requirements/" in f["path"]
    }
    assert list(files) == ["1-integrations.txt", "2-environment.txt", "3-list.txt"]
    env = files["2-environment.txt"]
    # What this environment has, at its versions; never imagec, its backends or installers.
    assert f"pydantic=={metadata.version('pydantic')}\n" in env
    for name in ("imagec", "imagec-docker", "pip", "setuptools", "uv"):
        assert f"\n{name}==" not in env
    assert "left out: " in env.splitlines()[1] and "imagec" in env.splitlines()[1]
    # The user's pin still wins over the frozen one.
    assert "\npackaging==20.0\n" in env
    assert f"\npackaging=={metadata.version('packaging')}\n" not in env
