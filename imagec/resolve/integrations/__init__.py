"""Integrations resolved: the registry that turns names into pip and apt packages, holding the
built-in table and what plugins register."""

from __future__ import annotations

from imagec.resolve.integrations.builtin import builtin_integrations
from imagec.resolve.integrations.registry import (
    IntegrationRegistry,
    canonical_name,
    default_registry,
    registry_with_plugins,
)

__all__ = [
    "IntegrationRegistry",
    "builtin_integrations",
    "canonical_name",
    "default_registry",
    "registry_with_plugins",
]
