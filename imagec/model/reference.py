"""Image references and platforms, checked against the grammars engines use.

The reference grammar is the OCI distribution one (``distribution/reference``)::

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [domain "/"] remote-name
    domain     := host [ ":" port ]
    tag        := [\\w][\\w.-]{0,127}
    digest     := algorithm ":" hex

Engines read ``FROM`` and tags with ``ParseNormalizedNamed``: ``python`` is
``docker.io/library/python``, the 255-character limit is on that normalized path, and a
64-hex-digit name is an image id. Go's ``\\w`` is ASCII and its ``$`` matches only at the
very end, hence the explicit classes and ``\\Z`` below.
"""

from __future__ import annotations

import re

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_HOST = rf"(?:{_DOMAIN_NAME}|{_IPV6})"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"

# Compiled on first use (``_compiled``; ``REFERENCE_RE`` and the others as module attributes):
# a compile whose spec names no image reads none of them.
_PATTERNS = {
    "REFERENCE_RE": rf"^(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?\Z",
    "NAME_RE": rf"^{_NAME}\Z",
    "_SPLIT_NAME_RE": rf"^(?:(?P<domain>{_DOMAIN})/)?(?P<path>.+)\Z",
    "_IMAGE_ID_RE": r"^[a-f0-9]{64}\Z",
    # os/arch[/variant], as `--platform` takes it (containerd's platforms package, lower case).
    "PLATFORM_RE": r"^[a-z0-9_]+/[a-z0-9_]+(?:/[a-z0-9_.]+)?\Z",
}
# go-digest: hex digits per algorithm, lower case.
_DIGEST_HEX = {"sha256": 64, "sha384": 96, "sha512": 128}
NAME_TOTAL_LENGTH_MAX = 255
_COMPILED: dict[str, re.Pattern[str]] = {}


def _compiled(name: str) -> re.Pattern[str]:
    pattern = _COMPILED.get(name)
    if pattern is None:
        pattern = _COMPILED[name] = re.compile(_PATTERNS[name])
    return pattern


def __getattr__(name: str) -> re.Pattern[str]:
    if name in _PATTERNS:
        return _compiled(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _normalize(name: str) -> str:
    """``splitDockerDomain``: the name as engines store it (``docker.io/library/python``)."""
    first, sep, rest = name.partition("/")
    if not sep:
        return f"docker.io/library/{name}"
    if first == "index.docker.io":
        first = "docker.io"
    elif first != "localhost" and not any(c in first for c in ".:") and first == first.lower():
        first, rest = "docker.io", name
    return (
        f"{first}/library/{rest}" if first == "docker.io" and "/" not in rest else f"{first}/{rest}"
    )


def _why_not(value: str) -> str | None:
    """Why engines would refuse ``value`` as an image reference, or None."""
    if _compiled("_IMAGE_ID_RE").match(value):
        return "64 hexadecimal digits name an image id, not a repository"
    reference = _compiled("REFERENCE_RE")
    m = reference.match(value)
    if not m:
        return "repository name must be lowercase" if reference.match(value.lower()) else ""
    remote = _normalize(value).split("/", 1)[1].split(":", 1)[0].split("@", 1)[0]
    if remote != remote.lower():
        return "repository name must be lowercase"
    path = _compiled("_SPLIT_NAME_RE").match(_normalize(m.group("name"))).group("path")
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        return f"repository name longer than {NAME_TOTAL_LENGTH_MAX} characters"
    if m.group("digest"):
        algorithm, _, hex_ = m.group("digest").partition(":")
        if algorithm not in _DIGEST_HEX:
            return f"unsupported digest algorithm {algorithm!r}"
        if len(hex_) != _DIGEST_HEX[algorithm] or hex_ != hex_.lower():
            return f"a {algorithm} digest is {_DIGEST_HEX[algorithm]} lower-case hex digits"
    return None


def check_reference(value: str) -> str:
    """Return ``value`` if it is a valid image reference, else raise ValueError saying why."""
    why = _why_not(value)
    if why is not None:
        hint = f": {why}" if why else " (expected e.g. 'python:3.11-slim')"
        raise ValueError(f"invalid image reference {value!r}{hint}")
    return value


def check_repository(value: str) -> str:
    """A repository name without tag or digest, e.g. ``registry.local:5000/team/app``."""
    if not _compiled("NAME_RE").match(value) or _why_not(value) is not None:
        raise ValueError(f"invalid image name {value!r} (expected e.g. 'team/app', no tag)")
    return value


def check_platform(value: str) -> str:
    if not _compiled("PLATFORM_RE").match(value):
        raise ValueError(
            f"invalid platform {value!r} (expected os/arch[/variant], e.g. 'linux/amd64')"
        )
    return value
