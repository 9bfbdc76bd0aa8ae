"""What a test session leaves in an engine's store, and clearing it.

At the end of a session an engine's store must hold the base images and nothing else: no
image a test tagged, no untagged layer of a failed or interrupted build, no container
(buildah's working containers included), no build cache. :func:`clear_store` removes
everything else and says what it found, so the session can report it (``tests/conftest.py``).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field

from support.engines import Engine


@dataclass
class Leftovers:
    """What one engine's store held at the end of a session besides its base images."""

    engine: str
    #: ``<id> <tags>`` of images some test tagged and did not remove: a test's bug.
    tagged: list[str] = field(default_factory=list)
    #: Untagged images (layers of builds that failed, were interrupted or were replaced).
    untagged: int = 0
    #: Images that were there before the session started (not its own; removed as well).
    earlier: int = 0
    containers: list[str] = field(default_factory=list)
    #: podman's manifest lists some test named and did not remove (the API does not list them).
    lists: list[str] = field(default_factory=list)
    #: Images still there after clearing (should never happen).
    stuck: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.tagged
            or self.untagged
            or self.earlier
            or self.containers
            or self.lists
            or self.stuck
        )

    def describe(self) -> str:
        parts = []
        if self.tagged:
            parts.append(f"{len(self.tagged)} tagged image(s): {'; '.join(self.tagged)}")
        if self.untagged:
            parts.append(f"{self.untagged} untagged image(s)")
        if self.earlier:
            parts.append(f"{self.earlier} image(s) from before this session")
        if self.containers:
            parts.append(f"{len(self.containers)} container(s): {', '.join(self.containers)}")
        if self.lists:
            parts.append(f"{len(self.lists)} manifest list(s): {', '.join(self.lists)}")
        if self.stuck:
            parts.append(f"NOT REMOVABLE: {'; '.join(self.stuck)}")
        return f"{self.engine}: " + ", ".join(parts)


def _images(engine: Engine, keep_ids: set[str]) -> list[tuple[str, list[str]]]:
    """(id, tags) of every image, intermediate ones included, except ``keep_ids``."""
    listed = engine.docker_client().api.images(all=True)
    out = []
    for image in listed:
        image_id = image["Id"]
        tags = [t for t in image.get("RepoTags") or [] if t != "<none>:<none>"]
        if image_id not in keep_ids:
            out.append((image_id, tags))
    return out


def _remove_containers(engine: Engine) -> list[str]:
    client = engine.docker_client()
    names = []
    for container in client.containers.list(all=True):
        names.append(container.name)
        with contextlib.suppress(Exception):
            container.remove(force=True)
    if engine.kind == "podman" and shutil.which("buildah"):
        # buildah's working containers (also those of podman builds) are not in the API.
        external = engine.podman("ps", "--all", "--external", "--format", "{{.Names}}")
        found = [n for n in external.stdout.split() if n not in names]
        if found:
            names += found
            subprocess.run(
                ["buildah", "rm", "--all"], env=engine.cli_env(), capture_output=True, check=False
            )
    return names


def _remove_manifest_lists(engine: Engine) -> list[str]:
    """podman's manifest lists, removed with ``podman manifest rm``: the Docker-compatible API
    neither lists them nor removes them (removing a list's name there removes this machine's
    platform's image instead)."""
    if engine.kind != "podman":
        return []
    listed = engine.podman("images", "--format", "json")
    api_ids = image_ids(engine)
    names = [
        name
        for image in json.loads(listed.stdout or "[]")
        if f"sha256:{image['Id']}" not in api_ids
        for name in image.get("Names") or []
    ]
    found = [name for name in names if engine.podman("manifest", "exists", name).returncode == 0]
    for name in found:
        engine.podman("manifest", "rm", name)
    return found


def image_ids(engine: Engine) -> set[str]:
    """Every image in the store, intermediate ones included."""
    return {image["Id"] for image in engine.docker_client().api.images(all=True)}


def clear_store(engine: Engine, keep: Iterable[str], earlier: set[str]) -> Leftovers:
    """Remove every container and every image but ``keep`` (references) from ``engine``,
    after the images the session meant to keep until now (``Engine.session_images``).
    ``earlier``: the image ids the store held when the session started."""
    import docker.errors

    client = engine.docker_client()
    for ref in reversed(engine.session_images):
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            client.images.remove(ref, force=True)
    keep_ids = set()
    for ref in keep:
        with contextlib.suppress(docker.errors.ImageNotFound):
            keep_ids.add(client.images.get(ref).id)
    found = Leftovers(engine.kind)
    found.containers = _remove_containers(engine)
    found.lists = _remove_manifest_lists(engine)
    images = _images(engine, keep_ids)
    found.earlier = sum(1 for image_id, _ in images if image_id in earlier)
    images = [(image_id, tags) for image_id, tags in images if image_id not in earlier]
    found.tagged = [f"{image_id[7:19]} {' '.join(tags)}" for image_id, tags in images if tags]
    found.untagged = sum(1 for _, tags in images if not tags)
    # Tagged images first: removing one also removes its untagged parents.
    for _ in range(3):
        images = sorted(_images(engine, keep_ids), key=lambda item: not item[1])
        if not images:
            break
        for image_id, _tags in images:
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                client.images.remove(image_id, force=True)
    found.stuck = [f"{i[7:19]} {' '.join(t)}".strip() for i, t in _images(engine, keep_ids)]
    if engine.kind == "docker":
        # BuildKit's cache, RUN --mount=type=cache directories included: a pip cache kept
        # for the next session would let it skip what a test means to run.
        with contextlib.suppress(docker.errors.APIError):
            client.api.prune_builds()
    return found
