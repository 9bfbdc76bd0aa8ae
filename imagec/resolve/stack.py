"""The active stack: the orchestrator, artifact store, trackers... a pipeline runs against.

It lives in the imagec repository (the directory holding ``.imagec/``):

    .imagec/stack.yaml          the default stack ("default")
    .imagec/stacks/<name>.yaml  others, chosen with ``--stack NAME`` or ``IMAGEC_STACK=NAME``
                                (either may also be a path to a stack file)

Format::

    name: local
    components:
      orchestrator: {flavor: local}
      artifact_store: {flavor: s3, config: {path: "s3://bucket/prefix"}}
      experiment_tracker:
        flavor: mlflow
        config: {tracking_uri: "http://mlflow:5000", tracking_token: "${MLFLOW_TOKEN}"}

A ``container_registry`` (``config: {uri: host[:port]/path}``) is where ``imagec build``
names and pushes the image (``<uri>/<image_name>:<content hash>``) and looks for it before
building; its login is the engine's own, never in this file.

Component flavors imply integrations (an ``s3`` artifact store needs ``s3fs``). The validated
stack is copied into the image at ``/etc/imagec/stack.yaml``, and ``IMAGEC_CONFIG_DIR`` points
at ``/etc/imagec``.

Secrets policy: the copied file can be read by anyone who can pull the image, so it never
holds a secret. Values refer to the environment as ``${VAR}``; references are copied as written
and resolved inside the container at run time (``resolve_env_refs``). A literal value under a
key that names a secret (``password``, ``token``, ``secret``, ``credential``, ``api_key``,
``private_key``, ...) and a password written into a URL are refused, naming file, line and key
but never the value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from imagec.errors import SpecError
from imagec.model.pydantic_errors import render_validation_error
from imagec.model.reference import NAME_RE
from imagec.resolve.source_root import REPO_MARKER
from imagec.spec.document import Document, Loc, format_loc
from imagec.spec.loaders import load_yaml, read_text
from imagec.util.fsutil import atomic_write_text
from imagec.util.records import Record, mark_frozen, record
from imagec.util.secrets import ENV_REF, credential_in, is_env_ref, is_secret_key
from imagec.util.suggest import did_you_mean
from imagec.util.text import bare, show

if TYPE_CHECKING:
    from imagec.resolve.integrations.registry import IntegrationRegistry

STACK_FILE = "stack.yaml"
STACKS_DIR = "stacks"
DEFAULT_STACK_NAME = "default"
STACK_ENV_VAR = "IMAGEC_STACK"
IMAGE_CONFIG_DIR = "/etc/imagec"
IMAGE_STACK_PATH = f"{IMAGE_CONFIG_DIR}/{STACK_FILE}"
CONFIG_DIR_ENV_VAR = "IMAGEC_CONFIG_DIR"

COMPONENT_TYPES = (
    "orchestrator",
    "artifact_store",
    "container_registry",
    "experiment_tracker",
    "step_operator",
    "model_deployer",
    "model_registry",
    "data_validator",
    "feature_store",
    "alerter",
    "annotator",
    "image_builder",
)
REQUIRED_COMPONENTS = ("orchestrator", "artifact_store")

DEFAULT_STACK = """\
# The default imagec stack, copied into images built from this repository.
# Select another with --stack NAME or IMAGEC_STACK=NAME (.imagec/stacks/NAME.yaml).
# Never write secrets here: write ${ENV_VAR}; it is resolved inside the container at run time.
name: default
components:
  orchestrator:
    flavor: local
  artifact_store:
    flavor: local
