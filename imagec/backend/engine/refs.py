"""Image references as the build needs them: split into repository and tag, and the registry
a reference names (what ``--push`` pushes to)."""

from __future__ import annotations

from imagec.errors import SpecError
from imagec.model.reference import REFERENCE_RE


def split_tag(ref: str) -> tuple[str, str]:
    """``team/app:1`` -> (``team/app``, ``1``); no tag means ``latest``, as the engines read it."""
    m = REFERENCE_RE.match(ref)
    if not m or m.group("digest"):
        raise SpecError(
            f"invalid tag {ref!r} (expected NAME[:TAG], e.g. 'registry.example.com/team/app:1')",
            field="--tag",
        )
    return m.group("name"), m.group("tag") or "latest"


def check_tags(refs: tuple[str, ...]) -> tuple[str, ...]:
    """Every tag valid before anything is built: a bad one never leaves a build half-tagged."""
    for ref in refs:
        split_tag(ref)
    return tuple(dict.fromkeys(refs))


def registry_of(ref: str) -> str | None:
    """The registry host a reference names, or None for a bare name (``team/app``).

    The first component is a registry when it has a ``.`` or a ``:`` or is ``localhost``,
    the rule the engines themselves apply.
    """
    name, _ = split_tag(ref)
    first, sep, _rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return None
