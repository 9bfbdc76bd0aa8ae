"""The no-op build's fast path: proof that nothing an image was built from has changed.

A build that ends with an image (built, or found up to date) stores a *fingerprint record*
under ``$XDG_CACHE_HOME/imagec/fingerprints/`` (never in the user's tree), named by a key of
everything the command line and environment decide:

- the command's arguments (spec, ``--stack``, ``--dockerignore``, backend and ``-O``
  options, ``--url``, tags, build args, labels, platform...), the working directory, imagec's
  version and the installed distributions (``imagec.plugins.manager.installation_key``);
- the environment, except variables that only describe the terminal session.

The record lists every file and directory the build depended on, with its inode, size,
mode, mtime and ctime:

- every file the process opened and every directory it listed outside the interpreter's
  own trees (a Python audit hook sees them: the spec, requirement files, the stack, the
  ignore file, Python sources read with ``--import``, the context walk's directories);
- every entry of the build context (files the digest cache vouched for are not opened);
- the spec's directory and each ``.imagec`` the source-root search probed;
- the source files of every imagec module and plugin that was loaded.

The next ``imagec build`` with the same key stats those paths; when all match, it asks the
engine (one raw HTTP GET per tag on its unix socket, no SDK) that every tag still names the
recorded image, and stops there: no validation, planning or SDK import. Anything else --
a changed stat, a missing record, an image gone or retagged, a non-unix engine URL --
takes the full path, which checks and rebuilds as before.

Racy entries, as git handles them: a record is stored only if every recorded time is older
than the start of the process by ``RACY_SECONDS``, so a file changed during the build, or in
the same clock tick as it was read, never vouches for an image built from other bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from imagec import __version__
from imagec.backend.engine.rawhttp import image_labels

RECORD_VERSION = "imagec-build-fingerprint-v1"
RACY_SECONDS = 2.0
# Variables that describe the terminal session, not the build.
VOLATILE_ENV = frozenset(
    {"_", "PWD", "OLDPWD", "SHLVL", "TERM", "COLUMNS", "LINES", "PS1", "PS2", "HISTFILE"}
)
VOLATILE_PREFIXES = ("SSH_", "TMUX", "WINDOWID", "XDG_SESSION", "XDG_VTNR", "DISPLAY")
# Arguments that make a build do more than a reuse check: never on the fast path.
REBUILDING = ("force", "no_cache", "pull", "push")
Stat = list[int] | None


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "imagec" / "fingerprints"


def eligible(args: Mapping[str, Any]) -> bool:
    return not any(args.get(name) for name in REBUILDING)


def build_key(
    args: Mapping[str, Any], installation: str, environ: Mapping[str, str] = os.environ
) -> str:
    env = {
        k: v
        for k, v in environ.items()
        if k not in VOLATILE_ENV and not k.startswith(VOLATILE_PREFIXES)
    }
    data = {
        "v": RECORD_VERSION,
        "imagec": __version__,
        "installation": installation,
        "python": sys.version,
        "cwd": os.getcwd(),
        "args": {k: v for k, v in sorted(args.items())},
        "env": sorted(env.items()),
    }
    blob = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def stat_of(path: str) -> Stat:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return [st.st_ino, st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


# -- the fast path ------------------------------------------------------------------------


def lookup(key: str) -> dict[str, Any] | None:
    """The record for ``key`` when every recorded path is as it was, else None."""
    try:
        record = json.loads((cache_dir() / f"{key}.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("v") != RECORD_VERSION:
        return None
    paths = record.get("paths")
    if not isinstance(paths, dict):
        return None
    for path, recorded in paths.items():
        if stat_of(path) != recorded:
            return None
    return record


def confirm(record: Mapping[str, Any]) -> bool:
    """Does every recorded tag still name the recorded image, with its content hash?"""
    url, image_id = record.get("url"), record.get("image_id")
    tags = record.get("tags") or []
    if not isinstance(url, str) or not isinstance(image_id, str) or not tags:
        return False
    for ref in tags:
        found = image_labels(url, ref)
        if not isinstance(found, tuple) or found[0] != image_id:
            return False
    return True


# -- the full path: what the build depended on ----------------------------------------------


class Recorder:
    """Collects the paths a build depends on, from a Python audit hook (``open``,
    ``os.scandir``, ``os.listdir``) installed before the spec is read."""

    def __init__(self) -> None:
        self.started = time.time()
        self.paths: set[str] = set()
        skip = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(cache_dir().parent)}
        skip |= {p for p in sys.path if "site-packages" in p or "dist-packages" in p}
        skip.add(str(Path(__file__).resolve().parents[2]))  # the imagec package itself
        self._skip = tuple(os.path.join(os.path.realpath(p), "") for p in skip if p)
        self._skip += ("/proc/", "/sys/", "/dev/")
        # Listings of the import path are the plugin scan's; the key's installation part
        # covers them, and the working directory on it changes for reasons of its own.
        self._import_path = frozenset(p or "." for p in sys.path)
        self.active = True
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active or event not in ("open", "os.scandir", "os.listdir"):
            return
        path = args[0] if args else None
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str):
            return  # a file descriptor, or scandir() of the working directory
        if event == "open" and path.endswith((".pyc", ".so")):
            return
        if event != "open" and path in self._import_path:
            return
        full = os.path.abspath(path)
        if not full.startswith(self._skip):
            self.paths.add(full)

    def save(
        self,
        key: str,
        *,
        url: str | None,
        image_id: str,
        tags: Iterable[str],
        also: Iterable[str],
    ) -> bool:
        """Store the record; False (and nothing stored) when it could not vouch safely."""
        self.active = False
        if url is None:
            return False
        paths = set(self.paths) | {os.path.abspath(p) for p in also}
        for module in list(sys.modules.values()):
            name = getattr(module, "__name__", "")
            source = getattr(module, "__file__", None)
            if name.split(".")[0].startswith("imagec") and source:
                paths.add(source)
        stats = {p: stat_of(p) for p in sorted(paths)}
        newest = max((s[4] for s in stats.values() if s is not None), default=0)
        if newest >= (self.started - RACY_SECONDS) * 1e9:
            return False  # something changed while (or just before) it was read
        record = {
            "v": RECORD_VERSION,
            "url": url,
            "image_id": image_id,
            "tags": list(tags),
            "paths": stats,
        }
        target = cache_dir() / f"{key}.json"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".record.", suffix=".tmp")
            with os.fdopen(fd, "w") as f:
                json.dump(record, f)
            os.replace(tmp, target)
        except OSError:
            return False  # a read-only cache still builds, just without the fast path
        return True


# The command line starts recording (it knows the key); the build flow, which knows the engine
# URL, the tags and the context, ends it once the image is there.
_pending: tuple[Recorder, str, list[str]] | None = None


def begin(key: str, also: Iterable[str]) -> Recorder:
    global _pending
    recorder = Recorder()
    _pending = (recorder, key, list(also))
    return recorder


def recording() -> bool:
    return _pending is not None


def finish(url: str, image_id: str, tags: Iterable[str], context_paths: Iterable[str]) -> bool:
    """Store the record of the build ``begin`` started, if any."""
    global _pending
    if _pending is None:
        return False
    recorder, key, also = _pending
    _pending = None
    return recorder.save(key, url=url, image_id=image_id, tags=tags, also=[*also, *context_paths])


def probed_paths(spec: str) -> list[str]:
    """What resolving ``spec`` looks at besides the files it opens: the spec's directory
    (a new spec file or ignore file there changes it) and each ``.imagec`` the source-root
    search probes, up to the file system root."""
    target = Path(spec.rpartition(":")[0] if spec.count(":") == 1 and ".py:" in spec else spec)
    start = target.absolute()
    directory = start if start.is_dir() else start.parent
    out = [str(start), str(directory)]
    out += [str(d / ".imagec") for d in (directory, *directory.parents)]
    return out
