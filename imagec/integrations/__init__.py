"""Integrations: named bundles of pip and apt packages that a pipeline or a stack requires.

Imported inside built images (via ``imagec.integrations.constants``), so the registry and the
built-in table load only when asked for.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Integration",
    "IntegrationRegistry",
    "builtin_integrations",
    "default_registry",
    "registry_with_plugins",
]

_LAZY = {
    "Integration": "imagec.integrations.integration",
    "IntegrationRegistry": "imagec.integrations.registry",
    "default_registry": "imagec.integrations.registry",
    "registry_with_plugins": "imagec.integrations.registry",
    "builtin_integrations": "imagec.integrations.builtin",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'imagec.integrations' has no attribute {name!r}")
