"""What an image was built from: ``/etc/imagec/build.json`` (the spec, the IR digest and the
imagec version), written by the compiler into every image and read back by
``imagec inspect -`` and ``python -m imagec.runtime --inspect`` inside it. From outside,
``imagec inspect IMAGE --backend docker|podman`` reads the same file through the engine.
"""

from __future__ import annotations

import json
from typing import Any

from imagec.errors import SpecError

BUILD_INFO = "/etc/imagec/build.json"
# The same record as compact JSON in a label of the plan's own ``LABEL`` step, so that
# ``imagec inspect`` reads it from the image's JSON instead of creating a container to copy the
# file out (an image built from an exported Containerfile has it too). A longer record is left
# to the file alone.
BUILD_INFO_LABEL = "dev.imagec.build-info"
BUILD_INFO_LABEL_LIMIT = 8 * 1024


def read_build_info() -> dict[str, Any]:
    """The build info of the image this runs in."""
    try:
        with open(BUILD_INFO, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise SpecError("not inside an image built by imagec", file=BUILD_INFO) from None
