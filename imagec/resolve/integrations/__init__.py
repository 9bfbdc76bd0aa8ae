"""Integrations resolved: the registry that turns names into pip and apt packages, holding the
built-in table and what plugins register.

The names below resolve on first use: the built-in table is a plugin every command loads
(``imagec backends`` included), and the registry imports the requirement checker and
``packaging``, which only a compile needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imagec.resolve.integrations.builtin import builtin_integrations
    from imagec.resolve.integrations.registry import (
        IntegrationRegistry,
        canonical_name,
        default_registry,
        registry_with_plugins,
    )

_WHERE = {
    "IntegrationRegistry": "registry",
    "builtin_integrations": "builtin",
    "canonical_name": "registry",
    "default_registry": "registry",
    "registry_with_plugins": "registry",
}

__all__ = [
    "IntegrationRegistry",
    "builtin_integrations",
    "canonical_name",
    "default_registry",
    "registry_with_plugins",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        module = importlib.import_module(f"imagec.resolve.integrations.{_WHERE[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
