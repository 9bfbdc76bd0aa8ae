"""The plugin contract: every hook a plugin may implement.

Plugins are modules (or objects) exposing functions decorated with ``imagec.hookspecs.hookimpl``
and listed in the ``imagec.backends`` (or ``imagec.plugins``) entry-point group. Built-in
backends use exactly this contract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from imagec.backend.base import Backend
    from imagec.integrations import Integration
    from imagec.model.spec import Spec
    from imagec.plan.ir import Plan

PROJECT = "imagec"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def imagec_register_backends(register: Callable[[type[Backend]], None]) -> None:
    """Register backend classes by calling ``register(BackendClass)`` once for each.

    Every implementation is called (not ``firstresult``), once per process, the first time
    imagec lists or picks a backend. Only call ``register`` here; probing an engine belongs in
    ``Backend.health``. An exception is reported as a failure of this plugin alone.

    :param register: adds an ``imagec.backend.Backend`` subclass that sets ``name``,
        ``description`` and ``output``; a name already registered by another distribution is
        an error naming both.
    :return: nothing; the return value is ignored.

    Since 0.1.0.
    """


@hookspec
def imagec_register_integrations(register: Callable[[Integration], None]) -> None:
    """Register integrations by calling ``register(Integration(...))`` once for each.

    Every implementation is called (not ``firstresult``) when a spec is compiled.

    :param register: adds an ``imagec.integrations.Integration``; a name already registered
        by another plugin is an error naming both.
    :return: nothing; the return value is ignored.

    Since 0.1.0.
    """


@hookspec
def imagec_transform_plan(plan: Plan, spec: Spec) -> Plan | None:
    """Add or change IR steps before lowering (e.g. install a corporate CA or set a proxy).

    Every implementation is called (not ``firstresult``), in plugin registration order, each
    seeing the previous one's result. An exception stops the compile with an error naming the
    plugin: a plan missing a step a plugin should have added is never built.

    :param plan: the plan so far (frozen; build a new one with ``dataclasses.replace``).
    :param spec: the validated spec it was compiled from.
    :return: the new plan, or ``None`` to leave it unchanged.

    Since 0.1.0.
    """
