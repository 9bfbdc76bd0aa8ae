"""The spec's requirements as layers: one generated requirements file per source, checked
together, in the order the image installs them (least to most often changed, the user's last):

1. ``N-stack.txt``         the active stack's integrations
2. ``N-integrations.txt``  ``required_integrations`` (less those the stack layer has)
3. ``N-environment.txt``   the local environment, frozen (``replicate_local_python_environment``)
   ``N-lock.txt``          project and lock-file dependencies (``lock_files``, lockfiles/)
4. ``N-file.txt``          each requirements file the spec names, then
   ``N-list.txt``          the ``requirements`` list

Integration layers are defaults: a package the user's sources (lock files and 4) or the frozen
environment pin is installed at that pin, the user's first (requirements/precedence.py)."""

from __future__ import annotations

import sys
from contextvars import ContextVar
from pathlib import Path

from imagec.errors import SpecError
from imagec.model.requirement import editable_of, requirements_file_of
from imagec.model.spec import Spec, check_apt_package
from imagec.resolve.inputs import RequirementsSource, requirements_file_name
from imagec.resolve.integrations.registry import IntegrationRegistry
from imagec.resolve.paths import resolve_path
from imagec.resolve.requirements import (
    RequirementLine,
    merge_sources,
    read_requirements_file,
    render_constraints_file,
    render_requirements_file,
    requirement_line,
)
from imagec.resolve.requirements.precedence import apply_user_pins, user_pins
from imagec.resolve.stack import Stack
from imagec.spec.document import Document, Origin, format_loc
from imagec.util.fsutil import read_user_text
from imagec.util.text import bare, show

# The "not installed; add it" hints on dependency files no field names help where a spec is
# compiled or built: those commands (cli/spec_options.py) turn them on; `context SPEC` and
# library callers stay quiet. Each is said once a process, however often a spec is resolved.
UNUSED_FILE_HINTS: ContextVar[bool] = ContextVar("unused_file_hints", default=False)
_hinted: set[str] = set()

# Layers whose lines the user wrote; the others are integration defaults.
_USER = frozenset({"lock", "file", "list"})
_DEFAULTS = frozenset({"stack", "integrations"})


