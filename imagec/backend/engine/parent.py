"""Build the user's Dockerfile (``dockerfile`` in the spec) before imagec's own steps.

The same engine builds it, from the context ``resolve.parent`` selects, and tags it with its
content hash (``<image_name>-parent:<hash>``). An image under that tag whose labels record
the same hash is the parent: nothing is sent. ``--force``, ``--no-cache`` and ``--pull``
rebuild it too. A failing step is reported as imagec's own steps are, naming the Dockerfile
and the line of the instruction::

    dockerfile: step 2/3 failed: RUN exit 3 (from docker/Dockerfile:4): exit code 3
      | ...
"""

from __future__ import annotations

from typing import Any

from imagec import __version__
from imagec.backend.base import Build, BuildRequest
from imagec.backend.engine import digestcache
from imagec.backend.engine.buildlog import BuildLog
from imagec.backend.engine.flow import build_inputs, is_current, no_bridge, send_build
from imagec.backend.engine.labels import BUILD_INPUTS, CONTENT_HASH, VERSION
from imagec.backend.engine.progress import Progress, choose_mode
from imagec.backend.engine.session import BuildParams, EngineSession
from imagec.errors import BuildError
from imagec.resolve.parent import PARENT_BUILD_FILE, ParentBuild


def ensure_parent(session: EngineSession, build: Build, request: BuildRequest, **kw: Any) -> None:
    """Build or find the parent of ``build`` (the engine's canonical build), unless the image
    built on it is current already: that image needs no FROM, so a parent tag removed since
    is not rebuilt for nothing."""
    if build.parent is None or image_is_current(session, build, request):
        return
    build_parent(session, build.parent, request, **kw)


def image_is_current(session: EngineSession, build: Build, request: BuildRequest) -> bool:
    """The flow's own reuse rule (``flow.is_current``) for the image under its content tag."""
    if request.force or request.no_cache or request.pull:
        return False
    context = build.context
    digestcache.tar_digest(context)  # primes content_hash from the stat-keyed cache
    existing = session.image(context.tag)
    inputs = build_inputs(request)
    return existing is not None and is_current(existing, context.content_hash, inputs)


def build_parent(
    session: EngineSession, parent: ParentBuild, request: BuildRequest, *, network: str | None
) -> tuple[str, bool]:
    """The parent image's id, and whether it was built (False: the tagged one was current)."""
    progress = Progress(session.engine, choose_mode(request.quiet))
    ref = parent.ref
    rebuild = request.force or request.no_cache or request.pull
    # `--platform` may ask for another platform than the spec's, under the same tag.
    platform = request.platform or parent.platform
    existing = None if rebuild else session.image(ref)
    labels = existing.labels if existing is not None else {}
    current = labels.get(CONTENT_HASH) == parent.content_hash
    if existing is not None and current and labels.get(BUILD_INPUTS) == platform:
        progress.note(f"parent image {ref} is up to date ({where(parent)})")
        return existing.id, False
    progress.note(f"building parent image {ref} from {where(parent)}")
    if network is None and no_bridge(session):
        network = "host"  # as the main build does (flow.NO_BRIDGE_NOTE says why, once)
    params = BuildParams(
        build_file=PARENT_BUILD_FILE,
        labels={
            CONTENT_HASH: parent.content_hash,
            VERSION: __version__,
            **({BUILD_INPUTS: platform} if platform else {}),
        },
        build_args=dict(parent.build_args),
        no_cache=request.no_cache,
        pull=request.pull,
        platform=platform,
        network=network,
        target=parent.target,
    )
    log = ParentLog(progress.event, parent)
    body = send_build(session, parent.write_tar, params, log, progress)
    if log.error is not None or log.image_id is None:
        progress.done(ok=False)
        raise BuildError(log.failure(session.engine).message, field="dockerfile") from None
    progress.done(ok=True)
    if body.digest != parent.tar_digest:  # what was sent is not what the tag's hash says
        session.remove_image(log.image_id)
        raise BuildError(
            "the Dockerfile's context changed while it was being sent; nothing was tagged; "
            "build again",
            field="dockerfile",
        )
    session.tag(log.image_id, ref)
    return log.image_id, True


class ParentLog(BuildLog):
    """The build log of a parent: a step's origin is found by its instruction's text, since
    engines number steps their own way (docker's classic builder counts a LABEL of its own,
    BuildKit only some instructions, multi-stage builds skip stages)."""

    def __init__(self, on_event, parent: ParentBuild) -> None:
        super().__init__(on_event)
        self.parent = parent
        lines = parent.text.splitlines()
        self.instructions = [(n, _words(lines[n - 1])) for n in instruction_lines(parent.text)]

    def origin_of(self, step) -> str | None:
        said = _words(step.instruction)
        found = [
            (abs(i + 1 - step.number), n)
            for i, (n, text) in enumerate(self.instructions)
            if text and (said.startswith(text) or text.startswith(said))
        ]
        return f"{self.parent.named}:{min(found)[1]}" if found else None


def _words(text: str) -> str:
    """An instruction's first line, compared loosely: case of the keyword, spacing, a
    trailing line continuation."""
    words = text.strip().removesuffix("\\").removesuffix("`").split()
    return " ".join([words[0].upper(), *words[1:]]) if words else ""


def where(parent: ParentBuild) -> str:
    """``dockerfile docker/Dockerfile``: the field and the file as the spec names it."""
    return f"dockerfile {parent.named}"


def instruction_lines(text: str) -> list[int]:
    """The 1-based line where each instruction of a Dockerfile starts, in order: what a
    failing step's number is mapped back to. Comments, blank lines and the continuation
    lines of an instruction (``\\`` or the ``# escape=`` character at the end) start none."""
    escape = "\\"
    lines: list[int] = []
    continued = False
    directives = True
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if directives and line.startswith("#"):
            key, _, value = line[1:].partition("=")
            if key.strip().lower() == "escape" and value.strip() in ("\\", "`"):
                escape = value.strip()
            continue
        directives = False
        if not line or line.startswith("#"):
            continue
        if not continued:
            lines.append(number)
        continued = line.endswith(escape)
    return lines