"""

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class _Strict(BaseModel):
    # Built on first validation: most projects have no stack file.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class Component(_Strict):
    flavor: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$")] = Field(
        description="Implementation of the component, e.g. 'local', 's3', 'mlflow'."
    )
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="Flavor settings; '${VAR}' refers to the container's environment.",
    )


class StackSpec(_Strict):
    name: Annotated[str, StringConstraints(pattern=_NAME)] = Field(description="Stack name.")
    components: dict[str, Component] = Field(description="Component type -> component.")


@record
class Stack(Record):
    name: str
    components: dict[str, Component]
    path: Path

    def required_integrations(self, registry: IntegrationRegistry) -> list[str]:
        """Integration names the component flavors imply, sorted."""
        names = {
            integration.name
            for kind, component in self.components.items()
            for integration in registry.for_flavor(kind, component.flavor)
        }
        return sorted(names)

    @property
    def registry_uri(self) -> str | None:
        """The container registry images are named in and pushed to (``host[:port]/path``),
        checked when the stack was read; None without a ``container_registry``."""
        component = self.components.get("container_registry")
        return component.config["uri"].rstrip("/") if component is not None else None

    def env_vars(self) -> list[str]:
        """The ``${VAR}`` names the container must provide, sorted."""
        found: set[str] = set()
        for component in self.components.values():
            for text in _strings(component.config):
                found.update(ENV_REF.findall(text))
        return sorted(found)

    def render_for_image(self) -> bytes:
        """The stack file copied into the image: deterministic, references unresolved."""
        components: dict[str, Any] = {}
        for kind, component in self.components.items():
            entry: dict[str, Any] = {"flavor": component.flavor}
            if component.config:
                entry["config"] = component.config
            components[kind] = entry
        body = yaml.safe_dump(
            {"name": self.name, "components": components},
            sort_keys=True,
            default_flow_style=False,
            allow_unicode=True,
        )
        header = (
            f"# imagec stack '{self.name}'. ${{VAR}} references are resolved from the\n"
            "# container's environment at run time.\n"
        )
        return (header + body).encode("utf-8")


def init_repository(path: Path) -> Path:
    """Create ``path/.imagec/`` with the default stack, making ``path`` (and its parents) when
    missing. An existing ``.imagec`` is never touched. Returns ``.imagec``."""
    if path.exists() and not path.is_dir():
        raise SpecError("not a directory", file=path)
    marker = path / REPO_MARKER
    stack_file = marker / STACK_FILE
    try:
        path.mkdir(parents=True, exist_ok=True)
        marker.mkdir()  # not exist_ok: an existing .imagec/ is the user's, whatever it holds
    except FileExistsError:
        if not marker.is_dir():
            raise SpecError("exists and is not a directory", file=marker) from None
        raise SpecError(
            "already initialized; not touching the existing directory", file=marker
        ) from None
    except OSError as e:
        raise SpecError(f"cannot create the directory: {e.strerror}", file=e.filename) from None
    try:
        atomic_write_text(stack_file, DEFAULT_STACK)  # never a half-written stack file
    except OSError as e:
        marker.rmdir()  # empty: it was made just now
        raise SpecError(f"cannot create the stack file: {e.strerror}", file=stack_file) from None
    return marker


def load_stack(repo_root: Path | None, selector: str | None = None) -> Stack | None:
    """The active stack: ``selector`` (``--stack``), else ``IMAGEC_STACK``, else the default.

    A selector is a stack name (``.imagec/stacks/NAME.yaml``; ``default`` is
    ``.imagec/stack.yaml``) or a path to a stack file. Returns None when nothing is selected
    and the repository has no default stack.
    """
    origin = "--stack"
    if not selector:
        selector, origin = os.environ.get(STACK_ENV_VAR) or None, STACK_ENV_VAR
    if selector is None:
        if repo_root is None:
            return None
        default = repo_root / REPO_MARKER / STACK_FILE
        return read_stack(_in_repository(default, repo_root)) if default.exists() else None
    return read_stack(_select(repo_root, selector, origin))


def _in_repository(path: Path, repo_root: Path) -> Path:
    """A stack file found in the repository (not named by a path) that stays in it once
    symlinks are followed: a `.imagec` linked to a host directory would have that
    directory's file read, copied into the image and quoted in errors."""
    if not path.resolve().is_relative_to(repo_root.resolve()):
        raise SpecError(
            f"is a symlink out of the repository {str(repo_root)!r} (to a host file); "
            f"keep {REPO_MARKER}/ and its stacks inside the repository",
            file=path,
        )
    return path


