"""The parent Dockerfile (``dockerfile`` in the spec): where it is, what its build sends, and
the content hash that names its image.

The engine is sent (and an export writes) the context directory as its own ignore file
selects it, plus imagec's copy of the Dockerfile at its top::

    .imagec-parent.Dockerfile               the user's Dockerfile: the build file (``-f``)
    .imagec-parent.Dockerfile.dockerignore  the ignore file in use, if any: BuildKit reads a
                                            build file's own ignore file before the context's
                                            (.containerignore wins for imagec and Podman)
    ...                                     the selected context (``.imagec/`` never)

The image is tagged ``<image_name>-parent:<first 16 hex digits of the content hash>``, the
hash being sha256 over that archive, the build arguments, the target stage and the platform:
an unchanged Dockerfile and context find the image built before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO, NoReturn

from imagec.context.selection import find_ignore_file, select_context
from imagec.context.tarball import ExtraFile, write_context_tar
from imagec.context.walk import ContextEntry
from imagec.errors import SpecError
from imagec.model.spec import Spec
from imagec.resolve.paths import require_inside, resolve_path
from imagec.resolve.source_root import REPO_MARKER
from imagec.spec.document import Document, Origin, format_loc
from imagec.util.fsutil import TreeReader, read_user_bytes
from imagec.util.records import Record, mark_frozen, record
from imagec.util.text import show

PARENT_BUILD_FILE = ".imagec-parent.Dockerfile"
PARENT_IGNORE_FILE = PARENT_BUILD_FILE + ".dockerignore"
PARENT_SUFFIX = "-parent"
HASH_VERSION = b"imagec-parent-v1\n"
TAG_LENGTH = 16
# Fields that only a build carries out: with skip_build they would silently do nothing.
# (Requirements, integrations and python_version are checked against the image instead.)
BUILD_ONLY = (
    "apt_packages",
    "environment",
    "build_args",
    "labels",
    "user",
    "entrypoint",
    "command",
    "find_links",
    "secrets",
    "build_steps",
    "managed_python",
    "runtime_environment",
)


@record
class ParentBuild(Record):
    """One parent image build: its files, its options and the tag its content hash gives."""

    dockerfile: Path
    named: str  # the Dockerfile as the spec names it, for messages
    text: str  # the Dockerfile, as read once (what is hashed is what is sent)
    context: Path
    ignore_file: Path | None
    ignore_text: bytes | None
    build_args: tuple[tuple[str, str], ...]
    target: str | None
    platform: str | None
    origin: Origin
    image_name: str  # of the image built on top; the parent's repository is derived from it
    content_hash: str = ""
    tar_digest: str = ""  # of the archive the hash was made from: what a build must send

    @property
    def ref(self) -> str:
        """``imagec/app-parent:1a2b...``: the image this build makes, by content."""
        return f"{self.repository}:{self.content_hash[:TAG_LENGTH]}"

    @property
    def repository(self) -> str:
        return f"{self.image_name}{PARENT_SUFFIX}"

    def extra_files(self) -> dict[str, ExtraFile]:
        files = {PARENT_BUILD_FILE: ExtraFile(self.text.encode())}
        if self.ignore_text is not None:
            files[PARENT_IGNORE_FILE] = ExtraFile(self.ignore_text)
        return files

    def entries(self) -> Iterator[ContextEntry]:
        selection = select_context(self.context, ignore_file=self.ignore_file)
        for entry in selection.entries():
            if REPO_MARKER not in entry.path.split("/"):
                yield entry

    def write_tar(self, fileobj: BinaryIO | None) -> str:
        """Stream the build's context tar to ``fileobj`` (None: only hash it); its sha256."""
        reader = TreeReader(self.context)
        try:
            return write_context_tar(
                fileobj,
                self.entries(),
                extra=self.extra_files(),
                opener=lambda name: reader.open_file(name),
            )
        except ValueError as exc:  # a file of the context has one of imagec's names
            raise SpecError(f"{exc}; rename it", file=self.context) from None
        finally:
            reader.close()

    def hashed(self) -> ParentBuild:
        h = hashlib.sha256(HASH_VERSION)
        options = {"build_args": self.build_args, "target": self.target, "platform": self.platform}
        h.update(json.dumps(options, sort_keys=True).encode())
        digest = self.write_tar(None)
        h.update(digest.encode())
        return replace(self, content_hash=h.hexdigest(), tar_digest=digest)


