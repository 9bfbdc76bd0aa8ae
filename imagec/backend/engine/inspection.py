"""``imagec inspect IMAGE --backend docker|podman``: what an image was built from, read
through the engine without running the image: its ``/etc/imagec/build.json`` plus labels."""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

from imagec.backend.engine.session import EngineSession
from imagec.errors import EngineError, SpecError
from imagec.runtime.buildinfo import BUILD_INFO


def inspect_image(session: EngineSession, ref: str) -> dict[str, Any]:
    image = session.image(ref)
    if image is None:
        raise EngineError(f"no image {ref!r} on the {session.engine} engine at {session.url}")
    archive = session.read_file(image.id, BUILD_INFO)
    if archive is None:
        raise SpecError(f"{ref} was not built by imagec (it has no {BUILD_INFO})")
    return {**json.loads(_only_file(archive)), "labels": image.labels, "id": image.id}


def _only_file(archive: bytes) -> bytes:
    """The one regular file of a tar stream (what the engines' archive endpoint returns)."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar:
            if member.isfile():
                data = tar.extractfile(member)
                if data is not None:
                    return data.read()
    raise SpecError(f"{BUILD_INFO} in the image is not a file")
