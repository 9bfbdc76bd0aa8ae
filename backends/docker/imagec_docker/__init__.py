"""The ``docker`` backend: builds the image on a Docker engine through the Docker SDK.

The engine is the one the docker CLI would use (``DOCKER_HOST``, ``DOCKER_TLS_VERIFY``,
``DOCKER_CERT_PATH``; else the local socket), or ``--url``. The context sent is imagec's own
(``Dockerfile`` + generated files + the already filtered source); the flow -- reuse check,
progress, labels, tags, push -- is ``imagec.enginebuild``'s, shared with ``podman``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from imagec.backend import Backend
from imagec.backend.base import Build, BuildRequest, BuildResult
from imagec.backend.engine.backend import EngineBackend, canonical
from imagec.errors import SpecError
from imagec.plugins.hookspecs import hookimpl

if TYPE_CHECKING:
    from imagec.backend.engine.session import BuildParams
    from imagec_docker.options import DockerOptions

__all__ = ["DockerBackend", "DockerOptions"]


def __getattr__(name: str) -> Any:
    # ``from imagec_docker import DockerOptions`` keeps working; pydantic loads on first use.
    if name == "DockerOptions":
        from imagec_docker.options import DockerOptions

        return DockerOptions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class DockerBackend(EngineBackend):
    name = "docker"
    description = "image built by a Docker engine (DOCKER_HOST, or --url)"
    build_file = "Dockerfile"
    options_model = "imagec_docker.options:DockerOptions"
    engine_module = "imagec_docker.engine"
    options: DockerOptions

    def build(self, build: Build, request: BuildRequest) -> BuildResult:
        from imagec.backend.engine.flow import run_build
        from imagec.backend.engine.platforms import check_several, target_platforms
        from imagec_docker.buildkit import find_cli

        # dockerd's image store holds no manifest list: several platforms are refused before
        # anything else, naming what builds one.
        check_several(build, target_platforms(build, request), engine="docker")
        cli = None if self.options.builder == "classic" else find_cli()
        if cli is None and self.options.builder == "buildkit":
            raise SpecError(
                "no docker CLI with BuildKit on PATH (a docker CLI before 23.0, or one with "
                "the buildx plugin)",
                field="--option builder",
            )
        if cli is None:
            build = replace(build, plan=classic_plan(self, build))
        with self.engine().connect(self.url) as session:
            engine_build = canonical(build, self)
            if build.parent is not None:
                from imagec.backend.engine.parent import ensure_parent

                # BuildKit's progress is read against the build file it runs.
                parent_session = session
                if cli is not None:
                    parent_session = BuildKitSession(session, cli, build.parent.text, {})
                ensure_parent(parent_session, engine_build, request, network=self.options.network)
            if cli is not None:
                session = BuildKitSession(
                    session, cli, engine_build.context.build_file_text, dict(request.secrets)
                )
            return run_build(session, engine_build, request, network=self.options.network)


def classic_plan(backend: Backend, build: Build):
    """The plan for the classic builder, which has no ``RUN --mount``: a build secret is an
    error (the build cannot work without it); a cache mount goes to the unsupported policy
    (an error, or under ``--on-unsupported warn`` the step without its cache); files bound
    from the context are copied to the same place just before the step."""
    from imagec.plan.ir import Copy, Run  # the IR loads for a build, not for listing backends

    steps = []
    for step in build.plan.steps:
        if isinstance(step, Run) and step.mounts:
            for m in step.mounts:
                if m.type == "bind" and m.source and m.target:
                    steps.append(Copy(step.origin, (m.source,), m.target))
            step = replace(step, mounts=tuple(m for m in step.mounts if m.type != "bind"))
        if isinstance(step, Run) and step.mounts:
            if any(m.type == "secret" for m in step.mounts):
                origin = step.origin
                raise SpecError(
                    "build secrets need BuildKit, and this docker build would use the classic "
                    "builder; put a docker CLI with BuildKit on PATH (before 23.0, or with "
                    "buildx), or build with --backend podman",
                    file=origin.file,
                    line=origin.line,
                    field=origin.field,
                )
            backend.unsupported(step, "cache mounts need BuildKit (the classic builder is used)")
            step = replace(step, mounts=())
        steps.append(step)
    return replace(build.plan, steps=tuple(steps))


class BuildKitSession:
    """A docker-py session whose builds run through BuildKit (``imagec_docker.buildkit``)."""

    def __init__(self, inner: Any, cli: Any, containerfile: str, secrets: dict[str, str]):
        self._inner = inner
        self._cli = cli
        self._containerfile = containerfile
        self._secrets = secrets
        self.engine = inner.engine
        self.url = inner.url

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def build(self, body: Iterable[bytes], params: BuildParams) -> Iterator[dict[str, Any]]:
        from imagec_docker.buildkit import build

        return build(self._cli, self.url, body, params, self._containerfile, self._secrets)


@hookimpl
def imagec_register_backends(register: Callable[[type[Backend]], None]) -> None:
    register(DockerBackend)