def read_stack(path: Path) -> Stack:
    """Load and validate one stack file."""
    doc = load_yaml(path, read_text(path, "stack file"))
    if doc.data is None:
        raise SpecError("stack file is empty", file=path)
    if not isinstance(doc.data, dict):
        line, column = doc.where(())
        raise SpecError(
            "expected a mapping with 'name' and 'components'", file=path, line=line, column=column
        )
    try:
        spec = StackSpec.model_validate(doc.data)
    except ValidationError as e:
        raise _validation_error(doc, e) from None
    _check_components(doc, spec)
    for kind, component in spec.components.items():
        _check_config(doc, ("components", kind, "config"), component.config, component.flavor)
    _check_registry(doc, spec)
    return Stack(name=spec.name, components=dict(spec.components), path=path)


def resolve_env_refs(value: Any, environ: Mapping[str, str] | None = None) -> Any:
    """Replace ``${VAR}`` in every string of ``value``; run inside the container."""
    env = os.environ if environ is None else environ

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise SpecError(f"environment variable {name} is not set (the stack refers to it)")
        return env[name]

    if isinstance(value, str):
        return ENV_REF.sub(replace, value)
    if isinstance(value, Mapping):
        return {k: resolve_env_refs(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_env_refs(v, env) for v in value]
    return value


# --- helpers -------------------------------------------------------------------------------


def _select(repo_root: Path | None, selector: str, origin: str) -> Path:
    if "/" in selector or os.sep in selector or selector.endswith((".yaml", ".yml")):
        path = Path(selector).expanduser()
        if not path.exists():
            raise SpecError(f"stack file not found (from {origin})", file=path)
        return path
    if repo_root is None:
        raise SpecError(
            f"stack '{selector}' (from {origin}) is looked up in {REPO_MARKER}/{STACKS_DIR}/, "
            "but there is no imagec repository here; run 'imagec init' or give a stack file path"
        )
    marker = repo_root / REPO_MARKER
    if selector == DEFAULT_STACK_NAME and (marker / STACK_FILE).exists():
        return _in_repository(marker / STACK_FILE, repo_root)
    stacks = marker / STACKS_DIR
    for suffix in (".yaml", ".yml"):
        if (stacks / f"{selector}{suffix}").is_file():
            return _in_repository(stacks / f"{selector}{suffix}", repo_root)
    names = sorted(p.stem for p in stacks.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))
    if (marker / STACK_FILE).exists():
        names.insert(0, DEFAULT_STACK_NAME)
    hint = did_you_mean(selector, names)
    listed = f"; stacks: {', '.join(names)}" if names and not hint else ""
    raise SpecError(f"no stack named '{selector}' (from {origin}){hint}{listed}", file=stacks)


def _validation_error(doc: Document, error: ValidationError) -> SpecError:
    return render_validation_error(
        error,
        doc,
        known=lambda parent: StackSpec.model_fields if not parent else Component.model_fields,
        wording=_stack_wording,
    )


def _stack_wording(loc: Loc, err: dict[str, Any]) -> str | None:
    if err["type"] != "string_pattern_mismatch":
        return None
    if loc[-1] == "flavor":
        return f"{err['input']!r} must be lowercase letters, digits, '.', '_' and '-'"
    return f"{err['input']!r} must be letters, digits, '.', '_' and '-'"


def _check_components(doc: Document, spec: StackSpec) -> None:
    for kind in spec.components:
        if kind not in COMPONENT_TYPES:
            line, column = doc.keys.get(("components", kind)) or doc.where(("components",))
            hint = did_you_mean(kind, COMPONENT_TYPES)
            listed = "" if hint else f"; known types: {', '.join(COMPONENT_TYPES)}"
            raise SpecError(
                f"unknown component type '{kind}'{hint}{listed}",
                file=doc.path,
                line=line,
                column=column,
                field="components",
            )
    for kind in REQUIRED_COMPONENTS:
        if kind not in spec.components:
            line, column = doc.keys.get(("components",)) or doc.where(("components",))
            raise SpecError(
                f"stack '{spec.name}' has no {kind}",
                file=doc.path,
                line=line,
                column=column,
                field="components",
            )


