"""The part of an engine backend that does not depend on the engine.

A backend names its engine module: one with ``connect(url)`` and ``inspect_session(url)``
(context managers yielding an ``EngineSession``) and ``health() -> Health``; everything else
-- options, build, inspect -- is here.
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from types import ModuleType
from typing import Any, ClassVar

from pydantic import Field

from imagec.backend.base import Backend, BackendOptions, Build, BuildRequest, BuildResult, Health

CANONICAL_BUILD_FILE = "Containerfile"


class EngineOptions(BackendOptions):
    url: str | None = Field(
        None,
        description="Engine API URL (default: the engine's environment variable, else its "
        "default socket). `imagec build --url` sets it too.",
    )
    network: str | None = Field(
        None, description="Network mode of RUN steps, e.g. `host` or `none` (default: engine's)."
    )


class EngineBackend(Backend):
    output = "image"
    Options: ClassVar[type[BackendOptions]] = EngineOptions
    options: EngineOptions
    # Dotted name of the module with connect() and health(); imported only when used, so
    # listing or compiling never loads an engine SDK.
    engine_module: ClassVar[str]

    def __init__(self, options: BackendOptions | None = None, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        self.url: str | None = self.options.url

    @classmethod
    def engine(cls) -> ModuleType:
        return importlib.import_module(cls.engine_module)

    @classmethod
    def health(cls) -> Health:
        return cls.engine().health()

    def inspect(self, image: str) -> dict[str, Any]:
        # Lazy, as the flow below: every command loads the backends, few inspect or build.
        from imagec.backend.engine.inspection import inspect_image

        with self.engine().inspect_session(self.url) as session:
            return inspect_image(session, image)

    def build(self, build: Build, request: BuildRequest) -> BuildResult:
        # Lazy: the build flow (log parsing, progress, labels, git) is for `imagec build` only.
        from imagec.backend.engine.flow import run_build

        with self.engine().connect(self.url) as session:
            engine_build = canonical(build, self)
            return run_build(session, engine_build, request, network=self.options.network)

    def use_as_is(self, build: Build, request: BuildRequest) -> BuildResult:
        # Lazy, as the build flow: only `imagec build` of a skip_build spec checks an image.
        from imagec.backend.engine.asis import use_as_is

        with self.engine().connect(self.url) as session:
            return use_as_is(session, build, request)


def canonical(build: Build, backend: Backend) -> Build:
    """The build with the context every engine is sent: ``Containerfile``, no comments.

    Its content hash, and so the image tag, is then the same on docker and podman, and the
    same however the spec is laid out (comments carry spec line numbers).
    """
    # Lazy: every command loads the engine backends; only builds make a context.
    from imagec.backend.buildcontext import BuildContext
    from imagec.backend.containerfile import render

    context = BuildContext(
        build.plan,
        CANONICAL_BUILD_FILE,
        render(build.plan, comments=False, unsupported=backend.unsupported),
    )
    return replace(build, context=context)
