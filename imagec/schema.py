"""The JSON Schema of the spec, generated from the models (committed as schemas/)."""

from __future__ import annotations

import json


def schema_text() -> str:
    from imagec.model import Spec

    return json.dumps(Spec.model_json_schema(), indent=2, ensure_ascii=False) + "\n"
