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

from contextlib import closing

from imagec import __version__
from imagec.backend.base import BuildRequest
from imagec.backend.engine.buildlog import BuildLog
from imagec.backend.engine.flow import no_bridge
from imagec.backend.engine.labels import CONTENT_HASH, VERSION
from imagec.backend.engine.progress import Progress, choose_mode
from imagec.backend.engine.session import BuildParams, EngineSession
from imagec.backend.engine.stream import ContextStream
from imagec.errors import BuildError
from imagec.resolve.parent import PARENT_BUILD_FILE, ParentBuild


def build_parent(
    session: EngineSession, parent: ParentBuild, request: BuildRequest, *, network: str | None
) -> tuple[str, bool]:
    """The parent image's id, and whether it was built (False: the tagged one was current)."""
    progress = Progress(session.engine, choose_mode(request.quiet))
    ref = parent.ref
    rebuild = request.force or request.no_cache or request.pull
    existing = None if rebuild else session.image(ref)
    if existing is not None and existing.labels.get(CONTENT_HASH) == parent.content_hash:
        progress.note(f"parent image {ref} is up to date ({where(parent)})")
        return existing.id, False
    progress.note(f"building parent image {ref} from {where(parent)}")
    if network is None and no_bridge(session):
        network = "host"  # as the main build does (flow.NO_BRIDGE_NOTE says why, once)
    params = BuildParams(
        build_file=PARENT_BUILD_FILE,
        labels={CONTENT_HASH: parent.content_hash, VERSION: __version__},
        build_args=dict(parent.build_args),
        no_cache=request.no_cache,
        pull=request.pull,
        platform=request.platform or parent.platform,
        network=network,
        target=parent.target,
    )
    origins = [f"{parent.named}:{line}" for line in instruction_lines(parent.text)]
    log = BuildLog(progress.event, origins=origins)
    body = ContextStream(parent.write_tar, progress.sending)
    try:
        with body, closing(session.build(body, params)) as messages:
            for message in messages:
                log.feed(message)
        log.finish()
    except KeyboardInterrupt:
        progress.interrupted()
        raise
    except BaseException:
        progress.done(ok=False)
        body.check()
        raise
    body.check()
    if log.error is not None or log.image_id is None:
        progress.done(ok=False)
        raise BuildError(log.failure(session.engine).message, field="dockerfile") from None
    progress.done(ok=True)
    if body.digest != parent.write_tar(None):
        session.remove_image(log.image_id)
        raise BuildError(
            "the Dockerfile's context changed while it was being sent; nothing was tagged; "
            "build again",
            field="dockerfile",
        )
    session.tag(log.image_id, ref)
    return log.image_id, True


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
