"""The part of an engine backend that does not depend on the engine.

A backend names its engine module: one with ``connect(url)`` and ``inspect_session(url)``
(context managers yielding an ``EngineSession``) and ``health() -> Health``; everything else
-- options, build, inspect -- is here.
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

from imagec.backend.base import Backend, Build, BuildRequest, BuildResult, Health

if TYPE_CHECKING:
    from imagec.backend.engine.options import EngineOptions

CANONICAL_BUILD_FILE = "Containerfile"


def __getattr__(name: str) -> Any:
    # ``from imagec.backend.engine.backend import EngineOptions`` keeps working (loads pydantic).
    if name == "EngineOptions":
        from imagec.backend.engine.options import EngineOptions

        return EngineOptions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class EngineBackend(Backend):
    output = "image"
    options_model = "imagec.backend.engine.options:EngineOptions"
    options: EngineOptions
    # Dotted name of the module with connect() and health(); imported only when used, so
    # listing or compiling never loads an engine SDK.
    engine_module: ClassVar[str]

    @property
    def url(self) -> str | None:
        # The defaults are not built for this: their url is None (every engine's options keep
        # that default), so `imagec inspect` without options never loads pydantic.
        return None if self._options is None else self._options.url

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
