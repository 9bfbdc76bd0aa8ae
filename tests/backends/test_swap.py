"""Swapping Docker for Podman: the same spec, built by each engine, gives the same image."""

from __future__ import annotations

import pytest
from support.baseimages import BaseImages
from support.builds import Builds
from support.engines import Engine
from support.image_probe import probe

pytestmark = pytest.mark.engine

CONFIG_KEYS = ("Env", "User", "WorkingDir", "Entrypoint", "Cmd")


@pytest.mark.parametrize("project", ["quickstart", "pipeline"])
def test_docker_and_podman_build_equivalent_images(
    project: str,
    docker_engine: Engine,
    podman_engine: Engine,
    docker_images: BaseImages,
    podman_images: BaseImages,
    builds: Builds,
) -> None:
    on_docker = builds.get(docker_engine, project)
    on_podman = builds.get(podman_engine, project)
    # One content hash, so one tag: swapping the engine does not rename the image.
    assert on_docker.tag == on_podman.tag
    inside_docker = probe(docker_engine, on_docker.tag)
    inside_podman = probe(podman_engine, on_podman.tag)

    # Same files with the same contents, modes and owners under the source and config paths.
    assert inside_docker["files"] == inside_podman["files"]
    assert inside_docker["packages"] == inside_podman["packages"]
    # podman's runtime adds these to every container; they are not in the image.
    for runtime_only in ("container", "TERM"):
        inside_podman["env"].pop(runtime_only, None)
    assert inside_docker["env"] == inside_podman["env"]
    assert inside_docker["user"] == inside_podman["user"]
    assert inside_docker["cwd"] == inside_podman["cwd"]

    config_docker = docker_engine.docker_client().images.get(on_docker.tag).attrs["Config"]
    config_podman = podman_engine.docker_client().images.get(on_podman.tag).attrs["Config"]
    for key in CONFIG_KEYS:
        want, got = config_docker.get(key), config_podman.get(key)
        if key == "Env":
            want, got = sorted(want or []), sorted(got or [])
        assert want == got, key
    labels_docker = config_docker.get("Labels") or {}
    labels_podman = config_podman.get("Labels") or {}
    for key in ("dev.imagec.version", "org.opencontainers.image.source", "team"):
        assert labels_docker.get(key) == labels_podman.get(key), key
