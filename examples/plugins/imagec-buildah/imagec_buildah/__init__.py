"""The ``buildah`` backend: lowers the plan to a bash script of ``buildah`` commands.

``imagec compile --backend buildah`` prints the script; ``imagec export --backend buildah -o
DIR`` writes the build context with the script in it as ``build.sh``, so that ``bash
DIR/build.sh [IMAGE]`` builds the image on any machine with buildah, no imagec needed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import Field

from imagec.backend import Backend, BackendOptions, Build, Health
from imagec.plan.ir import Plan
from imagec.plugins.hookspecs import hookimpl
from imagec_buildah.script import SCRIPT_NAME, ScriptWriter

__all__ = ["BuildahBackend", "BuildahOptions"]

INSTALL_HINT = (
    "install buildah (Debian/Ubuntu: apt-get install buildah; Fedora: dnf install buildah; "
    "others: https://github.com/containers/buildah/blob/main/install.md); "
    "compile and export work without it"
)


class BuildahOptions(BackendOptions):
    format: Literal["oci", "docker"] = Field(
        "oci", description="Image format `buildah commit` writes (docker keeps HEALTHCHECK etc.)."
    )
    squash: bool = Field(
        False, description="Commit one layer holding everything, base image included."
    )
    pull: Literal["missing", "always", "never"] = Field(
        "missing", description="When `buildah from` pulls the base image."
    )
    comments: bool = Field(True, description="Precede each command with the spec field it is from.")


class BuildahBackend(Backend):
    name = "buildah"
    description = "buildah build script, or a directory that builds with `bash build.sh`"
    output = "directory"
    build_file = SCRIPT_NAME
    Options = BuildahOptions
    options: BuildahOptions

    @classmethod
    def health(cls) -> Health:
        if shutil.which("buildah") is None:
            return Health(ok=False, reason=f"`buildah` is not on PATH; {INSTALL_HINT}")
        return Health(ok=True)

    def render(self, plan: Plan) -> str:
        return ScriptWriter(self, plan).render()

    def export(self, build: Build, out_dir: Path, *, force: bool = False) -> None:
        # The context holds the build file (our script) next to the files it copies from.
        build.context.export(out_dir, force=force)
        (out_dir / SCRIPT_NAME).chmod(0o755)  # so that ./build.sh works as well


@hookimpl
def imagec_register_backends(register: Callable[[type[Backend]], None]) -> None:
    register(BuildahBackend)
