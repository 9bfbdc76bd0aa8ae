"""Spec -> Plan: the ordered build steps, arranged for layer-cache reuse.

Order (least to most frequently changed)::

    FROM base            ARG build args        ENV defaults + environment
    RUN base-image check RUN apt-get           RUN install imagec runtime
    COPY+RUN one layer per requirements source (integrations, stack, file, list)
    COPY stack config    RUN create user       WORKDIR
    COPY source          USER                  LABEL    ENTRYPOINT / CMD
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from imagec.document import Document
from imagec.errors import SpecError
from imagec.ir import (
    Arg,
    Cmd,
    ContextDir,
    ContextFile,
    Copy,
    Entrypoint,
    Env,
    From,
    Label,
    Origin,
    Plan,
    Run,
    Step,
    User,
    Workdir,
)
from imagec.model import Spec

# Paths inside the build context and the image.
CTX_REQUIREMENTS = "imagec/requirements"
CTX_FIND_LINKS = "imagec/find-links"
CTX_STACK = "imagec/stack"
CTX_SOURCE = "src"
IMG_REQUIREMENTS = "/imagec/requirements"
IMG_FIND_LINKS = "/imagec/find-links"

DEFAULT_ENV = (
    ("PYTHONUNBUFFERED", "1"),
    ("PYTHONDONTWRITEBYTECODE", "1"),
    ("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
    ("PIP_NO_CACHE_DIR", "1"),
)
UV_REQUIREMENT = "uv>=0.4,<1"

# Fails early, saying what is missing, instead of a cryptic "pip: not found" steps later.
BASE_CHECK = (
    "command -v python >/dev/null 2>&1 || {{ echo 'imagec: base image {image} has no "
    "`python` on PATH; use an image with Python and pip, e.g. python:3.11-slim' >&2; exit 1; }}; "
    "python -m pip --version >/dev/null 2>&1 || {{ echo 'imagec: base image {image} has no "
    "pip for its python; install pip in the base image or use e.g. python:3.11-slim' >&2; "
    "exit 1; }}"
)


@dataclass(frozen=True)
class RequirementsSource:
    """One requirements file generated into the context: one COPY + RUN layer."""

    key: str  # "integrations", "stack", "file", "list"
    origin: Origin
    content: str
    constraints: str | None = None  # a `-c` file the requirements file refers to


@dataclass(frozen=True)
class Inputs:
    """Everything resolved from the spec's surroundings before planning."""

    source_root: Path | None
    ignore_file: Path | None
    requirements: tuple[RequirementsSource, ...] = ()
    apt_packages: tuple[str, ...] = ()
    stack_file: bytes | None = None
    stack_path: str | None = None  # where the stack file goes in the image
    stack_env: tuple[tuple[str, str], ...] = ()
    find_links: tuple[tuple[str, Path | None], ...] = ()  # (pip value, local dir or None)
    default_command: tuple[str, ...] | None = None
    image_name: str = "imagec/app"


def origin(doc: Document, field: str, *loc: str | int) -> Origin:
    """Where ``field`` was written, or ``"<field> (default)"`` when the spec leaves it out."""
    if not isinstance(doc.data, dict) or field not in doc.data:
        return Origin(field=f"{field} (default)")
    line, _ = doc.where((field, *loc))
    return Origin(field=field, file=doc.path.name, line=line)


