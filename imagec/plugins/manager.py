"""Find and load plugins: built-in and third-party backends and integrations alike.

Everything comes through entry points (groups ``imagec.backends`` and ``imagec.plugins``);
the core imports no backend. ``IMAGEC_PLUGINS`` limits external plugins: ``none`` loads only
the built-in distributions, ``a,b`` loads the built-ins plus the entry points named a and b.
A plugin that fails to import, or implements a hook that does not exist, is reported and left
out; the others keep working.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pluggy

from imagec.errors import ImagecError, SpecError
from imagec.plugins import hookspecs
from imagec.util.installation import installation_key
from imagec.util.records import Record, mark_frozen, record
from imagec.util.suggest import did_you_mean

if TYPE_CHECKING:
    from imagec.backend.base import Backend
    from imagec.integrations import Integration
    from imagec.model.spec import Spec
    from imagec.plan.ir import Plan
    from imagec.resolve.integrations.registry import IntegrationRegistry

ENTRY_POINT_GROUPS = ("imagec.backends", "imagec.plugins")
BUILTIN_DISTRIBUTIONS = frozenset(
    {"imagec", "imagec-containerfile", "imagec-docker", "imagec-podman"}
)
ENV_VAR = "IMAGEC_PLUGINS"


@record
class PluginInfo(Record):
    name: str
    distribution: str
    version: str


@record
class PluginFailure(Record):
    name: str
    distribution: str
    error: str

    def __str__(self) -> str:
        return f"plugin {self.name!r} ({self.distribution}) failed to load: {self.error}"


class DuplicateBackend(ImagecError):
    """Two distributions register a backend of the same name."""


@dataclass
class Plugins:
    """The plugin manager plus what each plugin registered."""

    pm: pluggy.PluginManager = field(default_factory=lambda: _new_manager())
    info: dict[str, PluginInfo] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)
    _backends: dict[str, tuple[type[Backend], str]] | None = None

    def register(self, plugin: Any, info: PluginInfo) -> None:
        """Register one plugin; a bad one becomes a failure instead of breaking the rest."""
        if info.name in self.info:
            other = self.info[info.name]
            self.failures.append(
                PluginFailure(
                    info.name,
                    info.distribution,
                    f"plugin name already used by {other.distribution}",
                )
            )
            return
        try:
            self.pm.register(plugin, name=info.name)
        except pluggy.PluginValidationError as exc:
            # A hookimpl taking an argument its hookspec does not have.
            self.failures.append(
                PluginFailure(info.name, info.distribution, _validation_reason(exc))
            )
            return
        except ValueError as exc:  # the same module registered under a second entry point
            self.failures.append(PluginFailure(info.name, info.distribution, _one_line(exc)))
            return
        unknown = [
            name
            for name in dir(self.pm.hook)
            if not name.startswith("_")
            and not getattr(self.pm.hook, name).has_spec()
            and any(i.plugin is plugin for i in getattr(self.pm.hook, name).get_hookimpls())
        ]
        if unknown:
            self.pm.unregister(plugin)
            hooks = ", ".join(f"{n}{did_you_mean(n, _hook_names())}" for n in sorted(unknown))
            self.failures.append(
                PluginFailure(info.name, info.distribution, f"implements unknown hook {hooks}")
            )
            return
        if not self.pm.get_hookcallers(plugin):
            # Most often a hook function without the @hookimpl marker, which pluggy ignores.
            self.pm.unregister(plugin)
            self.failures.append(
                PluginFailure(
                    info.name,
                    info.distribution,
                    "implements no imagec hook (is each hook decorated with "
                    "@imagec.hookspecs.hookimpl?)",
                )
            )
            return
        self.info[info.name] = info
        self._backends = None

    def load_entry_points(self, selected: Iterable[Found] | None = None) -> None:
        allowed = _allowed_external()
        eps = list(selected if selected is not None else installed_entry_points())
        if allowed:
            for name in sorted(allowed - {ep.name for ep in eps}):
                self.failures.append(
                    PluginFailure(name, ENV_VAR, f"no installed plugin is called {name!r}")
                )
        for ep in eps:
            builtin = ep.distribution in BUILTIN_DISTRIBUTIONS
            if not builtin and allowed is not None and ep.name not in allowed:
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin must not take imagec down
                self.failures.append(PluginFailure(ep.name, ep.distribution, _one_line(exc)))
                continue
            self.register(plugin, PluginInfo(ep.name, ep.distribution, ep.version))

    # -- what plugins registered ------------------------------------------------------------

    def backends(self) -> dict[str, tuple[type[Backend], str]]:
        """name -> (backend class, owning plugin name)."""
        if self._backends is None:
            found: dict[str, tuple[type[Backend], str]] = {}
            for impl in self.pm.hook.imagec_register_backends.get_hookimpls():
                owner = impl.plugin_name

                def register(cls: type[Backend], owner: str = owner) -> None:
                    _check_backend(cls)
                    if cls.name in found and found[cls.name][1] != owner:
                        first = self.distribution_of(found[cls.name][1])
                        second = self.distribution_of(owner)
                        raise DuplicateBackend(
                            f"backend {cls.name!r} is registered by both {first} and {second}; "
                            "uninstall one, or leave one out with IMAGEC_PLUGINS",
                        )
                    found[cls.name] = (cls, owner)

                try:
                    _call(impl, register=register)
                except DuplicateBackend:
                    raise  # which of the two to use is the user's decision, not ours
                except Exception as exc:  # one broken plugin must not hide the others' backends
                    self._hook_failed(impl, exc)
            self._backends = dict(sorted(found.items()))
        return self._backends

    def _hook_failed(self, impl: pluggy.HookImpl, exc: Exception) -> None:
        info = self.info.get(impl.plugin_name)
        dist = info.distribution if info else "?"
        self.failures.append(PluginFailure(impl.plugin_name, dist, _one_line(exc)))

    def backend(self, name: str) -> type[Backend]:
        backends = self.backends()
        if name not in backends:
            known = ", ".join(backends) or "none installed"
            failed = [f for f in self.failures if f.name == name]
            reason = f"; {failed[0]}" if failed else ""
            raise SpecError(
                f"unknown backend {name!r}{did_you_mean(name, backends)} (available: {known})"
                f"{reason}",
                field="--backend",
            )
        return backends[name][0]

    def distribution_of(self, plugin_name: str) -> str:
        info = self.info.get(plugin_name)
        return f"{info.distribution} {info.version}" if info else plugin_name

    def add_integrations(self, registry: IntegrationRegistry) -> None:
        """Call every plugin's ``imagec_register_integrations`` with ``register`` bound to that
        plugin, so each integration's owner is known, not guessed."""
        for impl in _registration_order(self.pm.hook.imagec_register_integrations.get_hookimpls()):
            owner = getattr(impl.plugin, "__name__", impl.plugin_name)  # a module's own name

            def register(integration: Integration, owner: str = owner) -> None:
                registry.add(integration, owner=owner)

            _call(impl, register=register)

    def transform_plan(self, plan: Plan, spec: Spec) -> Plan:
        for impl in _registration_order(self.pm.hook.imagec_transform_plan.get_hookimpls()):
            # A plan missing a step some plugin should have added must never be built, so a
            # failing transform stops the compile (naming the plugin) instead of being skipped.
            where = f"plugin {impl.plugin_name!r} ({self.distribution_of(impl.plugin_name)})"
            try:
                result = _call(impl, plan=plan, spec=spec)
            except ImagecError:
                raise
            except Exception as exc:
                raise ImagecError(
                    f"{where} failed in imagec_transform_plan: {_one_line(exc)}"
                ) from exc
            # type(plan): the plugin layer sits below the IR and imports it for typing only.
            if result is not None and not isinstance(result, type(plan)):
                raise ImagecError(
                    f"{where} returned {type(result).__name__} from imagec_transform_plan, "
                    "not a Plan or None"
                )
            if result is not None:
                plan = result
        return plan


