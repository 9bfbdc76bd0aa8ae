"""The intermediate representation: an ordered list of build steps as plain frozen data.

Steps know nothing about any backend; each backend owns its lowering. Every step records its
``Origin`` (the spec field and file:line it came from). ``Plan`` adds the files the build needs
in its context (generated requirements files, the stack configuration) and where the user's
source comes from. ``to_json``/``from_json`` round-trip exactly.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import field
from typing import Any, ClassVar

from imagec.errors import ImagecError
from imagec.spec.document import Origin
from imagec.util.records import Record, mark_frozen, record

IR_VERSION = 1

# Where things go inside the build context (relative, "/"-separated). Backends read them from
# the plan (a ``ContextDir.dest``, a ``Copy`` source); they are fixed here so every stage agrees.
CTX_SOURCE = "src"  # the selected source root
CTX_REQUIREMENTS = "imagec/requirements"  # generated requirements and constraints files
CTX_FIND_LINKS = "imagec/find-links"  # local --find-links directories, one per index
CTX_STACK = "imagec/stack"  # the stack configuration
CTX_RUNTIME = "imagec/runtime"  # the runtime wheel of this installation
CTX_BUILD_INFO = "imagec/build.json"  # what the image was built from


class IRError(ImagecError, ValueError):
    """A plan in JSON that this imagec cannot read (another IR version, an unknown step)."""


@record
class Step(Record):
    """One build step; ``origin`` is the spec field (and file:line) it came from."""

    kind: ClassVar[str]
    origin: Origin


@record
class From(Step):
    """``FROM image``: the base of the steps that follow (``--platform`` when set)."""

    kind = "from"
    image: str
    platform: str | None = None


@record
class Arg(Step):
    """``ARG name[=default]``: a build argument."""

    kind = "arg"
    name: str
    default: str | None = None


@record
class Env(Step):
    """``ENV k=v ...``: environment variables, in the image and for later steps."""

    kind = "env"
    pairs: tuple[tuple[str, str], ...]


@record
class Label(Step):
    """``LABEL k=v ...``: image labels."""

    kind = "label"
    pairs: tuple[tuple[str, str], ...]


@record
class Mount(Record):
    """A build-time mount of one RUN step (``RUN --mount=type=...``); nothing mounted is in a
    layer. ``secret``: the build secret ``id`` as a file at ``target`` (default
    ``/run/secrets/<id>``). ``cache``: a directory at ``target`` kept between builds.
    ``bind``: the context file ``source`` at ``target``, read-only, for this step only."""

    type: str  # "secret", "cache" or "bind"
    target: str | None = None
    id: str | None = None
    source: str | None = None


@record
class Run(Step):
    """A command in exec form; shell scripts are ``("/bin/sh", "-c", script)``."""

    kind = "run"
    argv: tuple[str, ...]
    mounts: tuple[Mount, ...] = ()


@record
class Copy(Step):
    """Copy context paths (relative, ``/``-separated) to ``dest`` in the image; with
    ``from_image``, absolute paths of that image instead (``COPY --from=IMAGE``)."""

    kind = "copy"
    sources: tuple[str, ...]
    dest: str
    chown: str | None = None
    from_image: str | None = None


@record
class Workdir(Step):
    """``WORKDIR path``."""

    kind = "workdir"
    path: str


@record
class User(Step):
    """``USER user[:group]``."""

    kind = "user"
    user: str


@record
class Entrypoint(Step):
    """``ENTRYPOINT [argv]``, exec form."""

    kind = "entrypoint"
    argv: tuple[str, ...]


@record
class Cmd(Step):
    """``CMD [argv]``, exec form."""

    kind = "cmd"
    argv: tuple[str, ...]


STEP_TYPES: dict[str, type[Step]] = {
    cls.kind: cls for cls in (From, Arg, Env, Label, Run, Copy, Workdir, User, Entrypoint, Cmd)
}


@record
class ContextFile(Record):
    """A file generated into the build context (never into the user's tree).

    Binary files are made when the context is written: ``generator`` names the maker and
    ``content`` identifies what it makes (e.g. the imagec version of a runtime wheel).
    """

    path: str
    content: str
    mode: int = 0o644
    generator: str | None = None


@record
class ContextDir(Record):
    """A directory of the user's tree sent in the context under ``dest``, filtered by an
    ignore file (Docker semantics). ``rule`` says why the source root is that directory
    (``import root of package churn``); like ``root``, it is left out of the digest."""

    root: str
    dest: str
    ignore_file: str | None = None
    rule: str | None = None


@record
class Plan(Record):
    """The steps of one image, with the context files and directories they need."""

    steps: tuple[Step, ...]
    files: tuple[ContextFile, ...] = ()
    dirs: tuple[ContextDir, ...] = ()
    image_name: str = "imagec/app"
    build_args: tuple[tuple[str, str], ...] = ()
    platform: str | None = None  # "linux/amd64", or several: "linux/amd64,linux/arm64"
    metadata: tuple[tuple[str, str], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "ir_version": IR_VERSION,
            "image_name": self.image_name,
            "platform": self.platform,
            "build_args": [list(p) for p in self.build_args],
            "metadata": [list(p) for p in self.metadata],
            "steps": [_step_to_dict(s) for s in self.steps],
            "files": [dataclasses.asdict(f) for f in self.files],
            "dirs": [dataclasses.asdict(d) for d in self.dirs],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    def digest(self) -> str:
        """sha256 of what the plan builds: equal builds give equal digests.

        Left out: each step's origin (moving a field to another line of the spec builds the
        same image), and where the user's directories are on this machine (what they send is
        hashed with the context, so a checkout elsewhere gives the same digest).
        """
        data = self.to_dict()
        for step in data["steps"]:
            del step["origin"]
        data["dirs"] = [{"dest": d["dest"]} for d in data["dirs"]]
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        """The plan ``to_dict`` gave; anything else is an ``IRError`` saying what is wrong."""
        if data.get("ir_version") != IR_VERSION:
            raise IRError(f"unsupported ir_version {data.get('ir_version')!r}")
        try:
            return cls._from_dict(data)
        except (KeyError, TypeError, AttributeError) as exc:
            raise IRError(f"malformed plan: {type(exc).__name__}: {exc}") from None

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Plan:
        return cls(
            steps=tuple(_step_from_dict(s) for s in data["steps"]),
            files=tuple(ContextFile(**f) for f in data["files"]),
            dirs=tuple(ContextDir(**d) for d in data["dirs"]),
            image_name=data["image_name"],
            build_args=tuple((k, v) for k, v in data["build_args"]),
            platform=data["platform"],
            metadata=tuple((k, v) for k, v in data["metadata"]),
        )

    @classmethod
    def from_json(cls, text: str) -> Plan:
        return cls.from_dict(json.loads(text))


# Once all are defined: a plugin's `@dataclass(frozen=True)` step derives from `Step` as from
# any frozen dataclass.
mark_frozen(Step, *STEP_TYPES.values(), Mount, ContextFile, ContextDir, Plan)


def _step_to_dict(step: Step) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": step.kind}
    for f in dataclasses.fields(step):
        value = getattr(step, f.name)
        if f.name == "origin":
            out[f.name] = dataclasses.asdict(value)
        elif f.name == "mounts":
            if value:  # left out when empty: plans without mounts keep their digests
                out[f.name] = [_mount_to_dict(m) for m in value]
        elif f.name == "from_image":
            if value is not None:  # left out when unset, like mounts
                out[f.name] = value
        else:
            out[f.name] = _listify(value)
    return out


def _mount_to_dict(mount: Mount) -> dict[str, Any]:
    out = dataclasses.asdict(mount)
    if mount.source is None:  # only bind mounts have one; the others keep their digests
        del out["source"]
    return out


def _listify(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_listify(v) for v in value]
    return value


def _tupleify(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tupleify(v) for v in value)
    return value


def _step_from_dict(data: dict[str, Any]) -> Step:
    data = dict(data)
    kind = data.pop("kind", None)
    cls = STEP_TYPES.get(kind)  # type: ignore[arg-type]
    if cls is None:
        known = ", ".join(sorted(STEP_TYPES))
        raise IRError(f"unknown step kind {kind!r} (this imagec knows: {known})")
    origin = Origin(**data.pop("origin"))
    mounts = {"mounts": tuple(Mount(**m) for m in data.pop("mounts"))} if "mounts" in data else {}
    return cls(origin=origin, **mounts, **{k: _tupleify(v) for k, v in data.items()})
