"""The vocabulary of integrations that user code and plugins import: the names of the
built-ins (``imagec.integrations.constants``, for ``@pipeline(required_integrations=[...])``)
and the ``Integration`` record a plugin registers.

Imported inside built images, so standard library only. The registry that resolves names to
packages, and the built-in table, are part of resolution: ``imagec.resolve.integrations``.
"""

from __future__ import annotations

from imagec.integrations.integration import Integration

__all__ = ["Integration"]
