"""A netrc build secret: the spec names the private index by its plain URL, the credentials
come from a netrc mounted into the install steps only. Real builds on both engines against a
real index on loopback that refuses requests without basic auth."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from support.baseimages import BaseImages
from support.builds import build_tagged
from support.cli import run_imagec
from support.containers import TEST_REPOSITORY, run_container
from support.engines import Engine
from support.package_index import PackageIndex, write_probe_wheel
from support.projects import INSTALL_ONLY

pytestmark = pytest.mark.engine

# A name of this run's own: a secret's content is not part of a layer's cache key, so a name
# built in an earlier session would come from the layer cache without asking the index.
PROBE = f"probe-netrc-{uuid.uuid4().hex[:8]}"


def write_spec(directory: Path, index_url: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    spec = directory / "imagec.yaml"
    spec.write_text(
        f"image_name: {TEST_REPOSITORY}/netrc-{uuid.uuid4().hex[:8]}\n"
        "base_image: python:3.11-slim\n"
        "installer: pip\n" + INSTALL_ONLY + f"index_url: {index_url}\n"
        "secrets:\n"
        "  - id: netrc\n"
        "    kind: netrc\n"
        "    description: credentials for the private index\n"
        f"requirements: [{PROBE}]\n"
    )
    return spec


def test_netrc_secret_authenticates_the_index_and_leaves_no_trace(
    engine: Engine, engine_images: BaseImages, tmp_path: Path
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_probe_wheel(wheels, PROBE)
    password = f"tok{uuid.uuid4().hex}"
    with PackageIndex(wheels, user="ci", password=password) as index:
        spec = write_spec(tmp_path / "project", index.url)
        netrc = tmp_path / "netrc"
        netrc.write_text(f"machine 127.0.0.1 login ci password {password}\n")

        # Without the secret the build stops before the engine, naming it.
        missing = run_imagec(
            "build", str(spec), "--backend", engine.kind, "--url", engine.url,
            "-O", "network=host",
        )  # fmt: skip
        assert missing.returncode == 2
        assert "secret 'netrc'" in missing.stderr and "is not supplied" in missing.stderr
        assert index.downloads() == []

        result, tag = build_tagged(engine, str(spec), "--secret", f"id=netrc,src={netrc}")
        # The index answers only authenticated requests, so a download proves the netrc was read.
        assert f"{PROBE.replace('-', '_')}-1.0-py3-none-any.whl" in index.downloads()

    ran = run_container(
        engine, tag, ["python", "-c", f"import {PROBE.replace('-', '_')} as m; print(m.VALUE)"]
    )
    assert ran.stdout.strip() == f"{PROBE} 1.0"
    # The netrc was a mount of the install step only: not in the image, its history or the log.
    listed = run_container(engine, tag, ["sh", "-c", "ls -a /root; cat /root/.netrc 2>&1 || :"])
    assert password not in listed.stdout and ".netrc" not in listed.stdout.split()
    image = engine.docker_client().images.get(tag)
    assert password not in str(image.history()) + str(image.attrs)
    assert password not in result.stdout + result.stderr


# A project with an in-tree build backend (no build requirements, so the build needs nothing
# from an index): what `pip install NAME @ git+URL` clones and builds.
BACKEND = """
import base64, hashlib, zipfile

NAME, VERSION = {name!r}, "1.0"
MODULE = NAME.replace("-", "_")


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    dist = f"{{MODULE}}-{{VERSION}}.dist-info"
    files = {{
        f"{{MODULE}}.py": f"VALUE = {{NAME + ' git'!r}}\\n",
        f"{{dist}}/METADATA": f"Metadata-Version: 2.1\\nName: {{NAME}}\\nVersion: {{VERSION}}\\n",
        f"{{dist}}/WHEEL": "Wheel-Version: 1.0\\nGenerator: probe\\nRoot-Is-Purelib: true\\n"
        "Tag: py3-none-any\\n",
    }}
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{{path}},sha256={{digest.decode()}},{{len(text.encode())}}")
    files[f"{{dist}}/RECORD"] = "\\n".join(record + [f"{{dist}}/RECORD,,"]) + "\\n"
    wheel = f"{{MODULE}}-{{VERSION}}-py3-none-any.whl"
    with zipfile.ZipFile(f"{{wheel_directory}}/{{wheel}}", "w") as out:
        for path, text in files.items():
            out.writestr(path, text)
    return wheel
"""


def make_git_repository(root: Path, name: str) -> Path:
    work = root / "work"
    work.mkdir(parents=True)
    (work / "backend.py").write_text(BACKEND.format(name=name))
    (work / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n\n'
        f'[project]\nname = "{name}"\nversion = "1.0"\n'
    )
    bare = root / "served" / f"{name}.git"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    for argv in (
        [*git, "init", "-q", str(work)],
        [*git, "-C", str(work), "add", "."],
        [*git, "-C", str(work), "commit", "-qm", "probe"],
        [*git, "clone", "-q", "--bare", str(work), str(bare)],
        [*git, "-C", str(bare), "update-server-info"],  # what the dumb protocol reads
    ):
        subprocess.run(argv, check=True, capture_output=True)
    return root / "served"


def test_netrc_secret_authenticates_a_git_dependency(
    engine: Engine, engine_images: BaseImages, tmp_path: Path
) -> None:
    name = f"probe-git-{uuid.uuid4().hex[:8]}"
    served = make_git_repository(tmp_path / "git", name)
    password = f"tok{uuid.uuid4().hex}"
    with PackageIndex(tmp_path, user="ci", password=password, git=served) as index:
        project = tmp_path / "project"
        project.mkdir()
        spec = project / "imagec.yaml"
        spec.write_text(
            f"image_name: {TEST_REPOSITORY}/netrc-git-{uuid.uuid4().hex[:8]}\n"
            "base_image: python:3.11-slim\n"
            "installer: pip\n"
            "install_imagec: false\n"
            "copy_source: false\n"
            "copy_stack: false\n"
            "install_stack_requirements: false\n"
            "apt_packages: [git]\n"
            "secrets:\n"
            "  - {id: netrc, kind: netrc, description: credentials for the git server}\n"
            f'requirements: ["{name} @ git+{index.git_url(name + ".git")}"]\n'
        )
        netrc = tmp_path / "netrc"
        netrc.write_text(f"machine 127.0.0.1 login ci password {password}\n")
        result, tag = build_tagged(engine, str(spec), "--secret", f"id=netrc,src={netrc}")
        # Every request the clone made was authenticated: the server refuses the others.
        assert any(path.startswith("/git/") and status == 200 for path, status in index.requests)

    module = name.replace("-", "_")
    ran = run_container(engine, tag, ["python", "-c", f"import {module} as m; print(m.VALUE)"])
    assert ran.stdout.strip() == f"{name} git"
    image = engine.docker_client().images.get(tag)
    assert password not in str(image.history()) + str(image.attrs)
    assert password not in result.stdout + result.stderr