def requirement_layers(
    doc: Document,
    spec: Spec,
    registry: IntegrationRegistry,
    stack: Stack | None,
    root: Path | None = None,
) -> tuple[list[RequirementsSource], list[str], Origin | None]:
    """The requirements sources, the apt packages the integrations need, and where an
    ``-e .`` asked for the project itself to be installed (``install_project``), if anywhere.

    Conflicting pins across all sources are an error, reported before anything is built.
    """
    groups: list[tuple[str, Origin, str, list[RequirementLine]]] = []  # key, origin, header, lines
    apt: list[str] = []
    project: Origin | None = None

    def integration_lines(names: list[str], field: str | None) -> list[RequirementLine]:
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

    # 1. The stack's integrations: they change least often (a new stack component).
    stack_names: list[str] = []
    if stack is not None and spec.install_stack_requirements:
        stack_names = list(stack.required_integrations(registry))
        if stack_names:
            lines = integration_lines(stack_names, None)
            header = f"stack {stack.name!r} integrations: {', '.join(stack_names)}"
            groups.append(("stack", Origin("stack", stack.path.name), header, lines))
    # 2. The integrations the spec names, less those the stack layer already installs (by
    # index, so an unknown name is reported at its place in the list).
    in_stack = set(stack_names)
    named = list(dict.fromkeys(spec.required_integrations))
    for i, name in enumerate(named):  # unknown names fail here, pointing at the entry
        line, col = doc.where(("required_integrations", i))
        where = {"file": doc.path, "line": line, "column": col}
        registry.get(name, field=f"required_integrations[{i}]", **where)
    names = [n for n in named if registry.get(n).name not in in_stack]
    if names:
        lines = integration_lines(names, "required_integrations")
        header = f"integrations: {', '.join(names)}"
        groups.append(("integrations", doc.origin("required_integrations"), header, lines))

    # 3. Project dependencies: the local environment frozen (replicate_local_python_environment),
    # then lock files (lockfiles/); after the integrations, before the user's requirements.
    # Other sources of project dependencies go here too.
    if spec.replicate_local_python_environment:
        where = doc.origin("replicate_local_python_environment")
        header, lines = environment_lines()
        groups.append(("environment", where, header, lines))
    if spec.lock_files:  # the exporters and their tools load only for a spec with lock files
        from imagec.resolve.lockfiles import lock_file_sources

        for lock in lock_file_sources(doc, spec):
            groups.append(("lock", lock.origin, lock.header, lock.lines))

    # 4. The user's requirements: each file in its own layer, then the list, installed last so
    # the user's choices win.
    entries = [spec.requirements] if isinstance(spec.requirements, str) else spec.requirements
    listed = []
    for i, entry in enumerate(entries):
        loc = ("requirements",) if isinstance(spec.requirements, str) else ("requirements", i)
        line, col = doc.where(loc)
        path = entry if isinstance(spec.requirements, str) else requirements_file_of(entry)
        editable = None if isinstance(spec.requirements, str) else editable_of(entry)
        if editable is not None:
            where = {"file": doc.path, "line": line, "column": col, "field": format_loc(loc)}
            if root is None or (doc.directory / editable).resolve() != root.resolve():
                raise SpecError(f"'{bare(entry)}': {_EDITABLE}", **where)  # type: ignore[arg-type]
            project = project or Origin(format_loc(loc), doc.path.name, line)
            _project_hint(f"{doc.path}:{line}", entry)
            continue
        if path is None:
            field = format_loc(loc)
            where = {"file": doc.path, "line": line, "column": col, "field": field}
            listed.append(requirement_line(entry, source="requirements", **where))
            continue
        lines = read_requirements_file(
            Path(path), base_dir=doc.directory, origin=(doc.path, line, col), root=root
        )
        for found in [ln for ln in lines if ln.option and ln.option.name == "--editable"]:
            project = project or Origin("requirements", found.file.name, found.line)  # type: ignore[union-attr]
            _project_hint(f"{found.file}:{found.line}", found.text)
            lines.remove(found)
        groups.append(("file", Origin("requirements", doc.path.name, line), path, lines))
    if listed:
        groups.append(("list", doc.origin("requirements"), "requirements", listed))

    # The user's pins win over integration defaults (precedence.py); the user's own sources
    # are checked against each other first, so a contradiction names both places.
    # The frozen environment's pins win over integration defaults in turn.
    users = [(header, lines) for key, _, header, lines in groups if key in _USER]
    merge_sources(users)
    pins = user_pins(users)
    groups = [
        (key, where, header, lines if key in _USER else apply_user_pins(lines, pins))
        for key, where, header, lines in groups
    ]
    frozen = user_pins([(h, lines) for key, _, h, lines in groups if key == "environment"])
    if frozen:
        groups = [
            (key, w, h, apply_user_pins(lines, frozen) if key in _DEFAULTS else lines)
            for key, w, h, lines in groups
        ]
    merge_sources([(header, lines) for _, _, header, lines in groups])
    if root is not None and UNUSED_FILE_HINTS.get():
        files = [(header, lines) for key, _, header, lines in groups if key == "file"]
        read = {(doc.directory / header).resolve() for header, _ in files}
        read |= {ln.file.resolve() for _, lines in files for ln in lines if ln.file is not None}
        for text in unused_dependency_files(doc, spec, root, read, project is not None):
            if text not in _hinted:
                _hinted.add(text)
                print(f"imagec: hint: {text}", file=sys.stderr)
    sources = []
    for n, (key, where, header, lines) in enumerate(groups, 1):
        name = requirements_file_name(n, key)
        source = RequirementsSource(name, where, "")
        constraints = render_constraints_file(lines, header=header)
        text = render_requirements_file(lines, header=header, constraints=source.constraints_name)
        why = pip_only(lines) if spec.installer != "pip" else None
        if why is not None:
            first, rest = text.split("\n", 1)
            text = f"{first}\n# Installed with pip: uv {why}\n{rest}"
        installer = "pip" if why is not None else None
        installs = any(line.installs for line in lines)
        own = any(ln.option and ln.option.name in ("--index-url", "--no-index") for ln in lines)
        source = RequirementsSource(name, where, text, constraints, installer, installs, own)
        sources.append(source)
    return sources, apt, project


_EDITABLE = (
    "editable installs need the project's source tree in the image; only the source root "
    "itself ('-e .') can be installed, after the source copy (install_project)"
)


def _project_hint(place: str, text: str) -> None:
    # The same channel as the import check's hints (resolve/import_check.py).
    print(
        f"imagec: hint: {place}: {show(text)} installs the source root: imagec installs it "
        "after the source copy with --no-deps, as install_project: true does",
        file=sys.stderr,
    )


# Options uv's requirements-file reader skips with a warning: pip must read such a file.
_UV_IGNORES = frozenset({"--trusted-host", "--prefer-binary"})


