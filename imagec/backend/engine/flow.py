"""One ``imagec build`` on an engine: reuse check, build, tag, push.

1. The content-hash tag is looked up first. An image there whose labels record the same
   content hash (and the same build args, labels and platform) is the image: nothing is
   sent to the engine's build endpoint. ``--force``, ``--no-cache`` and ``--pull`` rebuild.
2. Otherwise the context streams to the engine and its log to the user. The image is
   tagged only once the build succeeded and what was sent matches the hash in its labels.
3. ``--push`` pushes the tags that name a registry.

With the stack's ``container_registry``, the content-hash tag is named in it and the registry
is asked before the engine (``remote``): an image pushed there from another machine with the
same labels is the image, and is neither built nor pulled.

A Docker engine started with ``--bridge=none`` (no ``bridge`` network: rootless set-ups,
containers without iptables, imagec's test machines) gives RUN steps no network at all, so
``pip install`` fails with name-resolution errors that do not say why. When no network
mode was chosen and the engine has no bridge, the build uses the host's network (the only
one such an engine offers) and says so in one line; ``-O network=none`` keeps it offline.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import closing
from functools import partial
from pathlib import Path
from typing import BinaryIO

from imagec.backend.base import Build, BuildRequest, BuildResult
from imagec.backend.containerfile import UnencodableValue, with_labels
from imagec.backend.engine import digestcache, fingerprint
from imagec.backend.engine.buildlog import BuildLog
from imagec.backend.engine.labels import BUILD_INPUTS, CONTENT_HASH, oci_labels
from imagec.backend.engine.platforms import check_several, target_platforms
from imagec.backend.engine.progress import Progress, choose_mode
from imagec.backend.engine.rawhttp import has_network
from imagec.backend.engine.refs import check_tags, registry_of
from imagec.backend.engine.remote import lookup, refuse_replacing, registry_tag
from imagec.backend.engine.session import BuildParams, EngineSession, ImageInfo
from imagec.backend.engine.stream import ContextStream
from imagec.backend.registry import RemoteImage
from imagec.errors import BuildError, EngineError, SpecError
from imagec.plan.ir import CTX_SOURCE


def run_build(
    session: EngineSession, build: Build, request: BuildRequest, *, network: str | None = None
) -> BuildResult:
    extra_tags = check_tags(request.tags)
    platforms = target_platforms(build, request)
    several = len(platforms) > 1
    if several:  # a manifest list: only from an engine that makes them, and a base per platform
        check_several(build, platforms, engine=None if lists_ok(session) else session.engine)
    context = build.context
    rebuild = request.force or request.no_cache or request.pull
    if not rebuild:
        digestcache.tar_digest(context)  # primes content_hash from the stat-keyed cache
    content_tag = context.tag
    if request.registry:
        content_tag = registry_tag(request.registry, content_tag)
    tags = tuple(dict.fromkeys((content_tag, *extra_tags)))
    to_push = push_targets(tags) if request.push else ()
    progress = Progress(session.engine, choose_mode(request.quiet))
    inputs = build_inputs(request)

    # The stack's registry is the target: asked first (also under --force, so an unreachable
    # or refusing registry fails before a long build), and never given other content for a
    # tag it has unless --force says so.
    remote = lookup(session.engine, content_tag) if request.registry and request.push else None
    in_registry = remote is not None and is_current(remote, context.content_hash, inputs)
    if remote is not None and not in_registry and not request.force:
        raise refuse_replacing(content_tag, remote)
    if in_registry and not request.force:
        to_push = tuple(ref for ref in to_push if ref != content_tag)

    existing = None if rebuild else current_image(session, content_tag, platforms)
    if existing is not None and is_current(existing, context.content_hash, inputs):
        for ref in extra_tags:
            session.tag(existing.id, ref)
        pushed = push(session, to_push, progress)
        remember(session, build, existing.id, tags)
        return BuildResult(existing.id, tags, built=False, pushed=pushed)
    if remote is not None and in_registry and not rebuild and not extra_tags:
        # Another machine (or engine) built and pushed it: nothing to build, pull or push.
        progress.note(f"{content_tag} is in the registry already")
        return BuildResult(remote.config_digest, (content_tag,), built=False)

    if network is None and no_bridge(session):
        network = "host"
        progress.note(NO_BRIDGE_NOTE.format(engine=session.engine, url=session.url))
    labels = oci_labels(source_root(build), context.content_hash)
    if inputs:
        labels[BUILD_INPUTS] = inputs
    labels.update(dict(request.labels))
    try:  # in the build file, after what the content hash covers (buildcontext)
        build_file_text = with_labels(context.build_file_text, labels)
    except UnencodableValue as exc:
        raise SpecError(str(exc), field="--label") from None
    params = BuildParams(
        build_file=context.build_file,
        labels={},
        build_args=dict(request.build_args),
        no_cache=request.no_cache,
        pull=request.pull,
        platform=",".join(platforms) if several else request.platform,
        network=network,
    )
    image_id = _build(session, build, params, progress, build_file_text)
    for ref in tags:
        session.tag(image_id, ref)
    pushed = push(session, to_push, progress)
    remember(session, build, image_id, tags)
    return BuildResult(image_id, tags, built=True, pushed=pushed)


def remember(session: EngineSession, build: Build, image_id: str, tags: tuple[str, ...]) -> None:
    """Let the next unchanged ``imagec build`` stop before loading anything (see
    ``fingerprint``): every context entry is part of what it checks."""
    if fingerprint.recording():
        entries = [entry.fspath for entry in build.context.entries() if entry.fspath]
        if build.parent is not None:  # the parent's Dockerfile and context make the image too
            parent = build.parent
            entries += [str(parent.dockerfile), str(parent.context)]
            entries += [entry.fspath for entry in parent.entries() if entry.fspath]
        fingerprint.finish(session.url, image_id, tags, entries)


NO_BRIDGE_NOTE = (
    "note: the {engine} engine at {url} has no bridge network (started with --bridge=none); "
    "RUN steps use the host's network (-O network=none to build offline)"
)


def no_bridge(session: EngineSession) -> bool:
    """A Docker engine that answers and has no ``bridge`` network (podman's default network
    is its own and always there)."""
    return session.engine == "docker" and has_network(session.url, "bridge") is False


def send_build(
    session: EngineSession,
    write_tar: Callable[[BinaryIO], str],
    params: BuildParams,
    log: BuildLog,
    progress: Progress,
) -> ContextStream:
    """Stream a context into the engine's build, feeding its messages to ``log``; the
    returned stream's ``digest`` is what was sent. A failure closes the progress line, and
    the engine gone away says so (``raise_if_gone``)."""
    body = ContextStream(write_tar, progress.sending)
    try:
        with body, closing(session.build(body, params)) as messages:
            for message in messages:
                log.feed(message)
        log.finish()
    except KeyboardInterrupt:
        progress.interrupted()
        raise
    except EngineError:
        progress.done(ok=False)
        body.check()
        raise_if_gone(session, log)
        raise
    except BaseException:
        progress.done(ok=False)
        body.check()  # an unreadable file explains whatever the engine made of the rest
        raise
    body.check()
    return body


def _build(
    session: EngineSession,
    build: Build,
    params: BuildParams,
    progress: Progress,
    build_file_text: str,
) -> str:
    context = build.context
    log = BuildLog(progress.event, origins=[s.origin.describe() for s in build.plan.steps])
    write_tar = partial(context.write_tar, build_file_text=build_file_text)
    body = send_build(session, write_tar, params, log, progress)
    if log.error is not None or log.image_id is None:
        progress.done(ok=False)
        raise_if_gone(session, log)
        raise log.failure(session.engine)
    progress.done(ok=True)
    if body.digest != context.tar_digest:
        # The tree changed between hashing and sending: the image does not hold what its
        # labels (and the tag it would get) say.
        session.remove_image(log.image_id)
        digestcache.forget(context)
        raise BuildError(
            "the source changed while it was being sent; nothing was tagged; build again"
        )
    return log.image_id


def raise_if_gone(session: EngineSession, log: BuildLog) -> None:
    """A build that broke off because the engine went away (a remote host down, a daemon
    killed) says so, instead of blaming the step that was running; the image was never
    tagged (tags come after a complete build), so a later reuse check finds nothing."""
    alive = getattr(session, "alive", None)  # SdkSession's short contact
    if alive is None or alive():
        return
    step = log.current
    where = f" (at step {step.number}/{step.total})" if step is not None else ""
    raise EngineError(
        f"the {session.engine} engine at {session.url} stopped answering during the "
        f"build{where}; nothing was tagged; build again once it is back"
    ) from None


def lists_ok(session: EngineSession) -> bool:
    """Whether the session builds manifest lists (``platforms``)."""
    return getattr(session, "manifest_lists", False) is True


def current_image(session: EngineSession, ref: str, platforms: tuple[str, ...]) -> ImageInfo | None:
    """What ``ref`` names: for several platforms the manifest list (its id, and its images'
    labels), as an image's lookup would give only this machine's platform's image."""
    if len(platforms) > 1:
        return session.manifest_list(ref, platforms)  # type: ignore[attr-defined]
    return session.image(ref)


