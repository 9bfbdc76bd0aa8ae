"""The hook contract, with plugins registered directly on a ``Plugins`` instance.

Installing is not the point here: these pin down what each hook receives, what imagec does
with what it returns, and how a misbehaving plugin is reported.
"""

from __future__ import annotations

import dataclasses

import pytest

from imagec.backend import Backend
from imagec.errors import ImagecError
from imagec.integrations import Integration
from imagec.model.spec import Spec
from imagec.plan.ir import Env, From, Origin, Plan
from imagec.plugins import PluginInfo, Plugins
from imagec.plugins.hookspecs import hookimpl
from imagec.resolve.integrations import IntegrationRegistry

SPEC = Spec.model_validate({"python_version": "3.11"})
PLAN = Plan(steps=(From(Origin("base_image"), "python:3.11-slim"),))


def info(name: str) -> PluginInfo:
    return PluginInfo(name, f"dist-{name}", "1.0")


class Gamma(Backend):
    name = "gamma"
    description = "test backend"
    output = "text"


# -- imagec_register_backends ------------------------------------------------------------


def test_register_backends_receives_register():
    class Plugin:
        @hookimpl
        def imagec_register_backends(self, register):
            register(Gamma)

    plugins = Plugins()
    plugins.register(Plugin(), info("gamma"))
    assert plugins.backends() == {"gamma": (Gamma, "gamma")}
    assert plugins.backend("gamma") is Gamma
    assert plugins.distribution_of("gamma") == "dist-gamma 1.0"


def test_registering_the_same_backend_twice_from_one_plugin_is_harmless():
    class Plugin:
        @hookimpl
        def imagec_register_backends(self, register):
            register(Gamma)
            register(Gamma)

    plugins = Plugins()
    plugins.register(Plugin(), info("gamma"))
    assert list(plugins.backends()) == ["gamma"]


def test_registering_something_that_is_not_a_backend_is_reported():
    class NotABackend:
        name = "fake"

    class Incomplete(Backend):
        name = "incomplete"

    class Plugin:
        @hookimpl
        def imagec_register_backends(self, register):
            register(NotABackend)

    class Other:
        @hookimpl
        def imagec_register_backends(self, register):
            register(Incomplete)

    plugins = Plugins()
    plugins.register(Plugin(), info("fake"))
    plugins.register(Other(), info("incomplete"))
    assert plugins.backends() == {}
    errors = [str(f) for f in plugins.failures]
    assert "which is not a subclass of imagec.backend.Backend" in errors[0]
    assert errors[1].endswith("backend class Incomplete does not set description, output")


def test_hookimpl_with_arguments_not_in_the_spec_is_reported():
    class Plugin:
        @hookimpl
        def imagec_register_backends(self, registry):
            registry(Gamma)

    plugins = Plugins()
    plugins.register(Plugin(), info("args"))
    assert plugins.backends() == {}
    (failure,) = plugins.failures
    assert failure.name == "args"
    assert failure.error.startswith("imagec_register_backends(registry): Argument(s)")
    assert "{'registry'}" in failure.error


def test_the_same_plugin_under_two_names_is_reported():
    class Plugin:
        @hookimpl
        def imagec_register_backends(self, register):
            register(Gamma)

    plugin = Plugin()
    plugins = Plugins()
    plugins.register(plugin, info("first"))
    plugins.register(plugin, info("second"))
    assert plugins.backends() == {"gamma": (Gamma, "first")}
    assert [f.name for f in plugins.failures] == ["second"]


# -- imagec_register_integrations --------------------------------------------------------


class AcmePlugin:
    @hookimpl
    def imagec_register_integrations(self, register):
        register(Integration("acme", ["acme-sdk>=2,<3"], description="Acme tracking."))


def test_register_integrations_adds_to_the_registry():
    plugins = Plugins()
    plugins.register(AcmePlugin(), info("acme"))
    registry = IntegrationRegistry()
    plugins.add_integrations(registry)
    acme = registry.get("acme")
    assert acme.requirements == ("acme-sdk>=2,<3",)
    assert registry.owner("acme") == "acme"  # the plugin's name, as it registered


def test_an_integration_registered_by_two_plugins_names_both():
    class Impostor:
        @hookimpl
        def imagec_register_integrations(self, register):
            register(Integration("acme", ["acme-fork"]))

    registry = IntegrationRegistry()
    registry.add(Integration("acme", ["acme-sdk"]), owner="acme_plugin")
    plugins = Plugins()
    plugins.register(Impostor(), info("impostor"))
    with pytest.raises(ImagecError, match="registered by both 'acme_plugin' and"):
        plugins.add_integrations(registry)


# -- imagec_transform_plan ---------------------------------------------------------------


def add_env(key: str, value: str):
    class Plugin:
        @hookimpl
        def imagec_transform_plan(self, plan, spec):
            assert spec is SPEC
            step = Env(Origin(f"plugin {key}"), ((key, value),))
            return dataclasses.replace(plan, steps=(*plan.steps, step))

    return Plugin()


def test_transform_plan_runs_in_registration_order_each_seeing_the_last():
    plugins = Plugins()
    plugins.register(add_env("FIRST", "1"), info("first"))
    plugins.register(add_env("SECOND", "2"), info("second"))
    steps = plugins.transform_plan(PLAN, SPEC).steps
    assert [s.pairs for s in steps[1:]] == [(("FIRST", "1"),), (("SECOND", "2"),)]


def test_transform_plan_honours_tryfirst_and_trylast():
    class Early:
        @hookimpl(tryfirst=True)
        def imagec_transform_plan(self, plan):
            return add_env("EARLY", "1").imagec_transform_plan(plan, SPEC)

    class Late:
        @hookimpl(trylast=True)
        def imagec_transform_plan(self, plan):
            return add_env("LATE", "1").imagec_transform_plan(plan, SPEC)

    plugins = Plugins()
    plugins.register(Late(), info("late"))
    plugins.register(add_env("MIDDLE", "1"), info("middle"))
    plugins.register(Early(), info("early"))
    steps = plugins.transform_plan(PLAN, SPEC).steps
    assert [s.pairs[0][0] for s in steps[1:]] == ["EARLY", "MIDDLE", "LATE"]


def test_transform_plan_returning_none_keeps_the_plan_and_may_omit_arguments():
    seen = []

    class Observer:
        @hookimpl
        def imagec_transform_plan(self, plan):  # pluggy lets an impl take fewer arguments
            seen.append(plan)

    plugins = Plugins()
    plugins.register(Observer(), info("observer"))
    assert plugins.transform_plan(PLAN, SPEC) is PLAN
    assert seen == [PLAN]


def test_transform_plan_failing_stops_the_compile_naming_the_plugin():
    class Failing:
        @hookimpl
        def imagec_transform_plan(self, plan, spec):
            raise KeyError("CA_BUNDLE")

    plugins = Plugins()
    plugins.register(Failing(), info("corp-ca"))
    with pytest.raises(ImagecError) as exc:
        plugins.transform_plan(PLAN, SPEC)
    assert str(exc.value) == (
        "plugin 'corp-ca' (dist-corp-ca 1.0) failed in imagec_transform_plan: KeyError: 'CA_BUNDLE'"
    )


def test_transform_plan_returning_something_else_is_an_error():
    class Wrong:
        @hookimpl
        def imagec_transform_plan(self, plan, spec):
            return list(plan.steps)

    plugins = Plugins()
    plugins.register(Wrong(), info("wrong"))
    with pytest.raises(ImagecError, match=r"'wrong' .* returned list from imagec_transform_plan"):
        plugins.transform_plan(PLAN, SPEC)
