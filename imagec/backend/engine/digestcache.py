"""A stat-keyed cache of the context tar's sha256, so an unchanged project is not read again.

Hashing the context reads every file; deciding that nothing changed only needs the walk and
one ``lstat`` per entry. The cache maps a *listing key* -- every entry's path, kind, size,
mode, inode, mtime and ctime, the symlink targets, the generated files and the tar format --
to the digest the full read gave. One small file per context (its roots and destinations)
under ``$XDG_CACHE_HOME/imagec/context`` (default ``~/.cache/imagec/context``).

Racy entries: file times have a granularity, so a file written in the same tick as it was
hashed could change without its times changing. Like git's racy-clean rule, a listing with
any time within ``RACY_SECONDS`` of the hashing is not stored; the next build hashes again.
A build that sends the context also checks the digest of what it sent against this one.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from imagec import __version__
from imagec.context.walk import SYMLINK

if TYPE_CHECKING:
    from imagec.backend.buildcontext import BuildContext

CACHE_VERSION = "imagec-context-digest-cache-v2"  # v2: the digest leaves out the build file
RACY_SECONDS = 2.0


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "imagec" / "context"


def _entry_file(context: BuildContext) -> Path:
    ident = hashlib.sha256(CACHE_VERSION.encode())
    ident.update(context.build_file.encode())
    for d in context.plan.dirs:
        ident.update(f"\0{os.path.abspath(d.root)}\0{d.dest}".encode())
    return cache_dir() / f"{ident.hexdigest()[:32]}.json"


def listing_key(context: BuildContext) -> tuple[str, int]:
    """(key of everything that decides the tar's bytes, newest mtime/ctime in ns)."""
    h = hashlib.sha256(f"{CACHE_VERSION}\0{__version__}\0".encode())
    for name, extra in sorted(context.extra_files().items()):
        h.update(f"x\0{name}\0{extra.mode & 0o111}\0".encode())
        h.update(hashlib.sha256(extra.data).digest())
    newest = 0
    for entry in context.entries():
        try:
            st = os.lstat(entry.fspath)
        except OSError:
            st = None
        if st is None:
            h.update(f"e\0{entry.path}\0missing\n".encode())
            continue
        newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
        link = os.readlink(entry.fspath) if entry.kind == SYMLINK else ""
        h.update(
            f"e\0{entry.path}\0{entry.kind}\0{stat.S_IFMT(st.st_mode)}\0{st.st_mode & 0o111}\0"
            f"{st.st_size}\0{st.st_dev}\0{st.st_ino}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0"
            f"{link}\n".encode("utf-8", "surrogateescape")
        )
    return h.hexdigest(), newest


def tar_digest(context: BuildContext) -> str:
    """The context's tar digest, from the cache when the listing is unchanged.

    Also primes ``context.tar_digest`` (and so ``content_hash``) with it.
    """
    if "tar_digest" in context.__dict__:
        return context.tar_digest
    started = time.time_ns()
    key, newest = listing_key(context)
    path = _entry_file(context)
    try:
        stored = json.loads(path.read_text())
        if stored.get("listing") == key and isinstance(stored.get("digest"), str):
            context.__dict__["tar_digest"] = stored["digest"]
            return stored["digest"]
    except (OSError, ValueError, AttributeError):
        pass
    digest = context.tar_digest  # the full read
    if newest < started - int(RACY_SECONDS * 1e9):
        _store(path, {"listing": key, "digest": digest})
    return digest


def forget(context: BuildContext) -> None:
    """Drop the cached digest (what was sent did not match it)."""
    _entry_file(context).unlink(missing_ok=True)
    context.__dict__.pop("tar_digest", None)
    context.__dict__.pop("content_hash", None)


def _store(path: Path, data: dict[str, str]) -> None:
    """Best effort: a cache that cannot be written only costs the next build a full read."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        os.replace(tmp, path)
    except OSError:
        pass
