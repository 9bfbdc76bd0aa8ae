"""Image references, held to what distribution/reference itself answers.

``vectors/reference_oracle.json`` records, for every input string of distribution/reference's
own tests (reference_test.go, regexp_test.go, normalize_test.go, ...) plus adversarial
extras, what the Go library's ``Parse`` and ``ParseNormalizedNamed`` return. It was produced
by running ``vectors/reference_oracle_dump_test.go.txt`` (as ``oracle_dump_test.go``) inside
distribution/reference at commit 0965666a with go-digest v1.0.0.

``oci_reference.py`` ports both functions and must agree with every record; then
``imagec.reference`` is held to the port, which is what engines run for ``FROM`` and tags.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.oci_reference import ReferenceError, parse, parse_normalized_named

from imagec.model.reference import check_platform, check_reference, check_repository

ORACLE = json.loads((Path(__file__).parent / "vectors" / "reference_oracle.json").read_text())
# The library's test binary links only sha256; the oracle was recorded that way.
TEST_BINARY_ALGORITHMS = frozenset({"sha256"})


def _outcome(fn, value: str) -> dict:
    try:
        ref = fn(value, algorithms=TEST_BINARY_ALGORITHMS)
    except ReferenceError as exc:
        return {"err": str(exc)}
    fields = {"ok": True, "name": ref.name, "domain": ref.domain, "path": ref.path}
    fields |= {"tag": ref.tag, "digest": ref.digest}
    return {k: v for k, v in fields.items() if v}


def _id(record: dict) -> str:
    text = record["input"]
    return f"{record['source']}:{text[:40]!r}" if len(text) <= 40 else record["source"]


@pytest.mark.parametrize("record", ORACLE, ids=_id)
def test_port_agrees_with_the_go_library(record: dict) -> None:
    assert _outcome(parse, record["input"]) == record["parse"]
    assert _outcome(parse_normalized_named, record["input"]) == record["normalized"]


def _engine_accepts(value: str) -> bool:
    try:
        parse_normalized_named(value)
    except ReferenceError:
        return False
    return True


def _engine_accepts_repository(value: str) -> bool:
    try:
        ref = parse_normalized_named(value)
    except ReferenceError:
        return False
    return not ref.tag and not ref.digest


def _check(fn, value: str) -> bool:
    try:
        fn(value)
    except ValueError:
        return False
    return True


def _params(predicate) -> list:
    out = []
    for record in ORACLE:
        value = record["input"]
        expected = predicate(value)
        out.append(pytest.param(value, expected, id=_id(record)))
    return out


@pytest.mark.parametrize(("value", "accepted"), _params(_engine_accepts))
def test_check_reference_agrees_with_engines(value: str, accepted: bool) -> None:
    assert _check(check_reference, value) == accepted


@pytest.mark.parametrize(("value", "accepted"), _params(_engine_accepts_repository))
def test_check_repository_agrees_with_engines(value: str, accepted: bool) -> None:
    assert _check(check_repository, value) == accepted


@pytest.mark.parametrize(
    "value", ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/amd64/v3", "windows/amd64"]
)
def test_valid_platforms(value: str) -> None:
    assert check_platform(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "linux",
        "linux/",
        "/amd64",
        "linux//amd64",
        "linux/amd64/",
        "linux/amd64/v7/x",
        "Linux/AMD64",
        "linux/amd64 ",
        " linux/amd64",
        "linux/amd64\n",
        "linux/am d64",
        "linux/$ARCH",
        "linux/amd64\u2028",
        "linux/\u0430md64",  # Cyrillic a
    ],
)
def test_invalid_platforms(value: str, request: pytest.FixtureRequest) -> None:
    with pytest.raises(ValueError):
        check_platform(value)
