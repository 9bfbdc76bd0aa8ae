"""The OCI annotations imagec puts on every image it builds, and the git facts they need.

Git is read from the files in ``.git`` (HEAD, loose refs, packed-refs, config), so no ``git``
binary is needed and nothing is spawned; ``git rev-parse`` is only a fallback for layouts the
files alone do not settle. Each read is bounded and takes regular files only (a ``.git`` of a
hostile checkout may point anywhere).

``org.opencontainers.image.source`` is the repository's remote URL without credentials, and
absent when there is none: a path on the build machine says nothing to whoever pulls the
image and tells them about that machine.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from imagec import __version__
from imagec.errors import SpecError
from imagec.util.fsutil import read_user_bytes
from imagec.util.secrets import strip_userinfo

SOURCE = "org.opencontainers.image.source"
CREATED = "org.opencontainers.image.created"
REVISION = "org.opencontainers.image.revision"
CONTENT_HASH = "dev.imagec.content-hash"
VERSION = "dev.imagec.version"
# Set only when build args, labels or a platform were given: they change the image without
# changing the content hash, so reuse compares them too.
BUILD_INPUTS = "dev.imagec.build-inputs"

_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.IGNORECASE)
# git's scp-like form `[user@]host:path` (no scheme, no slash before the first colon).
_SCP = re.compile(r"^(?:[^/@:]+@)?([^/@:]+:.*)$")
SMALL_FILE = 64 * 1024  # HEAD, a loose ref, a gitdir or commondir file
CONFIG_LIMIT = 1024 * 1024
PACKED_REFS_LIMIT = 64 * 1024 * 1024  # monorepos have tens of MB of packed refs


def created(now: float | None = None) -> str:
    """RFC 3339 UTC; ``SOURCE_DATE_EPOCH`` when set, for reproducible labels."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    seconds = int(epoch) if epoch.isdigit() else int(now if now is not None else time.time())
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def oci_labels(source_root: Path | None, content_hash: str) -> dict[str, str]:
    labels = {CREATED: created(), CONTENT_HASH: content_hash, VERSION: __version__}
    if source_root is None:
        return labels
    git = find_git_dir(source_root)
    remote = origin_url(git) if git else None
    if remote:
        labels[SOURCE] = remote
    revision = head_revision(git, source_root) if git else None
    if revision:
        labels[REVISION] = revision
    return labels


def find_git_dir(start: Path) -> Path | None:
    """The git directory of the work tree holding ``start`` (``.git`` dir or ``gitdir:`` file)."""
    for directory in (start.resolve(), *start.resolve().parents):
        dot_git = directory / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():
            text = _read(dot_git) or ""
            if text.startswith("gitdir:"):
                return (directory / text.removeprefix("gitdir:").strip()).resolve()
            return None
    return None


def _common_dir(git: Path) -> Path:
    """Worktrees keep HEAD of their own but refs and config in the main git directory."""
    common = _read(git / "commondir")
    return (git / common).resolve() if common else git


def head_revision(git: Path, work_tree: Path) -> str | None:
    head = _read(git / "HEAD")
    if head is None:
        return None
    if _SHA.fullmatch(head):
        return head
    if head.startswith("ref:"):
        ref = head.removeprefix("ref:").strip()
        common = _common_dir(git)
        for base in (git, common):
            value = _read(base / ref)
            if value and _SHA.fullmatch(value):
                return value
        packed = _read(common / "packed-refs", PACKED_REFS_LIMIT) or ""
        for line in packed.splitlines():
            sha, _, name = line.partition(" ")
            if name == ref and _SHA.fullmatch(sha):
                return sha
    return _rev_parse(work_tree)  # e.g. a reftable repository


def origin_url(git: Path) -> str | None:
    """The url of ``remote "origin"`` (else of the first remote) in the git config, without
    credentials; None when there is none or it names a path on this machine."""
    config = _read(_common_dir(git) / "config", CONFIG_LIMIT) or ""
    urls: dict[str, str] = {}
    section = None
    for raw in config.splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line.partition("]")[0].strip("[").strip()
            continue
        key, sep, value = line.partition("=")
        if sep and section and key.strip().lower() == "url":
            kind, _, name = section.partition(" ")
            if kind.lower() == "remote" and name.startswith('"'):
                urls.setdefault(name.strip('"'), _config_value(value))
    url = urls.get("origin") or next(iter(urls.values()), None)
    return public_url(url) if url else None


def _config_value(raw: str) -> str:
    """A git config value: quotes removed, a trailing ``#``/``;`` comment outside them cut."""
    out, quoted = [], False
    for ch in raw.strip():
        if ch == '"':
            quoted = not quoted
        elif ch in "#;" and not quoted:
            break
        else:
            out.append(ch)
    return "".join(out).strip()


def public_url(url: str) -> str | None:
    """``url`` as it may appear in an image: no user or password; None for a local path."""
    scheme = _SCHEME.match(url)
    if scheme:
        if scheme.group(1).lower() == "file":
            return None
        return strip_userinfo(url) or None
    scp = _SCP.match(url)
    if scp and not url.startswith((".", "~")):
        return scp.group(1)  # `git@host:team/proj.git` -> `host:team/proj.git`
    return None  # /srv/git/proj.git, ../proj: a directory of the build machine


def _read(path: Path, limit: int = SMALL_FILE) -> str | None:
    """A regular file's text, or None if it is missing, not a regular file or over ``limit``."""
    try:
        data = read_user_bytes(path, "git file", limit=limit)
    except SpecError:
        return None
    return data.decode("utf-8", errors="replace").strip()


def _rev_parse(work_tree: Path) -> str | None:
    import subprocess  # a fallback: most builds never spawn git

    git = shutil.which("git")
    if git is None:
        return None
    try:
        out = subprocess.run(
            [git, "-C", str(work_tree), "rev-parse", "--verify", "-q", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = out.stdout.strip()
    return value if out.returncode == 0 and _SHA.fullmatch(value) else None
