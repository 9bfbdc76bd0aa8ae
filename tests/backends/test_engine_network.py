"""An engine without a bridge network (``dockerd --bridge=none``, as the tests and the
README's "Get an engine" start it): RUN steps get the host's network, and the build says so."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support.containers import remove_image
from support.engines import Engine

from imagec.backend.engine import rawhttp
from imagec.backend.engine.flow import NO_BRIDGE_NOTE


def test_raw_checks_against_a_real_engine(docker_engine: Engine, docker_images) -> None:
    url = docker_engine.url
    assert rawhttp.has_network(url, "bridge") is False  # --bridge=none
    assert rawhttp.has_network(url, "host") is True
    found = rawhttp.image_labels(url, docker_images.python)
    assert isinstance(found, tuple) and found[0].startswith("sha256:")
    assert rawhttp.image_labels(url, "imagec-test/no-such-image:1") is False
    assert rawhttp.image_labels(f"unix://{docker_engine.socket}.missing", "x") is None
    assert rawhttp.image_labels("tcp://127.0.0.1:1", "x") is None  # not spoken: SDK path


def test_build_uses_the_host_network_when_the_engine_has_no_bridge(
    docker_engine: Engine, docker_images, tmp_path: Path
) -> None:
    # pip reaches PyPI from a RUN step: without a network this fails with name resolution.
    (tmp_path / "imagec.yaml").write_text(
        f'python_version: "3.11"\nbase_image: {docker_images.python}\n'
        "requirements: [six==1.16.0]\ncopy_stack: false\ninstall_imagec: false\n"
        "image_name: imagec-test/network\n"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "imagec",
            "build",
            str(tmp_path),
            "--backend",
            "docker",
            "--url",
            docker_engine.url,
            "--force",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        assert out.returncode == 0, out.stderr[-3000:]
        note = NO_BRIDGE_NOTE.format(engine="docker", url=docker_engine.url)
        assert note in out.stderr
    finally:
        for line in out.stdout.splitlines():  # "built: sha256:... TAG"
            if line.startswith("built: "):
                remove_image(docker_engine, line.split()[1], force=True)
