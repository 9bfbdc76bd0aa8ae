"""Podman's build and tag on its libpod API without podman-py (``rawsession``).

``imagec build`` on a ``unix://`` or plain ``tcp://`` service: the ping, the reuse check, the
build (``POST /libpod/build``, the context tar streamed in, its JSON log streamed out) and the
tags import neither podman-py nor requests. Several platforms (a manifest list,
``imagec_podman.manifests``), push, pull and the rest go to ``PodmanSession``, opened then.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, urlencode

from imagec.backend.engine.rawsession import RawSession
from imagec.backend.engine.refs import split_tag
from imagec.backend.engine.session import BuildParams
from imagec_podman.engine import build_query, with_secrets

# podman-py (>= 5) prefixes its libpod calls with its own version, "/v5.x.y/libpod"; the
# service takes any version there, and nothing these calls do depends on it.
LIBPOD = "/v5.0.0/libpod"


class PodmanRawSession(RawSession):
    manifest_lists = True  # as PodmanSession: a build for several platforms goes to it

    def build(self, body: Iterable[bytes], params: BuildParams) -> Iterator[dict[str, Any]]:
        if params.platform and "," in params.platform:
            return self.sdk.build(body, params)
        query = build_query(params)
        body = with_secrets(query, body, params)
        path = f"{LIBPOD}/build?{urlencode(query)}"
        return self.stream_json("build", path, body, "application/x-tar")

    def tag(self, image_id: str, ref: str) -> None:
        if self.sdk_opened:  # it built a manifest list, and drops its staging name once tagged
            self.sdk.tag(image_id, ref)
            return
        repo, tag = split_tag(ref)
        query = urlencode({"repo": repo, "tag": tag})
        path = f"{LIBPOD}/images/{quote(image_id, safe='')}/tag?{query}"
        self._call(f"tagging {ref}", "POST", path, absent_ok=False)