def _check_registry(doc: Document, spec: StackSpec) -> None:
    """``container_registry.config.uri``: a registry host and a repository path, e.g.
    ``registry.example:5000/team``; imagec names images ``<uri>/<image_name>:<hash>``."""
    component = spec.components.get("container_registry")
    if component is None:
        return
    loc: Loc = ("components", "container_registry", "config", "uri")
    uri = component.config.get("uri")
    problem = None
    if not isinstance(uri, str) or not uri:
        problem = "a container_registry needs 'uri: host[:port]/path' (e.g. registry.example/team)"
        loc = loc[:-1] if "uri" not in component.config else loc
    else:
        host, sep, _path = uri.rstrip("/").partition("/")
        if "://" in uri:
            problem = f"{show(uri)} has a scheme; write host[:port]/path (registries are HTTPS)"
        elif "${" in uri:
            problem = "the registry address is read when building; write it, not ${VAR}"
        elif not sep and ("." in host or ":" in host or host == "localhost"):
            problem = f"{show(uri)} has no repository path; write host[:port]/path ({host}/team)"
        elif not NAME_RE.match(uri.rstrip("/")) or not (
            "." in host or ":" in host or host == "localhost"
        ):
            problem = (
                f"{show(uri)} is not host[:port]/path (the host needs a '.' or a port, or is "
                "localhost; the path is lowercase letters, digits and separators)"
            )
    if problem is not None:
        line, column = doc.where(loc)
        raise SpecError(problem, file=doc.path, line=line, column=column, field=format_loc(loc))


def _check_config(doc: Document, loc: Loc, value: Any, flavor: str, secret: bool = False) -> None:
    """Refuse literal secrets and malformed ``${...}`` references anywhere under ``loc``."""

    def fail(message: str) -> SpecError:
        line, column = doc.where(loc)
        return SpecError(message, file=doc.path, line=line, column=column, field=format_loc(loc))

    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and credential_in(key) is not None:
                raise fail("a key holds a password or token; keys are copied into the image too")
            inner = secret or (isinstance(key, str) and is_secret_key(key))
            _check_config(doc, (*loc, key), item, flavor, inner)
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_config(doc, (*loc, i), item, flavor, secret)
        return
    key = next((p for p in reversed(loc) if isinstance(p, str)), "value")
    var = re.sub(r"[^A-Za-z0-9]+", "_", f"{flavor}_{key}").upper()[:64]
    way_out = f"write '${{{var}}}' and set {var} in the container's environment"
    if isinstance(value, bytes):
        # `!!binary` hides its content from every check below.
        raise fail(f"binary (!!binary) values are not allowed in a stack file; {way_out}")
    if value is None or isinstance(value, bool):
        return
    if not isinstance(value, str):
        # A number or a date under a secret key is a secret all the same (`password: 8675309`).
        if secret:
            raise fail(
                f"'{bare(key)}' holds a literal secret, and the stack file is copied into the "
                f"image; {way_out}"
            )
        return
    for match in re.finditer(r"\$\{", value):
        if not ENV_REF.match(value, match.start()):
            raise fail("malformed environment reference; write ${NAME} (letters, digits, '_')")
    if secret and value and not is_env_ref(value):
        raise fail(
            f"'{bare(key)}' holds a literal secret, and the stack file is copied into the image; "
            f"{way_out}"
        )
    kind = credential_in(value)
    if kind is not None:
        raise fail(
            f"the value holds {kind}, and the stack file is copied into the image; write the "
            "secret part as ${VAR}"
        )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


mark_frozen(Stack)
