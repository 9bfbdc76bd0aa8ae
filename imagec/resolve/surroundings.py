"""Resolve a validated spec's surroundings into the compiler's ``Inputs``: source root and
repository, ignore file, stack, integrations and requirements, ``--find-links`` directories,
the pipeline to run, the image name and how the runtime gets into the image."""

from __future__ import annotations

import os
import re
from pathlib import Path

from imagec.context.selection import find_ignore_file
from imagec.errors import SpecError
from imagec.model.spec import Spec
from imagec.resolve.inputs import Inputs
from imagec.resolve.integrations.registry import registry_with_plugins
from imagec.resolve.parent import resolve_parent
from imagec.resolve.paths import require_dir, require_inside, resolve_path
from imagec.resolve.requirement_layers import project_install, requirement_layers
from imagec.resolve.source_root import (
    REPO_MARKER,
    detect_source_root,
    find_repository,
    import_root,
    module_name,
)
from imagec.resolve.stack import (
    CONFIG_DIR_ENV_VAR,
    IMAGE_CONFIG_DIR,
    IMAGE_STACK_PATH,
    STACK_ENV_VAR,
    Stack,
    load_stack,
)
from imagec.resolve.wheel import installed_from_index
from imagec.runtime.runner import is_module_target
from imagec.spec.document import Document
from imagec.util.records import Record, mark_frozen, record


@record
class Surroundings(Record):
    """The compiler's inputs plus what commands report about them."""

    inputs: Inputs
    source_root: Path
    root_rule: str  # which rule chose the source root
    ignore_file: Path | None
    stack: Stack | None


def resolve(
    doc: Document, spec: Spec, *, stack: str | None = None, dockerignore: str | None = None
) -> Surroundings:
    # The project: the spec's directory and the imagec repository it is in. A source root or
    # find-links directory the spec names must lie inside (docs/spec.md, "Paths").
    project = [doc.directory, *filter(None, [find_repository(doc.directory)])]
    explicit_root = None
    if spec.source_root:
        explicit_root = require_dir(doc, spec.source_root, "source_root").absolute()
        require_inside(doc, explicit_root, spec.source_root, project, "source_root")
    python_file = doc.entry or (doc.path if doc.path.suffix == ".py" else None)
    if python_file is not None:
        start = f"directory of {python_file.name}, the file named"
        found = detect_source_root(
            python_file.absolute().parent,
            explicit=explicit_root,
            start_label=start,
            python_file=python_file,
        )
    else:
        start = "directory of the spec file"
        found = detect_source_root(doc.directory, explicit=explicit_root, start_label=start)
    root = found.path
    ignore_file = _ignore_file(doc, spec, root, dockerignore)

    registry = registry_with_plugins()
    repo_root = root if (root / REPO_MARKER).is_dir() else None
    active_stack = None
    if repo_root is not None or stack or os.environ.get(STACK_ENV_VAR):
        active_stack = load_stack(repo_root, stack)
    requirements, apt, editable = requirement_layers(doc, spec, registry, active_stack, root)
    install_project = project_install(doc, spec, root, editable)

    stack_bytes = stack_path = None
    stack_env: tuple[tuple[str, str], ...] = ()
    if spec.copy_stack and active_stack is not None:
        stack_bytes = active_stack.render_for_image()
        stack_path = IMAGE_STACK_PATH
        stack_env = ((CONFIG_DIR_ENV_VAR, IMAGE_CONFIG_DIR),)

    find_links = []
    for i, value in enumerate(spec.find_links):
        if "://" in value:
            find_links.append((value, None))
        else:
            directory = require_dir(doc, value, "find_links", i)
            require_inside(doc, directory, value, [*project, root], "find_links", i)
            find_links.append((value, directory))

    pipeline_target, pipeline_path = _pipeline_target(doc, root)
    runs_pipeline = spec.command is None and spec.entrypoint is None
    if pipeline_target is not None and spec.copy_source and runs_pipeline:
        # The image runs the pipeline: its local imports must be in the image.
        if pipeline_path is not None:
            image_path = [root / pipeline_path, root]
        elif is_module_target(pipeline_target):
            image_path = [root]
        else:
            image_path = [doc.path.absolute().parent, root]
        # Lazy: the import walk and its matchers are for a spec whose image runs the pipeline.
        from imagec.resolve.import_check import check_imports

        check_imports(
            doc.path,
            root,
            image_path=image_path,
            ignore_file=ignore_file,
            requirement_texts=[source.content for source in requirements],
        )

    image_name = spec.image_name or _default_image_name(root)
    parent = resolve_parent(doc, spec, image_name=image_name, project=[*project, root])
    inputs = Inputs(
        source_root=root if spec.copy_source else None,
        ignore_file=ignore_file,
        requirements=tuple(requirements),
        apt_packages=tuple(dict.fromkeys([*spec.apt_packages, *sorted(set(apt))])),
        stack_file=stack_bytes,
        stack_path=stack_path,
        stack_env=stack_env,
        find_links=tuple(find_links),
        pipeline_target=pipeline_target,
        pipeline_path=pipeline_path,
        source_rule=found.rule,
        image_name=image_name,
        runtime="index" if spec.install_imagec and installed_from_index() else "wheel",
        install_project=install_project,
        parent=parent,
    )
    return Surroundings(inputs, root, found.rule, ignore_file, active_stack)


def _ignore_file(doc: Document, spec: Spec, root: Path, cli_value: str | None) -> Path | None:
    where: dict = {"field": "--dockerignore"}
    if cli_value is not None:
        explicit: Path | None = Path(cli_value)
    elif spec.dockerignore_file is not None:
        explicit = resolve_path(doc, spec.dockerignore_file)
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


def _pipeline_target(doc: Document, root: Path) -> tuple[str | None, str | None]:
    """What the image's default command runs, from the source root (the image's workdir), and
    where a module target imports from when not from there: ``MODULE:NAME`` for a pipeline
    inside a package or reached from a run file, so its absolute imports work as they do on the
    user's machine, from the package's import root when that is below the source root
    (``src``: a src/ layout in an imagec repository); ``FILE:NAME`` for a lone file."""
    if not doc.pipeline or doc.path.suffix != ".py":
        return None, None
    module = module_name(doc.path, root)
    if module is not None and not module.endswith(".py") and ("." in module or doc.entry):
        return f"{module}:{doc.pipeline}", None
    below = import_root(doc.path) if module is None else None
    if below is not None and below.path.is_relative_to(root) and below.path != root:
        module = module_name(doc.path, below.path)
        if module is not None and "." in module:
            return f"{module}:{doc.pipeline}", below.path.relative_to(root).as_posix()
    try:
        rel = doc.path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None, None
    return f"{rel}:{doc.pipeline}", None


def _default_image_name(root: Path) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", root.resolve().name.lower()).strip("-") or "app"
    return f"imagec/{name}"


mark_frozen(Surroundings)