def pip_only(lines: list[RequirementLine]) -> str | None:
    """Why uv cannot install these lines as pip would, or None: uv reads no per-requirement
    option but ``--hash`` and skips ``--trusted-host`` and ``--prefer-binary``."""
    for line in lines:
        if line.line_options:
            option = line.line_options[0].split("=", 1)[0]
            return f"reads no per-requirement {option}"
        if line.option is not None and line.option.name in _UV_IGNORES:
            return f"ignores {line.option.name} in a requirements file"
    return None


def project_install(
    doc: Document, spec: Spec, root: Path, editable: Origin | None
) -> Origin | None:
    """Where installing the source root as a package was asked for (``install_project``, or
    an ``-e .`` in a requirement source), checked: it needs the source in the image and
    something pip can build (``pyproject.toml`` or ``setup.py``)."""
    asked = doc.origin("install_project") if spec.install_project else editable
    if asked is None:
        return None
    line, col = doc.where(("install_project",)) if spec.install_project else (asked.line, None)
    where = {"file": doc.path if spec.install_project else asked.file, "line": line, "column": col}
    if not spec.copy_source:
        raise SpecError(
            "installing the project needs its source in the image; set copy_source: true",
            field="install_project",
            **where,  # type: ignore[arg-type]
        )
    if not any((root / name).is_file() for name in ("pyproject.toml", "setup.py")):
        raise SpecError(
            f"the source root {show(str(root))} has no pyproject.toml or setup.py to install",
            field="install_project",
            **where,  # type: ignore[arg-type]
        )
    return asked


def environment_lines() -> tuple[str, list[RequirementLine]]:
    """The environment imagec runs in, frozen (requirements/environment.py): the layer's
    header and lines. What is left out is named in the header; editable installs also get a
    note on stderr, since the image will lack them."""
    from imagec.resolve.requirements.environment import freeze

    frozen = freeze()
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    label = f"local environment (Python {python})"
    lines: list[RequirementLine] = []
    left_out = list(frozen.left_out)
    for text in frozen.requirements:
        try:
            lines.append(requirement_line(text, source=label))
        except SpecError as exc:  # e.g. a credential in the URL it was installed from
            left_out.append(f"{text.split(' ', 1)[0]}: {exc.message}")
    for item in left_out:
        if "editable" in item:
            print(f"imagec: note: {label}: leaving out {item}", file=sys.stderr)
    names = ", ".join(item.split(":", 1)[0] for item in left_out)
    header = f"{label}; left out: {names}" if names else label
    return header, lines


def unused_dependency_files(
    doc: Document, spec: Spec, root: Path, read: set[Path], installs_project: bool
) -> list[str]:
    """Dependency files at the source root that no spec field names: reported, never used on
    imagec's own initiative. ``read``: the requirements files the spec names (resolved)."""
    hints = []
    named = read | {resolve_path(doc, _lock_path(entry)).resolve() for entry in spec.lock_files}
    requirements = root / "requirements.txt"
    if requirements.is_file() and requirements.resolve() not in named:
        hints.append(
            f"{requirements}: not installed; add it to requirements "
            f"(`requirements: {_relative(doc, requirements)}` or a `-r` entry)"
        )
    pyproject = root / "pyproject.toml"
    if (
        pyproject.is_file()
        and pyproject.resolve() not in named
        and not (installs_project or spec.install_project)
        and _declares_dependencies(pyproject)
    ):
        hints.append(
            f"{pyproject}: its dependencies are not installed; add it to lock_files, or "
            "set install_project: true for the project itself"
        )
    return hints


def _lock_path(entry: object) -> str:
    return entry if isinstance(entry, str) else entry.path  # type: ignore[attr-defined]


def _relative(doc: Document, path: Path) -> str:
    try:
        return path.resolve().relative_to(doc.directory.resolve()).as_posix()
    except ValueError:
        return str(path)


def _declares_dependencies(pyproject: Path) -> bool:
    """Does ``pyproject`` list project dependencies? Only a file that does is worth a hint (a
    pyproject.toml holding tool settings only is not); unreadable files are not reported."""
    import tomllib  # only a project with a pyproject.toml and no requirements gets here

    try:
        data = tomllib.loads(read_user_text(pyproject, "pyproject.toml"))
    except (SpecError, tomllib.TOMLDecodeError, RecursionError):  # nested past the parser
        return False
    table = data.get("project")
    if not isinstance(table, dict):
        return False
    return bool(table.get("dependencies") or table.get("optional-dependencies"))
