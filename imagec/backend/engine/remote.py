"""The stack's container registry in a build: the name the image gets there, the reuse check
against it (no pull), and the rule that a pushed content-hash tag is never replaced by other
content unless the user asks with ``--force``.

A registry tag is trusted only as a whole: the registry makes a tag exist when its manifest
is put, after every blob it names, so a push broken off half-way leaves no tag for a later
check to find. What the check reads is the manifest and the image config (its labels), two
small GETs; the image id an engine gives the pulled image is the config's digest.
"""

from __future__ import annotations

from imagec.backend.engine.refs import split_tag
from imagec.backend.registry import Registry, RemoteImage, parse
from imagec.errors import EngineError, SpecError


def registry_tag(registry: str, tag: str) -> str:
    """``host:port/team`` + ``app:0123abcd`` -> ``host:port/team/app:0123abcd``."""
    ref = f"{registry.rstrip('/')}/{tag}"
    split_tag(ref)  # a bad name is bad input, before anything is built
    if parse(ref) is None:
        raise SpecError(
            f"{registry!r} names no registry host (expected host[:port]/path, e.g. "
            "'registry.example:5000/team')",
            field="container_registry.config.uri",
        )
    return ref


def lookup(engine: str, ref: str) -> RemoteImage | None:
    """The image ``ref`` names in its registry (with ``engine``'s login and trust), or None."""
    reference = parse(ref)
    assert reference is not None, ref
    return Registry(reference.host, engine).image(ref)


def refuse_replacing(ref: str, remote: RemoteImage) -> EngineError:
    return EngineError(
        f"{ref} already exists in the registry with other content (image "
        f"{remote.config_digest[:19]}, built from other build args, labels or platform); "
        "nothing was built or pushed; --force builds and replaces it"
    )
