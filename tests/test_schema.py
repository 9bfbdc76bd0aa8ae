"""The committed JSON Schema and spec reference match the models; examples validate."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from imagec.model.schema import markdown, schema, schema_text

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
