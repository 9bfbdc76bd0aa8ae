"""The ``podman`` backend: builds the image with Podman through its API service: spoken
directly for the usual build on a ``unix://`` or ``tcp://`` service (``imagec_podman.raw``),
through the Podman SDK for the rest.

The service is found at ``--url``, else ``CONTAINER_HOST``, else the default socket
(rootful ``/run/podman/podman.sock``, rootless ``$XDG_RUNTIME_DIR/podman/podman.sock``). The
context sent is imagec's own (``Containerfile`` + generated files + the filtered source); the
flow -- reuse check, progress, labels, tags, push -- is ``imagec.enginebuild``'s, shared with
``docker``, so the same spec gives the same image on either engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from imagec.backend import Backend
from imagec.backend.base import Build, BuildRequest, BuildResult
from imagec.backend.engine.backend import EngineBackend, canonical
from imagec.plugins.hookspecs import hookimpl

if TYPE_CHECKING:
    from imagec.backend.engine.session import BuildParams

__all__ = ["PodmanBackend", "PodmanOptions"]


def __getattr__(name: str) -> Any:
    # ``from imagec_podman import PodmanOptions`` keeps working; pydantic loads on first use.
    if name == "PodmanOptions":
        from imagec_podman.options import PodmanOptions

        return PodmanOptions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class PodmanBackend(EngineBackend):
    name = "podman"
    description = "image built by Podman through its API service (CONTAINER_HOST, or --url)"
    build_file = "Containerfile"
    options_model = "imagec_podman.options:PodmanOptions"
    engine_module = "imagec_podman.engine"

    def build(self, build: Build, request: BuildRequest) -> BuildResult:
        from imagec.backend.engine.flow import run_build
        from imagec.backend.engine.platforms import check_several, target_platforms

        # Several platforms build a manifest list; what cannot is refused before connecting.
        check_several(build, target_platforms(build, request))
        # The usual calls on the API directly (imagec_podman.raw), the rest on podman-py.
        with self.engine().build_session(self.url) as session:
            engine_build = canonical(build, self)
            if build.parent is not None:
                from imagec.backend.engine.parent import ensure_parent

                ensure_parent(session, engine_build, request, network=self.options.network)
            with_secrets = SecretsSession(session, dict(request.secrets))
            return run_build(with_secrets, engine_build, request, network=self.options.network)


class SecretsSession:
    """The session, its builds given the build's secrets (buildah mounts them itself)."""

    def __init__(self, inner: Any, secrets: dict[str, str]) -> None:
        self._inner = inner
        self._secrets = secrets
        self.engine = inner.engine
        self.url = inner.url

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def build(self, body: Iterable[bytes], params: BuildParams) -> Iterator[dict[str, Any]]:
        return self._inner.build(body, replace(params, secrets=self._secrets))


@hookimpl
def imagec_register_backends(register: Callable[[type[Backend]], None]) -> None:
    register(PodmanBackend)
