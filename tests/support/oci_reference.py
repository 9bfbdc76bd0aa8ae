"""A port of ``distribution/reference``'s ``Parse`` and ``ParseNormalizedNamed``.

Engines read ``FROM`` and image tags with ``ParseNormalizedNamed``; this port is checked
against what the Go library itself answers for every input of its own tests
(``vectors/reference_oracle.json``), and ``test_reference.py`` holds ``imagec.reference`` to
the same answers.

Go regular expressions differ from Python's in two ways that matter here: ``\\w`` is ASCII
only, and ``$`` matches only at the very end (Python's also matches before a final newline),
so the patterns below use explicit classes and ``fullmatch``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ALPHANUMERIC = r"[a-z0-9]+"
SEPARATOR = r"(?:[._]|__|[-]+)"
LOCALHOST = "localhost"
DOMAIN_NAME_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
OPTIONAL_PORT = r"(?::[0-9]+)?"
TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"
IDENTIFIER = r"([a-f0-9]{64})"
IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
DOMAIN_NAME = DOMAIN_NAME_COMPONENT + r"(?:\." + DOMAIN_NAME_COMPONENT + r")*"
HOST = r"(?:" + DOMAIN_NAME + "|" + IPV6 + ")"
DOMAIN_AND_PORT = HOST + OPTIONAL_PORT
PATH_COMPONENT = ALPHANUMERIC + r"(?:" + SEPARATOR + ALPHANUMERIC + r")*"
REMOTE_NAME = PATH_COMPONENT + r"(?:/" + PATH_COMPONENT + r")*"
NAME = r"(?:" + DOMAIN_AND_PORT + "/)?" + REMOTE_NAME

REFERENCE_RE = re.compile(r"(" + NAME + r")(?::(" + TAG + r"))?(?:@(" + DIGEST + r"))?")
ANCHORED_NAME_RE = re.compile(r"(?:(" + DOMAIN_AND_PORT + r")/)?(" + REMOTE_NAME + r")")
ANCHORED_IDENTIFIER_RE = re.compile(IDENTIFIER)
ANCHORED_DIGEST_RE = re.compile(DIGEST)

REPOSITORY_NAME_TOTAL_LENGTH_MAX = 255
DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"

# Hex length of each algorithm go-digest knows. An engine binary links crypto/sha512 (TLS
# needs it), so all three are available there; the library's test binary has only sha256.
DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
ENGINE_ALGORITHMS = frozenset(DIGEST_HEX_LENGTHS)


class ReferenceError(ValueError):
    pass


@dataclass(frozen=True)
class Reference:
    domain: str
    path: str
    tag: str = ""
    digest: str = ""

    @property
    def name(self) -> str:
        return f"{self.domain}/{self.path}" if self.domain else self.path


def _validate_digest(value: str, available: frozenset[str]) -> None:
    """go-digest v1.0.0 ``Digest.Validate``."""
    i = value.find(":")
    if i <= 0 or i + 1 == len(value):
        raise ReferenceError("invalid checksum digest format")
    algorithm, encoded = value[:i], value[i + 1 :]
    if algorithm not in available:
        if not ANCHORED_DIGEST_RE.fullmatch(value):
            raise ReferenceError("invalid checksum digest format")
        raise ReferenceError("unsupported digest algorithm")
    if len(encoded) != DIGEST_HEX_LENGTHS[algorithm]:
        raise ReferenceError("invalid checksum digest length")
    if not re.fullmatch(r"[a-f0-9]+", encoded):
        raise ReferenceError("invalid checksum digest format")


def parse(s: str, *, algorithms: frozenset[str] = ENGINE_ALGORITHMS) -> Reference:
    """``reference.Parse``."""
    if s == "":
        raise ReferenceError("repository name must have at least one component")
    m = REFERENCE_RE.fullmatch(s)
    if m is None:
        lower = s.lower()
        if lower != s and REFERENCE_RE.fullmatch(lower):
            raise ReferenceError("repository name must be lowercase")
        raise ReferenceError("invalid reference format")
    name, tag, digest = m.group(1), m.group(2) or "", m.group(3) or ""
    nm = ANCHORED_NAME_RE.fullmatch(name)
    domain, path = (nm.group(1) or "", nm.group(2)) if nm else ("", name)
    if len(path) > REPOSITORY_NAME_TOTAL_LENGTH_MAX:
        raise ReferenceError(
            f"repository name must not be more than {REPOSITORY_NAME_TOTAL_LENGTH_MAX} characters"
        )
    if digest:
        _validate_digest(digest, algorithms)
    return Reference(domain, path, tag, digest)


def split_docker_domain(name: str) -> tuple[str, str]:
    maybe_domain, sep, maybe_remote = name.partition("/")
    if not sep:
        return DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name
    if maybe_domain == LEGACY_DEFAULT_DOMAIN:
        domain, remote = DEFAULT_DOMAIN, maybe_remote
    elif (
        maybe_domain == LOCALHOST  # a reserved namespace: always a domain
        or any(c in maybe_domain for c in ".:")  # a host name, an address or a port
        or maybe_domain.lower() != maybe_domain  # namespaces are lower case: a domain
    ):
        domain, remote = maybe_domain, maybe_remote
    else:
        domain, remote = DEFAULT_DOMAIN, name
    if domain == DEFAULT_DOMAIN and "/" not in remote:
        remote = OFFICIAL_REPO_PREFIX + remote
    return domain, remote


def parse_normalized_named(s: str, *, algorithms: frozenset[str] = ENGINE_ALGORITHMS) -> Reference:
    """``reference.ParseNormalizedNamed``: how engines read ``FROM`` and ``-t`` values."""
    if ANCHORED_IDENTIFIER_RE.fullmatch(s):
        raise ReferenceError(
            f"invalid repository name ({s}), cannot specify 64-byte hexadecimal strings"
        )
    domain, remainder = split_docker_domain(s)
    remote = remainder.split(":", 1)[0]
    if remote.lower() != remote:
        raise ReferenceError(
            f"invalid reference format: repository name ({remote}) must be lowercase"
        )
    return parse(f"{domain}/{remainder}", algorithms=algorithms)
