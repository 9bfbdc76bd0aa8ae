"""The OCI annotations imagec puts on every image it builds, and the git facts they need.

Git is read from the files in ``.git`` (HEAD, loose refs, packed-refs, config), so no ``git``
binary is needed and nothing is spawned; ``git rev-parse`` is only a fallback for layouts the
files alone do not settle.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from imagec import __version__
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
    labels[SOURCE] = remote or str(source_root.resolve())
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
        packed = _read(common / "packed-refs") or ""
        for line in packed.splitlines():
            sha, _, name = line.partition(" ")
            if name == ref and _SHA.fullmatch(sha):
                return sha
    return _rev_parse(work_tree)  # e.g. a reftable repository


def origin_url(git: Path) -> str | None:
    """``remote "origin"``'s url from the git config, without credentials."""
    config = _read(_common_dir(git) / "config") or ""
    section = None
    for raw in config.splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line.strip("[]").strip()
            continue
        key, sep, value = line.partition("=")
        if sep and section == 'remote "origin"' and key.strip().lower() == "url":
            # `scheme://user:secret@host/...`: the user part never goes into an image.
            return strip_userinfo(value.strip().strip('"')) or None
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def _rev_parse(work_tree: Path) -> str | None:
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
