"""Meta-tests: every hook in ``imagec/hookspecs.py`` is well-formed, documented and tested."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from support.plugins import REPO

from imagec.plugins import hookspecs

DOCS = REPO / "docs" / "plugins.md"
TESTS = Path(__file__).parent


def _hooks() -> dict[str, Callable]:
    # pluggy marks a hookspec by setting "<project>_spec" on the function.
    return {
        name: obj
        for name, obj in vars(hookspecs).items()
        if inspect.isfunction(obj) and hasattr(obj, f"{hookspecs.PROJECT}_spec")
    }


HOOKS = sorted(_hooks())


def test_there_are_hooks():
    assert "imagec_register_backends" in HOOKS


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_prefixed_typed_and_documented_in_its_docstring(name: str):
    assert name.startswith("imagec_"), "hooks share one namespace with every plugin's code"
    hook = _hooks()[name]
    signature = inspect.signature(hook)
    doc = inspect.getdoc(hook) or ""
    assert signature.return_annotation is not inspect.Signature.empty, "no return type"
    for param in signature.parameters.values():
        assert param.annotation is not inspect.Parameter.empty, f"{param.name} has no type"
        assert f":param {param.name}:" in doc
    assert ":return:" in doc
    assert "firstresult" in doc, "say whether the first non-None result stops the call"
    assert re.search(r"^Since \d+\.\d+\.\d+\.$", doc, re.MULTILINE), "no since-version"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented(name: str):
    headings = [line for line in DOCS.read_text().splitlines() if line.startswith("#")]
    assert any(name in line for line in headings), f"docs/plugins.md has no section for {name}"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_a_test(name: str):
    tests = [p for p in TESTS.glob("test_*.py") if p.name != Path(__file__).name]
    assert any(name in p.read_text() for p in tests), f"no test in {TESTS} mentions {name}"
