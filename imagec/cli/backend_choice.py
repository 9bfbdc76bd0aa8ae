"""Which backend a command uses, and the backend object made from the command's flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from imagec.errors import SpecError
from imagec.plugins.manager import get_plugins

if TYPE_CHECKING:  # the stack and backend models load pydantic: `imagec inspect` need not
    import argparse

    from imagec.backend.base import Backend
    from imagec.resolve.stack import Stack

BACKEND_ENV_VAR = "IMAGEC_BACKEND"
# The engines' own variables: when exactly one is set, the user has said which engine to use.
ENGINE_HOST_VARS = (("DOCKER_HOST", "docker"), ("CONTAINER_HOST", "podman"))


def engine_backend_name(
    flag: str | None, stack: Stack | None, environ: Mapping[str, str] = os.environ
) -> str | None:
    """``--backend``, else ``IMAGEC_BACKEND``, else the flavor of the stack's image_builder,
    else the engine whose variable is set when only one of ``DOCKER_HOST`` and
    ``CONTAINER_HOST`` is: swapping docker for podman is one flag, one variable, or one line of
    the stack."""
    if flag:
        return flag
    if environ.get(BACKEND_ENV_VAR):
        return environ[BACKEND_ENV_VAR]
    builder = stack.components.get("image_builder") if stack else None
    if builder is not None:
        return builder.flavor
    named = [engine for var, engine in ENGINE_HOST_VARS if environ.get(var)]
    return named[0] if len(named) == 1 else None


def stack_of_cwd() -> Stack | None:
    """The stack of the imagec repository holding the working directory (or ``IMAGEC_STACK``),
    for commands without a spec."""
    from imagec.resolve.source_root import find_repository
    from imagec.resolve.stack import load_stack

    return load_stack(find_repository(Path.cwd()))


def make_backend(name: str | None, args: argparse.Namespace) -> Backend:
    """The backend ``name`` with the command's ``--option``s, ``--url`` and unsupported policy."""
    if not name:
        raise SpecError(
            "choose a backend: --backend docker|podman, IMAGEC_BACKEND, an image_builder "
            "in the stack, or set only one of DOCKER_HOST and CONTAINER_HOST",
            field="--backend",
        )
    cls = get_plugins().backend(name)
    raw = pairs(args.option, "--option")
    if getattr(args, "url", None):
        raw["url"] = args.url  # --url is the engine backends' `url` option
    return cls.from_options(raw, unsupported=getattr(args, "on_unsupported", "error"))


def pairs(values: list[str], flag: str) -> dict[str, str]:
    """``KEY=VALUE`` flags as a mapping; anything else is bad input naming ``flag``."""
    out = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise SpecError(f"expected KEY=VALUE, got {value!r}", field=flag)
        out[key] = val
    return out
