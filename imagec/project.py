"""Load a spec from any frontend and resolve its surroundings into a ``Plan``.

This is the one place that knows the whole flow: document -> Spec -> Inputs -> Plan.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from imagec.compiler import (
    IMG_REQUIREMENTS,
    Inputs,
    RequirementsSource,
    origin,
    plan,
    require_dir,
    resolve_path,
)
from imagec.document import Document
from imagec.errors import SpecError
from imagec.ir import Origin, Plan
from imagec.model import Spec
from imagec.validate import validate_spec


@dataclass
class Project:
    doc: Document
    spec: Spec
    plan: Plan
    source_root: Path | None
    root_rule: str
    ignore_file: Path | None
    stack_file: Path | None


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
    from imagec.context.source_root import find_source_root

    explicit_root = require_dir(doc, spec.source_root, "source_root") if spec.source_root else None
    root, rule = find_source_root(doc.directory, explicit_root)
    ignore_file = _ignore_file(doc, spec, root, dockerignore)

    from imagec.integrations import registry_with_plugins

    registry = registry_with_plugins()
    from imagec.stack import IMAGE_CONFIG_DIR, load_stack

    repo_root = root if (root / ".imagec").is_dir() else None
    active_stack = load_stack(repo_root, stack or os.environ.get("IMAGEC_STACK"))
    requirements, apt = _requirements(doc, spec, registry, active_stack)

    stack_bytes = stack_path = None
    stack_env: tuple[tuple[str, str], ...] = ()
    if spec.copy_stack and active_stack is not None:
        stack_bytes = active_stack.render_for_image()
        stack_path = f"{IMAGE_CONFIG_DIR}/stack.yaml"
        stack_env = (("IMAGEC_CONFIG_DIR", IMAGE_CONFIG_DIR),)

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
        apt_packages=tuple(sorted(set(apt))),
        stack_file=stack_bytes,
        stack_path=stack_path,
        stack_env=stack_env,
        find_links=tuple(find_links),
        default_command=_default_command(doc, root),
        image_name=spec.image_name or _default_image_name(root),
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
        stack_file=active_stack.path if active_stack is not None else None,
    )


def _ignore_file(doc: Document, spec: Spec, root: Path, cli_value: str | None) -> Path | None:
    from imagec.context.ignorefile import choose_ignore_file

    if cli_value is not None:
        explicit: Path | None = Path(cli_value)
    elif spec.dockerignore_file is not None:
        explicit = resolve_path(doc, spec.dockerignore_file, "dockerignore_file")
    else:
        explicit = None
    return choose_ignore_file(root, explicit)


def _requirements(doc, spec, registry, stack) -> tuple[list[RequirementsSource], list[str]]:
    from imagec.requirements import (
        check_conflicts,
        parse_requirement,
        read_requirements_file,
        render_requirements_file,
    )

    sources: list[RequirementsSource] = []
    parsed: list[tuple[str, list]] = []
    apt: list[str] = []

    def integration_lines(names: list[str], field: str) -> list:
        lines = []
        for i, name in enumerate(names):
            line, col = doc.where((field, i)) if field == "required_integrations" else (None, None)
            integration = registry.get(name, file=doc.path, line=line, column=col, field=f"{field}[{i}]")
            apt.extend(integration.apt_packages)
            for req in integration.requirements:
                lines.append(parse_requirement(req, file=f"integration {name}"))
        return lines

    names = list(dict.fromkeys(spec.required_integrations))
    if names:
        lines = integration_lines(names, "required_integrations")
        parsed.append(("required_integrations", lines))
        sources.append(
            RequirementsSource(
                "integrations",
                origin(doc, "required_integrations"),
                render_requirements_file(lines, header=f"integrations: {', '.join(names)}"),
            )
        )
    if stack is not None and spec.install_stack_requirements:
        stack_names = [n for n in stack.required_integrations(registry) if n not in names]
        if stack_names:
            lines = integration_lines(stack_names, "stack")
            parsed.append((f"stack {stack.path}", lines))
            sources.append(
                RequirementsSource(
                    "stack",
                    Origin("stack integrations", str(stack.path.name)),
                    render_requirements_file(lines, header=f"stack integrations: {', '.join(stack_names)}"),
                )
            )
    if isinstance(spec.requirements, str):
        path = resolve_path(doc, spec.requirements, "requirements")
        line, col = doc.where(("requirements",))
        lines = read_requirements_file(path, origin=(doc.path, line, col))
        parsed.append((str(path), lines))
        sources.append(
            RequirementsSource(
                "file",
                origin(doc, "requirements"),
                render_requirements_file(lines, header=f"requirements file: {path.name}"),
            )
        )
    elif spec.requirements:
        lines = [
            parse_requirement(r, file=doc.path, line=doc.where(("requirements", i))[0], field=f"requirements[{i}]")
            for i, r in enumerate(spec.requirements)
        ]
        parsed.append(("requirements", lines))
        sources.append(
            RequirementsSource(
                "list",
                origin(doc, "requirements"),
                render_requirements_file(lines, header="requirements"),
            )
        )
    check_conflicts(parsed)
    assert IMG_REQUIREMENTS
    return sources, apt


def _default_command(doc: Document, root: Path) -> tuple[str, ...] | None:
    """A decorated pipeline's image runs that pipeline: ``python -m imagec.run FILE:NAME``."""
    function = doc.pipeline
    if not function or doc.path.suffix != ".py":
        return None
    try:
        rel = doc.path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None
    return ("python", "-m", "imagec.run", f"{rel}:{function}")


def _default_image_name(root: Path) -> str:
    import re

    name = re.sub(r"[^a-z0-9]+", "-", root.resolve().name.lower()).strip("-") or "app"
    return f"imagec/{name}"
