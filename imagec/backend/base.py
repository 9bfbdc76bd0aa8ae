"""The backend contract. Built-in backends and third-party ones implement exactly this.

A backend has a ``name``, a ``description``, the kind of ``output`` it produces, a health
check, and pydantic ``Options`` (unknown options are errors): either the class itself, or its
``"module:Class"`` name as ``options_model``, imported on first use of ``Options`` so that
``imagec backends`` and ``imagec inspect`` without options never load pydantic. It lowers a
``Plan`` itself; ``imagec.backend.containerfile`` (a dispatch table keyed by step type) is there
to reuse. A step it cannot express goes to ``unsupported()``: an error (exit 2), or under
``--on-unsupported warn`` a warning and the step left out -- never silently dropped.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from imagec.errors import ImagecError, SpecError
from imagec.util.records import Record, mark_frozen, record

if TYPE_CHECKING:
    from imagec.backend.buildcontext import BuildContext
    from imagec.backend.options import BackendOptions
    from imagec.model.spec import Spec
    from imagec.plan.ir import Plan, Step
    from imagec.resolve.parent import ParentBuild

Output = Literal["text", "directory", "image"]


def __getattr__(name: str) -> Any:
    # ``from imagec.backend.base import BackendOptions`` keeps working; it loads pydantic.
    if name == "BackendOptions":
        from imagec.backend.options import BackendOptions

        return BackendOptions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _OptionsModel:
    """``Backend.Options``: the class ``options_model`` names, imported on first use.

    A backend that assigns ``Options = SomeOptions`` itself overrides this descriptor.
    """

    def __get__(self, instance: object, owner: type[Backend]) -> type[BackendOptions]:
        module, _, name = owner.options_model.partition(":")
        return getattr(importlib.import_module(module), name)


@record
class Health(Record):
    ok: bool
    reason: str = ""


@record
class BuildRequest(Record):
    """What the user asked of an image build."""

    tags: tuple[str, ...] = ()
    no_cache: bool = False
    pull: bool = False
    force: bool = False
    push: bool = False
    quiet: bool = False
    platform: str | None = None
    build_args: tuple[tuple[str, str], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    # (secret id, path of a file holding it) for `RUN --mount=type=secret`; never logged.
    secrets: tuple[tuple[str, str], ...] = ()
    # The stack's container_registry (`host[:port]/path`): the content-hash tag is named in
    # it, looked up there before building, and pushed there.
    registry: str | None = None


@record
class BuildResult(Record):
    image_id: str
    tags: tuple[str, ...]
    built: bool  # False when an existing image was reused
    pushed: tuple[str, ...] = ()


@dataclass
class Build:
    """Everything a backend needs for one image."""

    spec: Spec
    plan: Plan
    context: BuildContext
    # The user's Dockerfile, built first: the plan's FROM names its image (``dockerfile``).
    parent: ParentBuild | None = None


class UnsupportedStep(SpecError):
    """A step the backend cannot express, under the ``error`` policy (exit 2)."""


class Backend:
    name: ClassVar[str]
    description: ClassVar[str]
    output: ClassVar[Output]
    # File name of the build file in the context and in exports.
    build_file: ClassVar[str] = "Containerfile"
    # "module:Class" of the options model, for ``Options`` to import when first used.
    options_model: ClassVar[str] = "imagec.backend.options:BackendOptions"
    Options: ClassVar[type[BackendOptions]] = _OptionsModel()  # type: ignore[assignment]

    def __init__(
        self,
        options: BackendOptions | None = None,
        *,
        unsupported: Literal["warn", "error"] = "error",
    ) -> None:
        # None: the defaults, made on first use of ``options`` (see ``options_model``).
        self._options = options
        self.unsupported_policy = unsupported

    @property
    def options(self) -> BackendOptions:
        if self._options is None:
            self._options = self.Options.model_construct()  # defaults are valid
        return self._options

    @options.setter
    def options(self, value: BackendOptions) -> None:
        self._options = value

    @classmethod
    def from_options(cls, raw: dict[str, str], **kwargs) -> Backend:
        if not raw:
            return cls(None, **kwargs)
        from pydantic import ValidationError

        from imagec.model.pydantic_errors import render_validation_error

        try:
            options = cls.Options.model_validate(raw)
        except ValidationError as exc:
            # Options keep pydantic's own message ("Input should be 'oci' or 'docker'").
            error = render_validation_error(
                exc,
                wording=lambda _loc, err: None if err["type"] == "extra_forbidden" else err["msg"],
                unknown="unknown option",
            )
            raise SpecError(
                f"{error.message} for backend {cls.name!r}", field=f"--option {error.field or '?'}"
            ) from None
        return cls(options, **kwargs)

    @classmethod
    def health(cls) -> Health:
        """Whether the engine or tool this backend needs is available, and if not, why."""
        return Health(ok=True)

    @property
    def build_file_name(self) -> str:
        return self.build_file

    def unsupported(self, step: Step, reason: str) -> None:
        """Report a step this backend cannot express: nothing is dropped silently.

        Under the ``error`` policy this raises; under ``warn`` it prints a warning and returns,
        and the caller leaves the step out.
        """
        where = step.origin.describe()
        msg = f"backend {self.name!r} cannot express {step.kind} from {where}: {reason}"
        if self.unsupported_policy == "error":
            raise UnsupportedStep(msg)
        print(f"imagec: warning: {msg}; left out", file=sys.stderr)

    def render(self, plan: Plan) -> str:
        """The build file text for ``plan`` (the Containerfile, by default)."""
        from imagec.backend.containerfile import render

        return render(plan, unsupported=self.unsupported)

    def export(self, build: Build, out_dir: Path, *, force: bool = False) -> None:
        """Write the build context (build file, generated files, source) to ``out_dir``."""
        build.context.export(out_dir, force=force)

    def build(self, build: Build, request: BuildRequest) -> BuildResult:
        raise ImagecError(f"backend {self.name!r} does not build images")

    def use_as_is(self, build: Build, request: BuildRequest) -> BuildResult:
        """``skip_build``: check that ``build.spec.base_image`` can run the pipeline as it is
        (Python, imagec's runtime, the requirements) and build nothing."""
        raise ImagecError(f"backend {self.name!r} does not check images")

    def inspect(self, image: str) -> dict[str, Any]:
        """What ``image`` was built from: its ``/etc/imagec/build.json`` plus ``labels``."""
        raise ImagecError(f"backend {self.name!r} does not inspect images")


mark_frozen(BuildRequest, BuildResult, Health)