def is_current(image: ImageInfo | RemoteImage, content_hash: str, inputs: str | None) -> bool:
    labels = image.labels
    return labels.get(CONTENT_HASH) == content_hash and labels.get(BUILD_INPUTS) == inputs


def build_inputs(request: BuildRequest) -> str | None:
    """A digest of what changes the image besides the content: build args, labels, platform."""
    data = {
        "build_args": sorted(request.build_args),
        "labels": sorted(request.labels),
        "platform": request.platform,
    }
    if not any(data.values()):
        return None
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def source_root(build: Build) -> Path | None:
    for d in build.plan.dirs:
        if d.dest == CTX_SOURCE:
            return Path(d.root)
    return None


def push_targets(tags: tuple[str, ...]) -> tuple[str, ...]:
    targets = tuple(ref for ref in tags if registry_of(ref))
    if not targets:
        raise SpecError(
            "no tag names a registry to push to; add one, e.g. "
            "--tag registry.example.com/team/app:1",
            field="--push",
        )
    return targets


def push(session: EngineSession, refs: tuple[str, ...], progress: Progress) -> tuple[str, ...]:
    for ref in refs:
        progress.note(f"pushing {ref}")
        try:
            for message in session.push(ref):
                error = message.get("error") or (message.get("errorDetail") or {}).get("message")
                if error:
                    reason = _one_line(str(error))
                    raise EngineError(f"{session.engine}: push of {ref} failed: {reason}")
        except KeyboardInterrupt:
            progress.interrupted()
            raise
    return refs


def _one_line(text: str) -> str:
    return " ".join(text.split())
