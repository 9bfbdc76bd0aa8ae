"""``UrlRequirement`` and ``PipOption`` are plain classes now; they behave as the frozen
dataclasses they were (a dataclass twin of each is the oracle): construction, equality, hash,
repr, immutability, copying and pickling."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

from imagec.model.pep508 import Marker
from imagec.model.requirement import UrlRequirement
from imagec.resolve.requirements.lines import PipOption, RequirementLine

UrlTwin = dataclasses.make_dataclass(
    "UrlRequirement",
    [("url", Any), ("marker", Any, None), ("text", Any, "")],
    frozen=True,
)
OptionTwin = dataclasses.make_dataclass(
    "PipOption", [("name", Any), ("value", Any, None)], frozen=True
)
MARKER = Marker('python_version >= "3.8"')
CASES = [
    (UrlRequirement, UrlTwin, ("https://host/x-1.0-py3-none-any.whl",)),
    (UrlRequirement, UrlTwin, ("git+https://host/r", MARKER, "git+https://host/r ; x")),
    (PipOption, OptionTwin, ("--pre",)),
    (PipOption, OptionTwin, ("--index-url", "https://pypi.example.com/simple")),
]


@pytest.mark.parametrize(("cls", "twin", "args"), CASES)
def test_as_the_frozen_dataclass(cls: type, twin: type, args: tuple) -> None:
    obj, other = cls(*args), twin(*args)
    assert repr(obj) == repr(other)
    assert hash(obj) == hash(other)
    assert obj == cls(*args) and obj != other and (obj == 1) is False
    assert obj != cls(*args[:-1], "changed") if len(args) > 1 else obj != cls("changed")
    assert {obj, cls(*args)} == {obj}
    with pytest.raises(AttributeError):
        obj.extra = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        setattr(obj, dataclasses.fields(other)[0].name, "x")
    assert copy.copy(obj) == obj and copy.deepcopy(obj) == obj
    assert pickle.loads(pickle.dumps(obj)) == obj


def test_a_line_holding_them_copies_and_compares() -> None:
    line = RequirementLine(
        "git+https://host/r",
        unnamed=UrlRequirement("git+https://host/r", MARKER),
        option=PipOption("--pre"),
    )
    assert copy.deepcopy(line) == line and hash(copy.deepcopy(line)) == hash(line)
    assert dataclasses.replace(line, source="x").unnamed == line.unnamed
