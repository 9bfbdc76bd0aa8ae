"""The committed JSON Schema and spec reference match the models; examples validate."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from imagec.errors import SpecError
from imagec.model.schema import markdown, schema, schema_text
from imagec.model.validate import validate_spec
from imagec.spec.document import Document

ROOT = Path(__file__).parent.parent


def test_committed_schema_is_current() -> None:
    committed = (ROOT / "schemas" / "imagec.schema.json").read_text()
    assert committed == schema_text(), "run: imagec schema -o schemas/imagec.schema.json"


def test_committed_spec_reference_is_current() -> None:
    committed = (ROOT / "docs" / "spec.md").read_text()
    assert committed == markdown(), "run: imagec schema --markdown -o docs/spec.md"


def test_every_field_is_described() -> None:
    for name, prop in schema()["properties"].items():
        assert prop.get("description"), name


@pytest.mark.parametrize(
    "path", sorted(ROOT.glob("examples/*/imagec.yaml")), ids=lambda p: p.parent.name
)
def test_examples_validate_against_the_schema_and_carry_the_modeline(path: Path) -> None:
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=../../schemas/imagec.schema.json\n")
    jsonschema.validate(yaml.safe_load(text), json.loads(schema_text()))


# Values a lax model would coerce and the schema refuses, and values both accept.
SAME_VERDICT = [
    ({"copy_source": "yes"}, False),
    ({"copy_source": 1}, False),
    ({"install_imagec": "false"}, False),
    ({"python_version": 3.11}, False),
    ({"requirements": ("six",)}, True),  # a tuple is YAML's list once dumped as JSON
    ({"environment": {"A": 1}}, False),
    ({"copy_source": False, "requirements": ["six"]}, True),
]


@pytest.mark.parametrize(("data", "valid"), SAME_VERDICT, ids=lambda v: json.dumps(v))
def test_the_model_and_the_committed_schema_accept_the_same_values(data, valid) -> None:
    committed = json.loads((ROOT / "schemas" / "imagec.schema.json").read_text())
    as_json = json.loads(json.dumps(data))  # what a YAML/JSON/TOML spec can hold
    schema_ok = jsonschema.Draft202012Validator(committed).is_valid(as_json)
    try:
        validate_spec(Document(path=Path("imagec.yaml"), data=as_json))
        model_ok = True
    except SpecError:
        model_ok = False
    assert (schema_ok, model_ok) == (valid, valid)
