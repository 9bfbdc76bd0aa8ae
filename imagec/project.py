"""The whole flow for one spec: read -> validate -> resolve -> plan (-> plugins' transforms).

The one place that runs every stage in order; commands call it and hand the plan to a backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from imagec.backend.base import Backend, Build
from imagec.model.spec import Spec
from imagec.model.validate import validate_spec
from imagec.plan.compiler import plan
from imagec.plan.ir import Plan
from imagec.plugins.manager import get_plugins
from imagec.resolve.parent import ParentBuild
from imagec.resolve.stack import Stack
from imagec.resolve.surroundings import resolve
from imagec.spec.document import Document
from imagec.spec.reader import read_document


@dataclass
class Project:
    doc: Document
    spec: Spec
    plan: Plan
    source_root: Path | None
    root_rule: str
    ignore_file: Path | None
    stack: Stack | None
    parent: ParentBuild | None = None  # the user's Dockerfile, built first (``dockerfile``)


def load_project(
    target: str,
    *,
    import_module: bool = False,
    stack: str | None = None,
    dockerignore: str | None = None,
    no_cache_mount: bool = False,
) -> Project:
    doc = read_document(target, import_module=import_module)
    spec = validate_spec(doc)
    if no_cache_mount:  # `imagec build --no-cache-mount`
        spec = spec.model_copy(update={"installer_cache_mount": False})
    found = resolve(doc, spec, stack=stack, dockerignore=dockerignore)
    the_plan = get_plugins().transform_plan(plan(spec, doc, found.inputs), spec)
    return Project(
        doc=doc,
        spec=spec,
        plan=the_plan,
        source_root=found.source_root,
        root_rule=found.root_rule,
        ignore_file=found.ignore_file,
        stack=found.stack,
        parent=found.inputs.parent,
    )


def build_for(project: Project, backend: Backend) -> Build:
    """What ``backend`` needs to export or build ``project``: its build file and context."""
    # Lazy: the context machinery (ignore files, walk, tar) is for export and build, not compile.
    from imagec.backend.buildcontext import BuildContext

    context = BuildContext(project.plan, backend.build_file_name, backend.render(project.plan))
    return Build(spec=project.spec, plan=project.plan, context=context, parent=project.parent)