def _new_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def _registration_order(impls: list[pluggy.HookImpl]) -> list[pluggy.HookImpl]:
    """Registration order, honouring tryfirst/trylast.

    pluggy keeps impls as [trylast..., others in registration order..., tryfirst...] and
    calls them last to first (LIFO); a pipeline of transforms wants them first to last.
    """
    return sorted(impls, key=lambda i: 0 if i.tryfirst else 2 if i.trylast else 1)


def _call(impl: pluggy.HookImpl, **kwargs: Any) -> Any:
    """Call one hookimpl as pluggy would: with only the arguments it declares."""
    return impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames})


# Checked by name: the plugin layer sits below the backend layer and imports it for typing only.
BACKEND_BASE = ("imagec.backend.base", "Backend")


def _is_backend_class(cls: object) -> bool:
    return isinstance(cls, type) and any(
        (c.__module__, c.__qualname__) == BACKEND_BASE for c in cls.__mro__
    )


def _check_backend(cls: object) -> None:
    if not _is_backend_class(cls):
        raise TypeError(f"registered {cls!r}, which is not a subclass of imagec.backend.Backend")
    missing = [a for a in ("name", "description", "output") if not hasattr(cls, a)]
    if missing:
        raise TypeError(f"backend class {cls.__name__} does not set {', '.join(missing)}")