def plan(spec: Spec, doc: Document, inputs: Inputs) -> Plan:
    steps: list[Step] = []
    add = steps.append
    o = lambda field, *loc: origin(doc, field, *loc)  # noqa: E731

    base = spec.effective_base_image
    add(From(o("base_image") if spec.base_image else Origin("default base image"), base, spec.platform))
    for name, default in spec.build_args.items():
        add(Arg(o("build_args", name), name, default))
    add(Env(Origin("imagec defaults"), DEFAULT_ENV))
    if spec.environment:
        add(Env(o("environment"), tuple(spec.environment.items())))
    add(Run(Origin("base image check"), ("/bin/sh", "-c", BASE_CHECK.format(image=base))))

    if inputs.apt_packages:
        pkgs = " ".join(inputs.apt_packages)  # validated against Debian's name grammar
        add(
            Run(
                o("apt_packages"),
                (
                    "/bin/sh",
                    "-c",
                    "apt-get update && apt-get install -y --no-install-recommends "
                    f"{pkgs} && rm -rf /var/lib/apt/lists/*",
                ),
            )
        )

    files: list[ContextFile] = []
    dirs: list[ContextDir] = []
    install = _installer(spec, inputs)
    if spec.installer == "uv":
        add(Run(o("installer"), ("python", "-m", "pip", "install", UV_REQUIREMENT)))
    local_links = [(i, d) for i, (_, d) in enumerate(inputs.find_links) if d is not None]
    if local_links:
        for i, directory in local_links:
            dirs.append(ContextDir(root=str(directory), dest=f"{CTX_FIND_LINKS}/{i}"))
        add(Copy(o("find_links"), (f"{CTX_FIND_LINKS}/",), f"{IMG_FIND_LINKS}/"))

    for n, source in enumerate(inputs.requirements, 1):
        name = requirements_file_name(n, source.key)
        copied = [f"{CTX_REQUIREMENTS}/{name}"]
        files.append(ContextFile(copied[0], source.content))
        if source.constraints is not None:
            copied.append(f"{CTX_REQUIREMENTS}/{constraints_file_name(name)}")
            files.append(ContextFile(copied[1], source.constraints))
        add(Copy(source.origin, tuple(copied), f"{IMG_REQUIREMENTS}/"))
        add(Run(source.origin, (*install, "-r", f"{IMG_REQUIREMENTS}/{name}")))

    if inputs.stack_file is not None and inputs.stack_path is not None:
        stack_origin = Origin("copy_stack")
        files.append(ContextFile(f"{CTX_STACK}/stack.yaml", inputs.stack_file.decode()))
        add(Copy(stack_origin, (f"{CTX_STACK}/stack.yaml",), inputs.stack_path))
        if inputs.stack_env:
            add(Env(stack_origin, inputs.stack_env))

    user = spec.user
    if user and not user.split(":")[0].isdigit() and user.split(":")[0] != "root":
        add(Run(o("user"), ("/bin/sh", "-c", _create_user(user.split(":")[0]))))
    add(Workdir(o("workdir"), spec.workdir))
    if spec.copy_source and inputs.source_root is not None:
        dirs.append(
            ContextDir(
                root=str(inputs.source_root),
                dest=CTX_SOURCE,
                ignore_file=str(inputs.ignore_file) if inputs.ignore_file else None,
            )
        )
        add(Copy(o("copy_source"), (f"{CTX_SOURCE}/",), f"{spec.workdir.rstrip('/')}/", chown=user))
    if user:
        add(User(o("user"), user))
    if spec.labels:
        add(Label(o("labels"), tuple(sorted(spec.labels.items()))))
    if spec.entrypoint is not None:
        add(Entrypoint(o("entrypoint"), _argv(spec.entrypoint)))
    if spec.command is not None:
        add(Cmd(o("command"), _argv(spec.command)))
    elif spec.entrypoint is None and inputs.default_command is not None:
        add(Cmd(Origin("default command: run the pipeline"), inputs.default_command))

    return Plan(
        steps=tuple(steps),
        files=tuple(files),
        dirs=tuple(dirs),
        image_name=inputs.image_name,
        build_args=tuple(spec.build_args.items()),
        platform=spec.platform,
    )


def requirements_file_name(n: int, key: str) -> str:
    return f"{n}-{key}.txt"


def constraints_file_name(requirements_name: str) -> str:
    return requirements_name.removesuffix(".txt") + ".constraints.txt"


def _argv(value: str | list[str]) -> tuple[str, ...]:
    return ("/bin/sh", "-c", value) if isinstance(value, str) else tuple(value)


def _installer(spec: Spec, inputs: Inputs) -> tuple[str, ...]:
    if spec.installer == "uv":
        cmd: list[str] = ["python", "-m", "uv", "pip", "install", "--system"]
    else:
        cmd = ["python", "-m", "pip", "install", "--no-cache-dir"]
    if spec.index_url:
        cmd += ["--index-url", spec.index_url]
    for url in spec.extra_index_urls:
        cmd += ["--extra-index-url", url]
    for i, (value, directory) in enumerate(inputs.find_links):
        cmd += ["--find-links", f"{IMG_FIND_LINKS}/{i}" if directory is not None else value]
    cmd += spec.installer_args
    return tuple(cmd)


def _create_user(name: str) -> str:
    # Debian-based images have useradd; busybox/alpine ones have adduser.
    return (
        f"id -u {name} >/dev/null 2>&1 || useradd --create-home --shell /bin/sh {name} "
        f"2>/dev/null || adduser -D {name}"
    )


def resolve_path(doc: Document, value: str, field: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else doc.directory / path


def require_dir(doc: Document, value: str, field: str, *loc: str | int) -> Path:
    path = resolve_path(doc, value, field)
    if not path.is_dir():
        line, col = doc.where((field, *loc))
        what = "does not exist" if not path.exists() else "is not a directory"
        raise SpecError(f"{value!r} {what}", file=doc.path, line=line, column=col, field=field)
    return path
