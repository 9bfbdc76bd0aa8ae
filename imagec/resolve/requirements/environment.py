"""The environment imagec runs in, frozen into requirement lines (``replicate_local_python_
environment``, as ZenML calls it): what ``pip freeze`` (or ``uv pip freeze``) prints, read from
the same installed metadata (``importlib.metadata``), so it needs no tool and no subprocess.

Each distribution becomes ``name==version``, or ``name @ URL`` when it was installed from a
VCS or archive URL (its ``direct_url.json``, PEP 610). Left out, each with a note:

* imagec itself and the distributions that plug into it (backends): the image gets imagec's
  runtime on its own, and the compiler's backends have no business in an image;
* installers and build tools that must not go into images: pip, setuptools, wheel, uv, ...;
* editable installs and installs from a local directory or file: the build cannot see them
  (an editable install of the source root itself is ``install_project``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata

from imagec.model.pep508 import InvalidRequirement, Requirement, canonicalize_name
from imagec.model.requirement import URL_SCHEMES

# Never frozen into an image: installers, build front- and back-ends, environment managers.
TOOLS = frozenset(
    canonicalize_name(n)
    for n in (
        "pip", "setuptools", "wheel", "distribute", "pkg-resources", "uv", "pipx", "virtualenv",
        "pip-tools", "poetry", "poetry-core", "pipenv", "hatch", "pdm", "build",
    )
)  # fmt: skip
BACKENDS_GROUP = "imagec.backends"


@dataclass(frozen=True)
class Frozen:
    requirements: tuple[str, ...]  # one requirement per installed distribution kept
    left_out: tuple[str, ...]  # "name: why", for the notes


def freeze(paths: Iterable[str] | None = None) -> Frozen:
    """The distributions importable from ``paths`` (default: ``sys.path``), first one of each
    name, sorted by name."""
    seen: dict[str, metadata.Distribution] = {}
    search = list(paths) if paths is not None else sys.path
    for dist in metadata.distributions(path=search):
        name = dist.metadata["Name"]
        if name and canonicalize_name(name) not in seen:
            seen[canonicalize_name(name)] = dist
    keep: list[str] = []
    out: list[str] = []
    for key in sorted(seen):
        dist = seen[key]
        name, version = dist.metadata["Name"], dist.version
        why = _left_out(key, dist)
        if why is not None:
            out.append(f"{name}: {why}")
            continue
        line = _requirement(name, version, dist)
        if line is None:
            out.append(f"{name}: installed from a local directory or file the build cannot see")
        else:
            keep.append(line)
    return Frozen(tuple(keep), tuple(out))


def _left_out(key: str, dist: metadata.Distribution) -> str | None:
    if key == "imagec":
        return "imagec installs its own runtime into the image"
    if key in TOOLS:
        return "an installer or build tool, not for images"
    if any(ep.group == BACKENDS_GROUP for ep in dist.entry_points):
        return "an imagec backend, used by the compiler only"
    direct = _direct_url(dist)
    if direct is not None and direct.get("dir_info", {}).get("editable"):
        return "an editable install (for the source root itself, use install_project)"
    return None


def _direct_url(dist: metadata.Distribution) -> dict | None:
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _requirement(name: str, version: str, dist: metadata.Distribution) -> str | None:
    """``name==version``, ``name @ git+URL@commit`` or ``name @ URL``; None when installed from
    this machine's files."""
    direct = _direct_url(dist)
    if direct is None or "url" not in direct:
        return f"{name}=={version}"
    url = str(direct["url"])
    if "vcs_info" in direct:
        vcs = direct["vcs_info"]
        url = f"{vcs.get('vcs', 'git')}+{url}@{vcs.get('commit_id', '')}".rstrip("@")
    scheme = url.split(":", 1)[0].lower()
    if scheme not in URL_SCHEMES:
        return None
    try:
        return str(Requirement(f"{name} @ {url}"))
    except InvalidRequirement:
        return None
