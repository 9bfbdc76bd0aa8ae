"""The JSON Schema of the spec and its Markdown reference, both generated from the models
(committed as schemas/imagec.schema.json and docs/spec.md; a test fails when either is stale)."""

from __future__ import annotations

import json
from typing import Any

from imagec.model.spec import Spec


def schema() -> dict[str, Any]:
    return Spec.model_json_schema()


def schema_text() -> str:
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


def _type(prop: dict[str, Any]) -> str:
    if "anyOf" in prop or "oneOf" in prop:
        options = [_type(p) for p in prop.get("anyOf", prop.get("oneOf", []))]
        return " or ".join(o for o in options if o != "null") or "null"
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    if "$ref" in prop:  # a nested model, e.g. a secret: named by its title
        return prop["$ref"].rsplit("/", 1)[-1]
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}))}"
    if kind == "object":
        return f"mapping to {_type(prop.get('additionalProperties', {}))}"
    return {"boolean": "bool", "string": "string", "integer": "int"}.get(kind, kind)


def markdown() -> str:
    from jinja2 import Environment, PackageLoader  # lazy: only `schema --markdown` renders

    env = Environment(
        loader=PackageLoader("imagec.model"), keep_trailing_newline=True, autoescape=False
    )
    fields = []
    for name, prop in schema()["properties"].items():
        default = prop.get("default", "—")
        fields.append(
            {
                "name": name,
                "type": _type(prop),
                "default": "—" if default in ([], {}, None, "—") else f"`{json.dumps(default)}`",
                "description": prop.get("description", "").replace("|", "\\|"),
            }
        )
    return env.get_template("spec.md.j2").render(fields=fields)
