"""Integrations: the built-in table, constants and the registry plugins extend."""

from __future__ import annotations

import functools
import subprocess
import sys

import pytest
from packaging.requirements import Requirement

from imagec.errors import SpecError
from imagec.integrations import Integration
from imagec.integrations import constants as c
from imagec.resolve.integrations import (
    IntegrationRegistry,
    builtin_integrations,
    default_registry,
    registry_with_plugins,
)


def test_every_constant_names_a_builtin_and_back():
    names = {i.name for i in builtin_integrations()}
    assert {getattr(c, name) for name in c.__all__} == names
    assert len(names) >= 14
    assert c.PYTORCH == "pytorch" and c.EVIDENTLY == "evidently"


def test_builtin_requirements_are_valid_and_bounded():
    for integration in builtin_integrations():
        assert integration.requirements, integration.name
        for text in integration.requirements:
            req = Requirement(text)
            # Every requirement has a lower bound so images don't silently get ancient versions.
            assert any(s.operator in (">=", "~=", "==") for s in req.specifier), text


def test_constants_import_standalone_and_cheaply():
    script = "import sys, imagec.integrations.constants as c; print(sorted(sys.modules))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    for heavy in ("pydantic", "packaging", "imagec.resolve", "pluggy"):
        assert f"'{heavy}'" not in out.stdout


def test_get_and_names():
    registry = default_registry()
    assert registry.get("pytorch").requirements == ("torch>=2.0,<3",)
    assert registry.get("Great-Expectations").name == "great_expectations"
    assert registry.names() == sorted(registry.names())
    assert "lightgbm" in registry and "nope" not in registry
    assert registry.get("lightgbm").apt_packages == ("libgomp1",)
    assert registry.owner("pytorch") == "imagec.resolve.integrations.builtin"


def test_unknown_integration_suggests_a_name():
    registry = default_registry()
    with pytest.raises(SpecError) as info:
        registry.get("pytroch", file="p.py", line=3, column=34, field="required_integrations[0]")
    assert str(info.value) == (
        "p.py:3:34: required_integrations[0]: unknown integration 'pytroch' "
        "(did you mean 'pytorch'?)"
    )


def test_unknown_integration_without_a_close_match_lists_them():
    registry = IntegrationRegistry()
    registry.add(Integration("b", ("x>=1",)), owner="test")
    registry.add(Integration("a", ("y>=1",)), owner="test")
    with pytest.raises(SpecError) as info:
        registry.get("quantum")
    assert str(info.value) == "unknown integration 'quantum'; known integrations: a, b"


def test_for_flavor():
    registry = default_registry()
    assert [i.name for i in registry.for_flavor("experiment_tracker", "mlflow")] == ["mlflow"]
    assert [i.name for i in registry.for_flavor("artifact_store", "s3")] == ["s3"]
    assert [i.name for i in registry.for_flavor("orchestrator", "kubernetes")] == ["kubernetes"]
    assert registry.for_flavor("orchestrator", "local") == []


def register_from_plugin(register) -> None:
    # Stands in for a third-party hook implementation.
    register(Integration("pytorch", ("torch>=2.1,<3",), description="a fork"))


def test_duplicate_from_another_owner_names_both():
    registry = default_registry()
    with pytest.raises(SpecError) as info:
        register_from_plugin(functools.partial(registry.add, owner=__name__))
    assert str(info.value) == (
        "integration 'pytorch' is registered by both 'imagec.resolve.integrations.builtin' and "
        f"'{__name__}'"
    )


def test_same_integration_twice_from_the_same_owner_is_a_no_op():
    registry = default_registry()
    count = len(registry)
    registry.add(registry.get("s3"), owner="imagec.resolve.integrations.builtin")
    assert len(registry) == count
    with pytest.raises(SpecError) as info:
        registry.add(
            Integration("s3", ("s3fs>=2024.1.0",)), owner="imagec.resolve.integrations.builtin"
        )
    assert (
        str(info.value)
        == "integration 's3' is registered twice by 'imagec.resolve.integrations.builtin'"
    )


@pytest.mark.parametrize(
    ("integration", "message"),
    [
        (
            Integration("Bad Name", ("x",)),
            "integration 'Bad Name' from 'plug': the name must be lowercase letters, digits "
            "and '_'",
        ),
        (
            Integration("ok", ("torch=2",)),
            "integration 'ok' from 'plug': invalid requirement 'torch=2': Expected semicolon "
            "(after name with no version specifier) or end; pin a version with '=='",
        ),
        (
            Integration("ok", ("x",), flavors=("mlflow",)),
            "integration 'ok' from 'plug': flavor 'mlflow' is not '<component_type>:<flavor>'",
        ),
    ],
)
def test_malformed_plugin_integrations(integration, message):
    with pytest.raises(SpecError) as info:
        IntegrationRegistry().add(integration, owner="plug")
    assert str(info.value) == message


def test_lists_from_plugins_become_tuples():
    integration = Integration("x", ["a>=1"], apt_packages=["git"], flavors=["alerter:slack"])  # type: ignore[arg-type]
    assert integration.requirements == ("a>=1",) and hash(integration)
    with pytest.raises(TypeError, match="must be a sequence of strings, not a string"):
        Integration("x", "a>=1")  # type: ignore[arg-type]


def test_the_builtins_come_once_through_their_own_entry_point():
    registry = registry_with_plugins()
    assert registry.owner("pytorch") == "imagec.resolve.integrations.builtin"
    assert {i.name for i in builtin_integrations()} <= set(registry.names())
