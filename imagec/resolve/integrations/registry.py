"""The set of known integrations: built-ins plus whatever plugins register."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path

from imagec.errors import SpecError
from imagec.integrations.integration import Integration
from imagec.plugins.manager import get_plugins
from imagec.resolve.integrations import builtin
from imagec.resolve.integrations.builtin import imagec_register_integrations
from imagec.resolve.requirements import parse_requirement
from imagec.util.suggest import did_you_mean

_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_FLAVOR = re.compile(r"^[a-z][a-z0-9_]*:[a-z0-9][a-z0-9_.-]*$")


def canonical_name(name: str) -> str:
    """``Great-Expectations`` and ``great_expectations`` name the same integration."""
    return name.strip().lower().replace("-", "_")


class IntegrationRegistry:
    def __init__(self) -> None:
        self._items: dict[str, Integration] = {}
        self._owners: dict[str, str] = {}

    def add(self, integration: Integration, *, owner: str) -> None:
        """Register ``integration`` for ``owner`` (the plugin, named in messages).

        Plugins receive this method, bound to their name, as ``register`` in
        ``imagec_register_integrations``. Registering an identical integration again from the
        same owner is a no-op.
        """
        _check(integration, owner)
        name = integration.name
        if name in self._items:
            if self._owners[name] == owner and self._items[name] == integration:
                return
            first = self._owners[name]
            raise SpecError(
                f"integration '{name}' is registered twice by '{owner}'"
                if first == owner
                else f"integration '{name}' is registered by both '{first}' and '{owner}'"
            )
        self._items[name] = integration
        self._owners[name] = owner

    def get(
        self,
        name: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
    ) -> Integration:
        """The integration called ``name``; an unknown name is a ``SpecError`` at that place."""
        found = self._items.get(canonical_name(name))
        if found is None:
            hint = did_you_mean(canonical_name(name), self._items)
            listed = "" if hint else f"; known integrations: {', '.join(self.names())}"
            raise SpecError(
                f"unknown integration '{name}'{hint}{listed}",
                file=file,
                line=line,
                column=column,
                field=field,
            )
        return found

    def names(self) -> list[str]:
        return sorted(self._items)

    def owner(self, name: str) -> str:
        return self._owners[canonical_name(name)]

    def for_flavor(self, component_type: str, flavor: str) -> list[Integration]:
        """Integrations implied by a stack component, e.g. ``("experiment_tracker", "mlflow")``."""
        key = f"{component_type}:{flavor}"
        return [self._items[n] for n in self.names() if key in self._items[n].flavors]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and canonical_name(name) in self._items

    def __iter__(self) -> Iterator[Integration]:
        return (self._items[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._items)


def _check(integration: Integration, owner: str) -> None:
    """Reject a malformed integration, naming the plugin that registered it."""
    if not isinstance(integration, Integration):
        raise SpecError(f"'{owner}' registered {type(integration).__name__}, not an Integration")
    where = f"integration '{integration.name}' from '{owner}'"
    if not _NAME.match(integration.name):
        raise SpecError(f"{where}: the name must be lowercase letters, digits and '_'")
    for text in integration.requirements:
        parse_requirement(text, field=where)
    for flavor in integration.flavors:
        if not _FLAVOR.match(flavor):
            raise SpecError(f"{where}: flavor '{flavor}' is not '<component_type>:<flavor>'")


def default_registry() -> IntegrationRegistry:
    """The built-in integrations only, without loading any plugin (tests, offline tools)."""
    registry = IntegrationRegistry()
    imagec_register_integrations(functools.partial(registry.add, owner=builtin.__name__))
    return registry


def registry_with_plugins() -> IntegrationRegistry:
    """Every integration the loaded plugins register. The built-ins are one of those plugins
    (the ``imagec.plugins`` entry point of imagec itself), so they are registered once."""
    registry = IntegrationRegistry()
    get_plugins().add_integrations(registry)
    return registry
