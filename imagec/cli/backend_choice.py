"""Which backend a command uses, and the backend object made from the command's flags."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from imagec.backend.base import Backend
from imagec.errors import SpecError
from imagec.plugins.manager import get_plugins
from imagec.resolve.stack import Stack

BACKEND_ENV_VAR = "IMAGEC_BACKEND"


def engine_backend_name(
    flag: str | None, stack: Stack | None, environ: Mapping[str, str] = os.environ
) -> str | None:
    """``--backend``, else ``IMAGEC_BACKEND``, else the flavor of the stack's image_builder:
    swapping docker for podman is one flag, one variable, or one line of the stack."""
    if flag:
        return flag
    if environ.get(BACKEND_ENV_VAR):
        return environ[BACKEND_ENV_VAR]
    builder = stack.components.get("image_builder") if stack else None
    return builder.flavor if builder is not None else None


def make_backend(name: str | None, args: argparse.Namespace) -> Backend:
    """The backend ``name`` with the command's ``--option``s, ``--url`` and unsupported policy."""
    if not name:
        raise SpecError(
            "choose a backend: --backend docker|podman, IMAGEC_BACKEND, or an image_builder "
            "in the stack",
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
