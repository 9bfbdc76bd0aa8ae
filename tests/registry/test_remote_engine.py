"""The docker backend against a remote dockerd: another network namespace, TLS on 2376 with
client certificates, reached through DOCKER_HOST / DOCKER_TLS_VERIFY / DOCKER_CERT_PATH, and
with none of the client's files (the context streams). And that engine going away mid-build.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.baseimages import ensure_base_images
from support.cli import cli_env, run_imagec
from support.containers import run_container
from support.projects import write_quickstart, write_sdist
from support.registry import TestCA
from support.remote import (
    Netns,
    RemoteDocker,
    SshServer,
    network_namespace,
    remote_dockerd,
    restart,
    ssh_server,
)

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this module's projects live: hidden from the remote engine."""
    return tmp_path_factory.mktemp("remote-projects")


@pytest.fixture(scope="module")
def netns() -> Iterator[Netns]:
    with network_namespace() as ns:
        yield ns


@pytest.fixture(scope="module")
def remote(netns: Netns, test_ca: TestCA, projects: Path) -> Iterator[RemoteDocker]:
    with remote_dockerd(netns, test_ca, hide=projects) as running:
        ensure_base_images(running.engine)
        yield running


def _has_tag(remote: RemoteDocker, ref: str) -> bool:
    import docker.errors

    try:
        remote.engine.docker_client().images.get(ref)
    except docker.errors.ImageNotFound:
        return False
    return True


def test_build_on_a_remote_dockerd_over_tls_streams_the_context(remote, projects):
    root = write_quickstart(projects / "quick")
    # The engine's namespace has no way out: pip from the base image, wheels from the
    # context; no imagec wheel (made from this checkout, which may change between builds).
    spec = root / "imagec.yaml"
    spec.write_text(spec.read_text() + "installer: pip\ninstall_imagec: false\n")
    assert not (projects / "quick").is_relative_to(remote.engine.store)
    # DOCKER_HOST alone chooses the docker backend; its TLS variables are docker's own.
    env = cli_env({**remote.environ, "XDG_CACHE_HOME": str(projects / "cache")})
    built = run_imagec("build", str(root / "imagec.yaml"), env=env)
    assert built.returncode == 0, built.stderr
    state, image_id, ref = built.stdout.split()
    assert state == "built:"
    try:
        image = remote.engine.docker_client().images.get(ref)
        assert image.id == image_id
        out = run_container(remote.engine, ref)
        assert out.stdout.startswith("trained "), out.stdout
        again = run_imagec("build", str(root / "imagec.yaml"), env=env)
        assert again.stdout == f"up to date: {image_id} {ref}\n"
    finally:
        remote.engine.docker_client().images.remove(ref, force=True)


SLOW_SPEC = """\
python_version: "3.11"
image_name: regtest/slow
requirements: ["slowpkg==1.0"]
find_links: [wheels]
installer_args: ["--no-index", "--no-build-isolation"]
installer: pip
installer_cache_mount: false
install_imagec: false
"""


def test_engine_gone_mid_build_is_one_line_and_leaves_nothing_tagged(
    remote, netns, test_ca, projects
):
    root = projects / "slow"
    root.mkdir()
    (root / "imagec.yaml").write_text(SLOW_SPEC)
    body = "import time\ntime.sleep(300)\n"
    write_sdist(root / "wheels", "slowpkg", body)
    env = cli_env({**remote.environ, "XDG_CACHE_HOME": str(projects / "cache")})
    proc = subprocess.Popen(
        [sys.executable, "-m", "imagec", "build", str(root / "imagec.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    seen: list[str] = []
    started = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            seen.append(line)
            if "Preparing metadata (setup.py): started" in line:  # pip hides its output
                started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert started.wait(240), "".join(seen)
        remote.kill()
        stdout, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(10)
    assert proc.returncode == 1, "".join(seen)
    assert stdout == ""
    errors = [line for line in seen if line.startswith("imagec: error:")]
    assert len(errors) == 1, "".join(seen)
    assert errors[0].startswith(
        f"imagec: error: the docker engine at {remote.engine.url} stopped answering during "
        "the build (at step "
    ), errors[0]
    assert errors[0].endswith("; nothing was tagged; build again once it is back\n")
    # Nothing tagged regtest/slow on the engine once it is back.
    restart(remote, netns, test_ca, projects)
    tags = [t for i in remote.engine.docker_client().images.list() for t in i.tags]
    assert not [t for t in tags if t.startswith("regtest/slow:")], tags


@pytest.fixture(scope="module")
def sshd(netns: Netns, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    with ssh_server(netns, tmp_path_factory.mktemp("sshd")) as server:
        yield server


def test_build_on_a_podman_service_over_ssh(sshd, podman_engine, podman_images, projects):
    """The test's podman service, reached only through sshd in the other namespace
    (``ssh://root@10.213.N.2/<socket>``, podman-py's ssh tunnel, CONTAINER_SSHKEY)."""
    root = write_quickstart(projects / "over-ssh")
    spec = root / "imagec.yaml"
    spec.write_text(
        spec.read_text() + "image_name: regtest/ssh\ninstaller: pip\ninstall_imagec: false\n"
    )
    url = f"ssh://root@{sshd.address}{podman_engine.socket}"
    env = cli_env(
        {
            "CONTAINER_HOST": url,  # alone, it chooses the podman backend
            "CONTAINER_SSHKEY": str(sshd.identity),
            "HOME": str(sshd.home),  # ssh's known_hosts: the test's, not the machine's
            "XDG_CACHE_HOME": str(projects / "cache"),
        }
    )
    built = run_imagec("build", str(spec), env=env)
    assert built.returncode == 0, built.stderr + sshd.log.read_text()
    state, image_id, ref = built.stdout.split()
    assert state == "built:"
    try:
        assert "Accepted publickey for root" in sshd.log.read_text()
        assert podman_engine.docker_client().images.get(ref).id == image_id
        again = run_imagec("build", str(spec), env=env)
        assert again.stdout == f"up to date: {image_id} {ref}\n", again.stderr
    finally:
        podman_engine.docker_client().images.remove(ref, force=True)
