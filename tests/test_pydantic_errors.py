"""The one renderer of pydantic errors: the spec, stack files and backend options alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagec.errors import SpecError
from imagec.plugins import get_plugins
from imagec.resolve.stack import read_stack


def stack_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "stack.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        read_stack(path)
    return str(info.value).removeprefix(f"{path}:")


def test_a_typo_explains_the_missing_field_it_causes(tmp_path):
    # `nme` is unknown and `name` is missing: the typo is the one to fix.
    assert stack_error(tmp_path, "components: {}\nnme: s\n") == (
        "2:1: nme: unknown field (did you mean 'name'?)"
    )


def test_the_first_error_in_the_file_is_reported(tmp_path):
    text = "name: s\ncomponents:\n  orchestrator: {flavor: Local}\n  artifact_store: {x: 1}\n"
    assert stack_error(tmp_path, text).startswith("3:26: components.orchestrator.flavor: ")


def test_backend_option_keeps_pydantic_wording_and_names_the_backend():
    backend = get_plugins().backend("docker")
    with pytest.raises(SpecError) as info:
        backend.from_options({"network": ["host"]})  # type: ignore[dict-item]
    assert str(info.value) == (
        "--option network: Input should be a valid string for backend 'docker'"
    )


def test_backend_option_key_is_shown_without_terminal_escapes():
    backend = get_plugins().backend("docker")
    with pytest.raises(SpecError) as info:
        backend.from_options({"\x1b[2Jx": "1"})
    assert "\x1b" not in str(info.value)
    assert str(info.value) == ("--option ['\\x1b[2Jx']: unknown option for backend 'docker'")
