"""The ``containerfile`` backend: lowers the plan to Containerfile text and exports a
self-contained build directory that ``podman build DIR`` or ``docker build DIR`` builds with
no imagec installed."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from imagec.backend import Backend, BackendOptions
from imagec.backend.containerfile import render
from imagec.plan.ir import Plan
from imagec.plugins.hookspecs import hookimpl


class ContainerfileOptions(BackendOptions):
    comments: bool = Field(True, description="Precede each instruction with its origin.")
    file_name: Literal["Containerfile", "Dockerfile"] = Field(
        "Containerfile", description="Name of the build file in exports."
    )


class ContainerfileBackend(Backend):
    name = "containerfile"
    description = "Containerfile text, or a self-contained build directory (no engine needed)"
    output = "directory"
    Options = ContainerfileOptions

    @property
    def build_file_name(self) -> str:
        return self.options.file_name  # type: ignore[attr-defined]

    def render(self, plan: Plan) -> str:
        comments = self.options.comments  # type: ignore[attr-defined]
        return render(plan, comments=comments, unsupported=self.unsupported)


@hookimpl
def imagec_register_backends(register) -> None:
    register(ContainerfileBackend)
