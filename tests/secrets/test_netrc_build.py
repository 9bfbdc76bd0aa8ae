"""A netrc build secret: the spec names the private index by its plain URL, the credentials
come from a netrc mounted into the install steps only. Real builds on both engines against a
real index on loopback that refuses requests without basic auth."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from support.baseimages import BaseImages
from support.builds import BUILT
from support.cli import run_imagec
from support.containers import TEST_REPOSITORY, run_container
from support.engines import Engine
from support.package_index import PackageIndex, write_probe_wheel

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
        "installer: pip\n"
        "install_imagec: false\n"
        "copy_source: false\n"
        "copy_stack: false\n"
        "install_stack_requirements: false\n"
        f"index_url: {index_url}\n"
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

        result = run_imagec(
            "build", str(spec), "--backend", engine.kind, "--url", engine.url,
            "-O", "network=host", "--secret", f"id=netrc,src={netrc}",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        tag = BUILT.match(result.stdout.strip()).group(3).split()[0]
        engine.keep_until_stop(tag)
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