def _validation_reason(exc: pluggy.PluginValidationError) -> str:
    # pluggy says: "Plugin 'x' for hook 'h'" / "hookimpl definition: h(args)" / "Argument(s)...".
    lines = [line.strip() for line in str(exc).strip().splitlines()]
    if len(lines) >= 3 and lines[1].startswith("hookimpl definition: "):
        return f"{lines[1].removeprefix('hookimpl definition: ')}: {lines[-1]}"
    return _one_line(exc)


def _hook_names() -> list[str]:
    return [n for n in dir(hookspecs) if n.startswith("imagec_")]


class Found(NamedTuple):
    """An entry point in one of imagec's groups, and the distribution that declares it."""

    group: str
    name: str
    value: str
    distribution: str
    version: str

    def load(self) -> Any:
        # As importlib.metadata.EntryPoint.load does, without importing importlib.metadata.
        module_name, _, attrs = self.value.partition(":")
        obj = importlib.import_module(module_name.strip())
        for attr in filter(None, attrs.split("[")[0].strip().split(".")):
            obj = getattr(obj, attr)
        return obj


def installed_entry_points() -> list[Found]:
    """imagec's entry points, sorted by distribution and name.

    Scanning every installed distribution's metadata costs more than the rest of a compile's
    start-up, so the result is cached, keyed by the import path and the name and mtime of
    every ``*.dist-info``/``*.egg-info`` on it: installing, upgrading or removing anything
    changes the key.
    """
    key = installation_key()
    cache_file = _cache_dir() / f"entry-points-{key}.json"
    try:
        return [Found(*row) for row in json.loads(cache_file.read_text())]
    except (OSError, ValueError, TypeError):
        pass
    found = _scan_entry_points()
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(found))
        os.replace(tmp, cache_file)
    except OSError:
        pass  # a read-only home still works, just slower
    return found


def _scan_entry_points() -> list[Found]:
    # Lazy: importlib.metadata costs more than a cached start-up; only a cache miss needs it.
    from importlib.metadata import entry_points

    found = []
    for group in ENTRY_POINT_GROUPS:
        for ep in entry_points(group=group):
            dist, version = (ep.dist.name, ep.dist.version) if ep.dist else ("?", "?")
            found.append(Found(group, ep.name, ep.value, dist, version))
    return sorted(found, key=lambda f: (f.distribution, f.name, f.group))


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "imagec"


def _allowed_external() -> frozenset[str] | None:
    value = os.environ.get(ENV_VAR)
    if value is None or value.strip() in ("", "all"):
        return None
    if value.strip() == "none":
        return frozenset()
    return frozenset(v.strip() for v in value.split(",") if v.strip())


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


@cache
def get_plugins() -> Plugins:
    plugins = Plugins()
    plugins.load_entry_points()
    return plugins


mark_frozen(PluginFailure, PluginInfo)
