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
    from imagec.backend import Backend
    from imagec.integrations import Integration
    from imagec.ir import Plan
    from imagec.model import Spec

PROJECT = "imagec"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def imagec_register_backends(register: Callable[[type[Backend]], None]) -> None:
    """Register backend classes by calling ``register(BackendClass)`` once for each.

    :param register: adds a ``imagec.backend.Backend`` subclass; a name already registered
        by another distribution is an error naming both.

    Since 0.1.0.
    """


@hookspec
def imagec_register_integrations(register: Callable[[Integration], None]) -> None:
    """Register integrations by calling ``register(Integration(...))`` once for each.

    :param register: adds an ``imagec.integrations.Integration``; names are unique.

    Since 0.1.0.
    """


@hookspec
def imagec_transform_plan(plan: Plan, spec: Spec) -> Plan | None:
    """Add or change IR steps before lowering (e.g. install a corporate CA or set a proxy).

    Called in plugin registration order, each call seeing the previous result.

    :param plan: the plan so far (frozen; build a new one with ``dataclasses.replace``).
    :param spec: the validated spec it was compiled from.
    :return: the new plan, or ``None`` to leave it unchanged.

    Since 0.1.0.
    """
