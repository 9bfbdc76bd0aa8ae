"""What resolution hands the compiler: everything about a spec's surroundings, as plain data."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from imagec.resolve.parent import ParentBuild
from imagec.spec.document import Origin
from imagec.util.records import Record, mark_frozen, record


def requirements_file_name(number: int, key: str) -> str:
    """``1-integrations.txt``: numbered in install order, named for what the layer holds."""
    return f"{number}-{key}.txt"


def constraints_file_name(requirements_name: str) -> str:
    """``1-file.constraints.txt`` beside ``1-file.txt``, which refers to it with ``-c``."""
    return requirements_name.removesuffix(".txt") + ".constraints.txt"


@record
class RequirementsSource(Record):
    """One requirements file generated into the context: one COPY + RUN layer."""

    name: str  # file name in the context, from requirements_file_name()
    origin: Origin
    content: str
    constraints: str | None = None  # a `-c` file the requirements file refers to
    # "pip" when only pip reads the file (per-requirement options uv refuses or ignores);
    # None: the spec's installer.
    installer: str | None = None
    installs: bool = True  # False: comments and options only, no step runs it
    # The file names its own index (`--index-url`, `--no-index`): the spec's are not passed.
    own_index: bool = False

    @property
    def constraints_name(self) -> str:
        return constraints_file_name(self.name)


@record
class Inputs(Record):
    """Everything resolved from the spec's surroundings before planning."""

    source_root: Path | None
    ignore_file: Path | None
    requirements: tuple[RequirementsSource, ...] = ()
    apt_packages: tuple[str, ...] = ()
    stack_file: bytes | None = None
    stack_path: str | None = None  # where the stack file goes in the image
    stack_env: tuple[tuple[str, str], ...] = ()
    find_links: tuple[tuple[str, Path | None], ...] = ()  # (pip value, local dir or None)
    # ``python -m imagec.runtime`` target ("pipeline.py:train") of a decorated pipeline.
    pipeline_target: str | None = None
    # Where a module target imports from, relative to the source root ("src"), when that is
    # below it (``python -m imagec.runtime --path src churn.pipeline:score``); None: the root.
    pipeline_path: str | None = None
    # Which rule chose the source root (imagec.resolve.source_root), recorded in the plan.
    source_rule: str | None = None
    image_name: str = "imagec/app"
    # How the image gets imagec's runtime: a wheel of this installation, or from the index.
    runtime: Literal["wheel", "index"] = "wheel"
    # Install the source root as a package after the source copy (``install_project``, or an
    # ``-e .`` in a requirement source): where that was asked for.
    install_project: Origin | None = None
    # The user's Dockerfile, built first as the base of imagec's steps (``dockerfile``).
    parent: ParentBuild | None = None


mark_frozen(RequirementsSource, Inputs)
