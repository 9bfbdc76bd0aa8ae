"""Every broken spec gives its exact one-line message and exit code 2, with no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from imagec.cli import main

INVALID = Path(__file__).parent / "fixtures" / "invalid"
EXPECTED: dict[str, str] = yaml.safe_load((INVALID / "expected.yaml").read_text())


def test_every_fixture_has_an_expectation() -> None:
    # A key may name a file inside a fixture directory (a project layout: DIR/FILE.py).
    names = {p.name for p in INVALID.iterdir() if p.name != "expected.yaml"}
    assert names == {key.split("/")[0] for key in EXPECTED} - {"missing.yaml"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_spec(name: str, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(INVALID)
    assert main(["validate", name]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == EXPECTED[name] + "\n"
