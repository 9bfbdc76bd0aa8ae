"""Load a spec from any frontend and resolve its surroundings into a ``Plan``.

This is the one place that knows the whole flow: document -> Spec -> Inputs -> Plan.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from imagec.compiler import (
    Inputs,
    RequirementsSource,
    constraints_file_name,
    origin,
    plan,
    require_dir,
    requirements_file_name,
    resolve_path,
)
from imagec.document import Document, format_loc
from imagec.errors import SpecError
from imagec.ir import Origin, Plan
from imagec.model import Spec, check_apt_package, requirements_file_of
from imagec.validate import validate_spec

if TYPE_CHECKING:
    from imagec.integrations import IntegrationRegistry
    from imagec.stack import Stack


@dataclass
class Project:
    doc: Document
    spec: Spec
    plan: Plan
    source_root: Path | None
    root_rule: str
    ignore_file: Path | None
    stack: Stack | None


def split_python_target(target: str) -> tuple[Path, str | None] | None:
    """``a/b.py:fn`` -> (a/b.py, "fn"); ``a/b.py`` -> (a/b.py, None); else None."""
    path, sep, name = target.rpartition(":")
    if sep and path.endswith(".py") and name.isidentifier():
        return Path(path), name
    if target.endswith(".py"):
        return Path(target), None
    return None


def load_document(target: str, *, import_module: bool = False) -> Document:
    python = split_python_target(target)
    if python is not None:
        path, name = python
        if import_module:
            from imagec.frontend.pyimport import import_spec

            return import_spec(path, name)
        from imagec.frontend.pysource import extract

        return extract(path, name)
    from imagec.loaders import load_spec_document

    path = Path(target)
    if not path.exists():
        raise SpecError("spec file not found", file=path)
    return load_spec_document(path)


def load_project(
    target: str,
    *,
    import_module: bool = False,
    stack: str | None = None,
    dockerignore: str | None = None,
) -> Project:
    doc = load_document(target, import_module=import_module)
    spec = validate_spec(doc)
    return resolve(doc, spec, stack=stack, dockerignore=dockerignore)


def resolve(
    doc: Document, spec: Spec, *, stack: str | None = None, dockerignore: str | None = None
) -> Project:
    from imagec.context.source_root import REPO_MARKER, detect_source_root

    explicit_root = (
        require_dir(doc, spec.source_root, "source_root").absolute() if spec.source_root else None
    )
    start = (
        "directory of the Python file" if doc.path.suffix == ".py" else "directory of the spec file"
    )
    found = detect_source_root(doc.directory, explicit=explicit_root, start_label=start)
    root, rule = found.path, found.rule
    ignore_file = _ignore_file(doc, spec, root, dockerignore)

    from imagec.integrations import registry_with_plugins

    registry = registry_with_plugins()
    repo_root = root if (root / REPO_MARKER).is_dir() else None
    active_stack = None
    if repo_root is not None or stack or os.environ.get("IMAGEC_STACK"):
        from imagec.stack import load_stack  # pydantic models of its own: load when needed

        active_stack = load_stack(repo_root, stack)
    requirements, apt = _requirements(doc, spec, registry, active_stack)

    stack_bytes = stack_path = None
    stack_env: tuple[tuple[str, str], ...] = ()
    if spec.copy_stack and active_stack is not None:
        from imagec.stack import CONFIG_DIR_ENV_VAR, IMAGE_CONFIG_DIR, IMAGE_STACK_PATH

        stack_bytes = active_stack.render_for_image()
        stack_path = IMAGE_STACK_PATH
        stack_env = ((CONFIG_DIR_ENV_VAR, IMAGE_CONFIG_DIR),)

    find_links = []
    for i, value in enumerate(spec.find_links):
        if "://" in value:
            find_links.append((value, None))
        else:
            find_links.append((value, require_dir(doc, value, "find_links", i)))

    inputs = Inputs(
        source_root=root if spec.copy_source else None,
        ignore_file=ignore_file,
        requirements=tuple(requirements),
        apt_packages=tuple(dict.fromkeys([*spec.apt_packages, *sorted(set(apt))])),
        stack_file=stack_bytes,
        stack_path=stack_path,
        stack_env=stack_env,
        find_links=tuple(find_links),
        pipeline_target=_pipeline_target(doc, root),
        image_name=spec.image_name or _default_image_name(root),
        runtime=_runtime_source() if spec.install_imagec else "wheel",
    )
    from imagec.plugins import get_plugins

    the_plan = get_plugins().transform_plan(plan(spec, doc, inputs), spec)
    return Project(
        doc=doc,
        spec=spec,
        plan=the_plan,
        source_root=root,
        root_rule=rule,
        ignore_file=ignore_file,
        stack=active_stack,
    )


def _ignore_file(doc: Document, spec: Spec, root: Path, cli_value: str | None) -> Path | None:
    from imagec.context.source_root import find_ignore_file

    where: dict = {"field": "--dockerignore"}
    if cli_value is not None:
        explicit: Path | None = Path(cli_value)
    elif spec.dockerignore_file is not None:
        explicit = resolve_path(doc, spec.dockerignore_file, "dockerignore_file")
        line, col = doc.where(("dockerignore_file",))
        where = {"file": doc.path, "line": line, "column": col, "field": "dockerignore_file"}
    else:
        explicit = None
    if explicit is not None:
        # Checked now, not when the context is made: a wrong path is a wrong spec.
        if not explicit.exists():
            raise SpecError(f"ignore file {str(explicit)!r} not found", **where)
        if not explicit.is_file():
            raise SpecError(f"ignore file {str(explicit)!r} is not a file", **where)
        if not os.access(explicit, os.R_OK):
            raise SpecError(f"ignore file {str(explicit)!r} is not readable", **where)
    return find_ignore_file(root, explicit)


def _requirements(
    doc: Document, spec: Spec, registry: IntegrationRegistry, stack: Stack | None
) -> tuple[list[RequirementsSource], list[str]]:
    """One requirements source per layer, in a fixed order: integrations, stack integrations,
    requirements files, the list. Conflicting pins across all of them are an error."""
    from imagec.requirements import (
        merge_sources,
        read_requirements_file,
        render_constraints_file,
        render_requirements_file,
        requirement_line,
    )

    groups: list[tuple[str, Origin, str, list]] = []  # (key, origin, header, lines)
    apt: list[str] = []

    def integration_lines(names: list[str], field: str | None) -> list:
        lines = []
        for i, name in enumerate(names):
            line, col = doc.where((field, i)) if field else (None, None)
            where = {"file": doc.path, "line": line, "column": col} if field else {}
            integration = registry.get(name, field=f"{field}[{i}]" if field else None, **where)
            for package in integration.apt_packages:  # they reach a shell script
                try:
                    apt.append(check_apt_package(package))
                except ValueError as exc:
                    raise SpecError(f"integration {integration.name!r}: {exc}") from None
            label = f"integration '{integration.name}'"
            lines += [requirement_line(r, source=label) for r in integration.requirements]
        return lines

    names = list(dict.fromkeys(spec.required_integrations))
    if names:
        lines = integration_lines(names, "required_integrations")
        header = f"integrations: {', '.join(names)}"
        groups.append(("integrations", origin(doc, "required_integrations"), header, lines))
    if stack is not None and spec.install_stack_requirements:
        wanted = {registry.get(n).name for n in names}
        stack_names = [n for n in stack.required_integrations(registry) if n not in wanted]
        if stack_names:
            lines = integration_lines(stack_names, None)
            header = f"stack {stack.name!r} integrations: {', '.join(stack_names)}"
            groups.append(("stack", Origin("stack", stack.path.name), header, lines))

    entries = [spec.requirements] if isinstance(spec.requirements, str) else spec.requirements
    listed = []
    for i, entry in enumerate(entries):
        loc = ("requirements",) if isinstance(spec.requirements, str) else ("requirements", i)
        line, col = doc.where(loc)
        path = entry if isinstance(spec.requirements, str) else requirements_file_of(entry)
        if path is None:
            field = format_loc(loc)
            where = {"file": doc.path, "line": line, "column": col, "field": field}
            listed.append(requirement_line(entry, source="requirements", **where))
            continue
        lines = read_requirements_file(
            Path(path), base_dir=doc.directory, origin=(doc.path, line, col)
        )
        groups.append(("file", Origin("requirements", doc.path.name, line), path, lines))
    if listed:
        groups.append(("list", origin(doc, "requirements"), "requirements", listed))

    merge_sources([(header, lines) for _, _, header, lines in groups])
    sources = []
    for n, (key, where, header, lines) in enumerate(groups, 1):
        name = requirements_file_name(n, key)
        constraints = render_constraints_file(lines, header=header)
        text = render_requirements_file(
            lines, header=header, constraints=constraints_file_name(name)
        )
        sources.append(RequirementsSource(key, where, text, constraints))
    return sources, apt


def _pipeline_target(doc: Document, root: Path) -> str | None:
    """``FILE:NAME`` of a decorated pipeline, relative to the source root (the image's workdir)."""
    if not doc.pipeline or doc.path.suffix != ".py":
        return None
    try:
        rel = doc.path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None
    return f"{rel}:{doc.pipeline}"


def _runtime_source() -> str:
    from imagec.wheel import installed_from_index

    return "index" if installed_from_index() else "wheel"


def _default_image_name(root: Path) -> str:
    import re

    name = re.sub(r"[^a-z0-9]+", "-", root.resolve().name.lower()).strip("-") or "app"
    return f"imagec/{name}"