def resolve_parent(
    doc: Document, spec: Spec, *, image_name: str, project: list[Path]
) -> ParentBuild | None:
    """The parent build ``spec.dockerfile`` asks for, checked and hashed; None without one.

    The Dockerfile and its context must be inside the project (the spec's directory, its
    imagec repository, the source root): they are read and sent to the engine.
    """
    check_skip_build(doc, spec)
    parent = spec.parent_dockerfile
    if parent is None:
        return None
    table = not isinstance(spec.dockerfile, str)
    path_loc = ("dockerfile", "path") if table else ("dockerfile",)
    if spec.base_image is not None:
        _fail(
            doc,
            ("dockerfile",),
            "the Dockerfile's FROM names the base; remove base_image (or dockerfile)",
        )
    if getattr(spec, "cuda", None) is not None:
        _fail(
            doc,
            ("dockerfile",),
            "the Dockerfile's FROM names the base; remove cuda (or dockerfile)",
        )
    dockerfile = resolve_path(doc, parent.path)
    if not dockerfile.exists():
        _fail(doc, path_loc, f"{show(parent.path)} not found")
    if not dockerfile.is_file():
        _fail(doc, path_loc, f"{show(parent.path)} is not a file")
    require_inside(doc, dockerfile, parent.path, project, *path_loc)  # after symlinks
    raw = read_user_bytes(dockerfile, "Dockerfile")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        _fail(doc, path_loc, f"{show(parent.path)} is not UTF-8 text")
    if parent.context is not None:
        context = resolve_path(doc, parent.context)
        if not context.is_dir():
            what = "does not exist" if not context.exists() else "is not a directory"
            _fail(doc, ("dockerfile", "context"), f"{show(parent.context)} {what}")
        require_inside(doc, context, parent.context, project, "dockerfile", "context")
    else:
        context = dockerfile.parent
    try:
        ignore_file = find_ignore_file(context)
    except SpecError as exc:  # found, not named, and a symlink out of the context
        where = ("dockerfile", "context") if parent.context is not None else path_loc
        _fail(doc, where, exc.message)
    ignore_text = read_user_bytes(ignore_file, "ignore file") if ignore_file else None
    platform = spec.platform if isinstance(spec.platform, str) or spec.platform is None else None
    build = ParentBuild(
        dockerfile=dockerfile,
        named=parent.path,
        text=text,
        context=context,
        ignore_file=ignore_file,
        ignore_text=ignore_text,
        build_args=tuple(sorted(parent.build_args.items())),
        target=parent.target,
        platform=platform,
        origin=doc.origin("dockerfile"),
        image_name=image_name,
    )
    return build.hashed()


def check_skip_build(doc: Document, spec: Spec) -> None:
    """``skip_build`` uses ``base_image`` as it is: it needs one, and no Dockerfile."""
    if not spec.skip_build:
        return
    if spec.dockerfile is not None:
        _fail(doc, ("skip_build",), "a Dockerfile is built; remove dockerfile or skip_build")
    if spec.base_image is None:
        _fail(doc, ("skip_build",), "names no image to use as it is; set base_image")
    written = doc.data if isinstance(doc.data, dict) else {}
    for name in BUILD_ONLY:
        if written.get(name) not in (None, [], {}, False):
            _fail(doc, (name,), "needs a build, and skip_build uses the image as it is")


def _fail(doc: Document, loc: tuple[str, ...], message: str) -> NoReturn:
    line, col = doc.where(loc)
    raise SpecError(message, file=doc.path, line=line, column=col, field=format_loc(loc))


mark_frozen(ParentBuild)
