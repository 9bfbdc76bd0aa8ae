"""Manifest lists through libpod's API: a multi-platform build's list, its reuse check, push.

A build for several platforms is ``POST /libpod/build`` with one ``platform`` parameter per
platform (the handler reads a list: ``platform=linux/amd64&platform=linux/arm64``) and
``manifest=NAME``: buildah builds each platform, then adds each image to the list ``NAME``
(to the one already there under that name, if any) and reports the list's id. So ``NAME``
is a fresh staging name, dropped once the flow has tagged the list with the content-hash
tag (``DELETE /libpod/manifests/NAME`` of a list with other names only untags it).

Looking the list up as an image (``GET /libpod/images/NAME/json``) gives the image of this
machine's platform; the reuse check reads the list (``GET /libpod/manifests/NAME/json``,
after ``.../exists``, as inspecting a name that is no local list asks a registry) and each
image's labels by digest (``localhost/imagec@sha256:...``: libimage matches a digest against
every image's recorded digests, whatever the name).

Pushing a list is ``POST /libpod/manifests/NAME/registry/DEST?all=true`` (``podman manifest
push --all``): each image, then the list. ``quiet=false`` streams ``{"stream": ...}`` lines
and ends with ``{"Id": digest}`` or ``{"error": ...}``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from imagec.backend.engine.platforms import normal, platform_of
from imagec.backend.engine.session import ImageInfo

#: Staging names of lists being built; ``localhost/`` so no registry is ever asked for one.
STAGING_REPOSITORY = "localhost/imagec-manifest-staging"
#: Any complete name does for a lookup by digest (see the module's docstring).
DIGEST_LOOKUP = "localhost/imagec"


def staging_name() -> str:
    return f"{STAGING_REPOSITORY}:{uuid.uuid4().hex}"


def build_query(platforms: tuple[str, ...], staging: str) -> dict[str, Any]:
    """The build parameters of a multi-platform build (requests repeats a list's key)."""
    return {"platform": list(platforms), "manifest": staging}


def _path(name: str) -> str:
    return quote(name, safe="")


def is_list(api: Any, ref: str) -> bool:
    return bool(api.get(f"/manifests/{_path(ref)}/exists").ok)


def drop_name(api: Any, name: str) -> None:
    """Remove ``name`` from the list it names (the list goes too if it has no other name)."""
    response = api.delete(f"/manifests/{_path(name)}")
    if response.status_code != 404:
        response.raise_for_status()


def list_info(api: Any, ref: str, platforms: tuple[str, ...]) -> ImageInfo | None:
    """The local list ``ref`` if it holds exactly ``platforms``, one image each: its id and
    the labels its images agree on (each base brings its own; imagec's are the same)."""
    if not is_list(api, ref):
        return None
    response = api.get(f"/manifests/{_path(ref)}/json")
    response.raise_for_status()
    entries = response.json().get("manifests") or []
    found = {platform_of(entry): str(entry.get("digest") or "") for entry in entries}
    if len(found) != len(entries) or set(found) != {normal(p) for p in platforms}:
        return None
    labels: dict[str, str] | None = None
    for digest in found.values():
        response = api.get(f"/images/{_path(f'{DIGEST_LOOKUP}@{digest}')}/json")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        these = (response.json().get("Config") or {}).get("Labels") or {}
        labels = dict(these) if labels is None else dict(labels.items() & these.items())
    found_id = list_id(api, ref)
    if found_id is None or labels is None:
        return None
    return ImageInfo(found_id, labels)


def list_id(api: Any, ref: str) -> str | None:
    """The list's own id (an image lookup would give its image for this platform)."""
    filters = json.dumps({"reference": [ref]})
    response = api.get("/images/json", params={"filters": filters})
    response.raise_for_status()
    for image in response.json():
        image_id = str(image.get("Id") or "")
        if islist_id(api, image_id):
            return image_id if image_id.startswith("sha256:") else f"sha256:{image_id}"
    return None


def islist_id(api: Any, image_id: str) -> bool:
    return bool(image_id) and is_list(api, image_id.removeprefix("sha256:"))


def push(api: Any, ref: str, auth_header: str) -> Iterator[dict[str, Any]]:
    """Push the list ``ref`` and every image in it to where ``ref`` names."""
    response = api.post(
        f"/manifests/{_path(ref)}/registry/{_path(ref)}",
        params={"all": True, "quiet": False},
        headers={"X-Registry-Auth": auth_header} if auth_header else {},
        stream=True,
    )
    try:
        response.raise_for_status()
        for line in response.iter_lines():
            if line:
                yield json.loads(line)
    finally:
        response.close()
