"""Layer 5, plugins: the hook contract (``hookspecs``) and the manager that loads built-in and
third-party plugins through entry points (``manager``)."""

from __future__ import annotations

from imagec.plugins.hookspecs import hookimpl
from imagec.plugins.manager import PluginFailure, PluginInfo, Plugins, get_plugins

__all__ = ["PluginFailure", "PluginInfo", "Plugins", "get_plugins", "hookimpl"]
