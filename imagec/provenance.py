"""`imagec inspect`: what an image was built from.

Every image imagec builds carries ``/etc/imagec/build.json`` (the spec, the IR digest and the
imagec version) and ``dev.imagec.*`` labels. Inside the image, ``imagec inspect -`` (or
``python -m imagec.run --inspect``) reads the file; from outside, the backend's engine does.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from imagec.errors import SpecError
from imagec.runtime import BUILD_INFO


def inspect_image(args: argparse.Namespace) -> dict[str, Any]:
    if args.image == "-":
        try:
            with open(BUILD_INFO, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            raise SpecError("not inside an image built by imagec", file=BUILD_INFO) from None
    if not args.backend:
        raise SpecError(
            "choose the engine: --backend docker or --backend podman", field="--backend"
        )
    from imagec.plugins import get_plugins

    backend = get_plugins().backend(args.backend).from_options({})
    if getattr(args, "url", None):
        backend.url = args.url  # type: ignore[attr-defined]
    return backend.inspect(args.image)
