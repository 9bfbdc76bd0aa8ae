"""Image references and platforms, checked against the grammars engines use.

The reference grammar is the OCI distribution one (``distribution/reference``)::

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [domain "/"] remote-name
    domain     := host [ ":" port ]
    tag        := [\\w][\\w.-]{0,127}
    digest     := algorithm ":" hex
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
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"

REFERENCE_RE = re.compile(rf"^(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$")
NAME_RE = re.compile(rf"^{_NAME}$")
TAG_RE = re.compile(rf"^{_TAG}$")
NAME_TOTAL_LENGTH_MAX = 255

# os/arch[/variant], as `--platform` takes it (containerd's platforms package, lower case).
PLATFORM_RE = re.compile(r"^[a-z0-9_]+/[a-z0-9_]+(?:/[a-z0-9_.]+)?$")


def check_reference(value: str) -> str:
    """Return ``value`` if it is a valid image reference, else raise ValueError saying why."""
    m = REFERENCE_RE.match(value)
    if not m:
        raise ValueError(f"invalid image reference {value!r} (expected e.g. 'python:3.11-slim')")
    if len(m.group("name")) > NAME_TOTAL_LENGTH_MAX:
        raise ValueError(f"image name longer than {NAME_TOTAL_LENGTH_MAX} characters")
    return value


def check_repository(value: str) -> str:
    """A repository name without tag or digest, e.g. ``registry.local:5000/team/app``."""
    if not NAME_RE.match(value) or len(value) > NAME_TOTAL_LENGTH_MAX:
        raise ValueError(f"invalid image name {value!r} (expected e.g. 'team/app', no tag)")
    return value


def check_platform(value: str) -> str:
    if not PLATFORM_RE.match(value):
        raise ValueError(f"invalid platform {value!r} (expected os/arch[/variant], e.g. 'linux/amd64')")
    return value
