"""`imagec inspect -`: what the image this runs in was built from.

Every image imagec builds carries ``/etc/imagec/build.json`` (the spec, the IR digest and the
imagec version) and ``dev.imagec.*`` labels. Inside the image, ``imagec inspect -`` (or
``python -m imagec.run --inspect``, which needs only the runtime) reads the file; from
outside, ``imagec inspect IMAGE --backend docker|podman`` asks the engine.
"""

from __future__ import annotations

import json
from typing import Any

from imagec.errors import SpecError
from imagec.runtime import BUILD_INFO


def read_build_info() -> dict[str, Any]:
    try:
        with open(BUILD_INFO, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise SpecError("not inside an image built by imagec", file=BUILD_INFO) from None
