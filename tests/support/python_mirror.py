"""A python-build-standalone mirror on loopback, and the uv image, for building the managed
Python (``managed_python: true``) where neither GitHub nor ghcr.io can be reached.

The managed Python's steps (``imagec/plan/python.py``) copy uv from
``ghcr.io/astral-sh/uv:<version>`` and run ``uv python install``, which downloads a
python-build-standalone "install_only" archive. This module supplies both on the test machine:

- :func:`ensure_uv_image` imports into an engine, under the official name, an image laid out as
  the official one is (``FROM scratch``, ``/uv`` and ``/uvx``, entrypoint ``/uv``) with the uv
  binaries of the same version from the uv wheel on the Python package index (the musllinux
  wheel: the same static musl build the official image ships).
- :func:`standin_archive` makes a **stand-in** for a python-build-standalone archive. No
  registry this machine reaches redistributes python-build-standalone builds (the PyPI projects
  about them, e.g. ``pbs-installer``, ``getpybs``, ``psa-cli``, ``pystand``, download from
  GitHub at run time), so the archive is made from a real CPython: pyenv's build of 3.12 on
  this machine (upstream CPython built from python.org's source, with pip in site-packages, as
  python-build-standalone has), in the install_only layout::

      python/bin/python3.12   python/bin/python3 -> python3.12   python/bin/python -> python3.12
      python/lib/libpython3.12.so.1.0   python/lib/python3.12/...   python/lib/pkgconfig/...

  Like python-build-standalone it is relocatable and self-contained apart from glibc-level
  libraries: the ELF files' run paths are made relative (``$ORIGIN/../lib``) and the shared
  libraries its extension modules load besides glibc's are bundled in ``python/lib``; the
  build prefix in ``_sysconfigdata_*.py`` and the pkg-config files is python-build-standalone's
  ``/install``, which uv rewrites to the installation's path. Left out: the test suite, IDLE,
  tkinter and ``nis`` (they need X11/Tk and NIS libraries), the static libpython, and every
  ``__pycache__``.
- :class:`PythonMirror` serves, on 127.0.0.1, a directory laid out as python-build-standalone's
  releases (``/<release>/<archive>``), which is what uv's ``UV_PYTHON_INSTALL_MIRROR`` replaces
  ``https://github.com/astral-sh/python-build-standalone/releases/download`` with, and a
  downloads list (``/download-metadata.json``) in uv's format. uv checks an archive against the
  sha256 its built-in list has for each known build, which a stand-in cannot match, so the build
  names the list with ``UV_PYTHON_DOWNLOADS_JSON_URL`` (the list names the archive by its
  GitHub URL, with its own sha256; the mirror then serves it). A genuine archive needs only the
  mirror.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import tarfile
import tempfile
import threading
import uuid
import zipfile
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

from imagec.plan.compiler import UV_REQUIREMENT
from imagec.plan.python import UV_IMAGE
from support.containers import TEST_REPOSITORY, remove_image
from support.engines import Engine, cache_dir, unavailable
from support.uv_wheel import NoUvWheel, uv_wheel

#: Bumped when the way the archive is made changes.
RECIPE_VERSION = 1
#: The Python minor version the stand-in is made of (pyenv's build on the test machine).
STANDIN_MINOR = "3.12"
#: The release name the stand-in is published under (python-build-standalone's are dates).
RELEASE = "imagec-standin"
TRIPLE = "x86_64-unknown-linux-gnu"
RELEASES_URL = "https://github.com/astral-sh/python-build-standalone/releases/download"
#: python-build-standalone's build prefix, which uv rewrites in sysconfig data on install.
PBS_PREFIX = "/install"
#: Left out of ``lib/pythonX.Y`` (top-level names).
_SKIP_STDLIB = {"test", "idlelib", "tkinter", "turtledemo"}
#: Libraries every glibc system has: not bundled (python-build-standalone does not either).
_GLIBC = ("libc.so", "libm.so", "libpthread.so", "libdl.so", "librt.so", "libutil.so",
          "libresolv.so", "ld-linux", "linux-vdso")  # fmt: skip


@dataclass(frozen=True)
class Archive:
    path: Path
    version: str  # X.Y.Z
    sha256: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def key(self) -> str:
        """uv's installation key, also the directory it installs into."""
        return f"cpython-{self.version}-linux-x86_64-gnu"


# ---------------------------------------------------------------------------------------------
# The stand-in archive


def _pyenv_build() -> tuple[Path, str]:
    """pyenv's CPython of :data:`STANDIN_MINOR` (with a shared libpython) and its version."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    for candidate in sorted(root.glob(f"{STANDIN_MINOR}.*"), reverse=True):
        exe = candidate / "bin" / f"python{STANDIN_MINOR}"
        lib = candidate / "lib" / f"libpython{STANDIN_MINOR}.so.1.0"
        if exe.is_file() and lib.is_file() and not candidate.is_symlink():
            proc = subprocess.run(
                [str(exe), "-c", "import platform; print(platform.python_version())"],
                capture_output=True, text=True, check=False, timeout=60,
            )  # fmt: skip
            if proc.returncode == 0:
                return candidate, proc.stdout.strip()
    unavailable(f"managed Python: no pyenv CPython {STANDIN_MINOR} under {root} to make the "
                "stand-in python-build-standalone archive from")  # fmt: skip


def retarget_runpath(data: bytearray, runpath: str) -> bool:
    """Point an ELF64 file's DT_RUNPATH (or DT_RPATH) at ``runpath`` in place, padding the old
    string with NULs (so ``runpath`` must be no longer). False if it has neither."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a little-endian ELF64 file")
    phoff = int.from_bytes(data[0x20:0x28], "little")
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads: list[tuple[int, int, int]] = []
    dynamic: tuple[int, int] | None = None
    for i in range(phnum):
        p_type, _, offset, vaddr, _, filesz, _, _ = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + i * phentsize
        )
        if p_type == 1:  # PT_LOAD
            loads.append((vaddr, offset, filesz))
        elif p_type == 2:  # PT_DYNAMIC
            dynamic = (offset, filesz)
    if dynamic is None:
        return False
    tags: dict[int, int] = {}
    for at in range(dynamic[0], dynamic[0] + dynamic[1], 16):
        tag, value = struct.unpack_from("<qQ", data, at)
        if tag == 0:  # DT_NULL
            break
        tags.setdefault(tag, value)
    where = tags.get(29, tags.get(15))  # DT_RUNPATH, DT_RPATH
    if where is None:
        return False
    strtab = tags[5]  # DT_STRTAB, a virtual address
    base = next(off + strtab - va for va, off, size in loads if va <= strtab < va + size)
    start = base + where
    end = data.index(b"\0", start)
    new = runpath.encode()
    if len(new) > end - start:
        raise ValueError(f"run path {runpath!r} is longer than {data[start:end]!r}")
    data[start:end] = new.ljust(end - start, b"\0")
    return True


def _bundled_libraries(elf_files: list[Path], source: Path) -> dict[str, Path]:
    """soname -> host path of each shared library the files load besides glibc's and their own."""
    found: dict[str, Path] = {}
    for path in elf_files:
        proc = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=False)
        for line in proc.stdout.splitlines():
            name, _, rest = line.strip().partition(" => ")
            target = rest.split(" (")[0].strip()
            if not target.startswith("/") or name.startswith(_GLIBC):
                continue
            if Path(target).resolve().is_relative_to(source.resolve()):
                continue
            found.setdefault(name, Path(target).resolve())
    return found


def _include(rel: Path, stdlib: str) -> bool:
    parts = rel.parts
    if "__pycache__" in parts:
        return False
    if parts[0] == "bin":
        return rel.name == f"python{STANDIN_MINOR}"
    if parts[0] != "lib":
        return False
    if len(parts) < 3 or parts[1] != stdlib:
        return parts[1].startswith("libpython") or parts[1] == "pkgconfig"
    if parts[2] in _SKIP_STDLIB or rel.name.endswith(".a"):
        return False
    if parts[2] == "lib-dynload" and rel.name.startswith(("_tkinter", "nis.")):
        return False
    if parts[2] == "site-packages":  # pip alone, as python-build-standalone ships it
        return len(parts) > 3 and (parts[3] == "pip" or parts[3].startswith("pip-"))
    return True


def _add(tar: tarfile.TarFile, name: str, data: bytes | None = None, *, link: str = "",
         mode: int = 0o644) -> None:  # fmt: skip
    info = tarfile.TarInfo(name)
    info.mtime = 0
    info.uname = info.gname = ""
    if link:
        info.type, info.linkname, info.mode = tarfile.SYMTYPE, link, 0o777
        tar.addfile(info)
    elif data is None:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
    else:
        info.size, info.mode = len(data), mode
        tar.addfile(info, io.BytesIO(data))


def _write_archive(source: Path, version: str, out: Path) -> None:
    stdlib = f"python{STANDIN_MINOR}"
    prefix = str(source).encode()
    files = sorted(
        p for p in source.rglob("*") if not p.is_dir() and _include(p.relative_to(source), stdlib)
    )
    elf = [p for p in files if not p.is_symlink() and p.read_bytes()[:4] == b"\x7fELF"]
    libs = _bundled_libraries(elf, source)
    dirs = {parent for p in files for parent in p.relative_to(source).parents}
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        for directory in sorted(dirs):  # "." first: python/ itself
            _add(tar, f"python/{directory.as_posix()}".removesuffix("/."))
        for path in files:
            rel = path.relative_to(source)
            name = f"python/{rel.as_posix()}"
            if path.is_symlink():
                _add(tar, name, link=os.readlink(path))
                continue
            data = bytearray(path.read_bytes())
            mode = path.stat().st_mode & 0o755
            if path in elf:
                depth = len(rel.parts) - 2  # lib/x.so: 0; lib/python3.12/lib-dynload/x.so: 2
                origin = (
                    "$ORIGIN/../lib"
                    if rel.parts[0] == "bin"
                    else "/".join(["$ORIGIN", *[".."] * depth])
                )
                retarget_runpath(data, origin)
            elif (
                rel.name.startswith("_sysconfigdata_")
                or rel.suffix == ".pc"
                or ("config-" in rel.as_posix() and rel.suffix in ("", ".py", ".sh"))
            ):
                data = bytearray(bytes(data).replace(prefix, PBS_PREFIX.encode()))
            _add(tar, name, bytes(data), mode=mode)
        for soname, host in sorted(libs.items()):
            _add(tar, f"python/lib/{soname}", host.read_bytes(), mode=0o755)
        _add(tar, "python/bin/python3", link=stdlib)
        _add(tar, "python/bin/python", link=stdlib)
    # The build prefix must be gone from everything uv patches (else the rewrite did nothing).
    with tarfile.open(out) as tar:
        for member in tar.getmembers():
            if "_sysconfigdata_" in member.name:
                text = tar.extractfile(member).read()  # type: ignore[union-attr]
                assert prefix not in text and b"'/install" in text, member.name


def standin_archive() -> Archive:
    """The stand-in install_only archive, made once per machine (~10 s) under a file lock."""
    source, version = _pyenv_build()
    key = hashlib.sha256(json.dumps([RECIPE_VERSION, str(source), version]).encode()).hexdigest()
    directory = cache_dir() / "python-mirror" / key[:12]
    name = f"cpython-{version}+{RELEASE}-{TRIPLE}-install_only.tar.gz"
    path = directory / name
    if not path.exists():
        directory.parent.mkdir(parents=True, exist_ok=True)
        with (directory.parent / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not path.exists():
                directory.mkdir(exist_ok=True)
                with tempfile.NamedTemporaryFile(dir=directory, delete=False) as tmp:
                    partial = Path(tmp.name)
                try:
                    _write_archive(source, version, partial)
                    partial.rename(path)
                finally:
                    partial.unlink(missing_ok=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Archive(path, version, digest)


# ---------------------------------------------------------------------------------------------
# The mirror


def downloads_json(archive: Archive, url: str) -> dict[str, object]:
    """uv's downloads list (crates/uv-python/download-metadata.json) naming one archive."""
    major, minor, patch = (int(p) for p in archive.version.split("."))
    return {
        archive.key: {
            "name": "cpython",
            "arch": {"family": "x86_64", "variant": None},
            "os": "linux",
            "libc": "gnu",
            "major": major,
            "minor": minor,
            "patch": patch,
            "prerelease": "",
            "url": url,
            "sha256": archive.sha256,
            "variant": None,
            "build": RELEASE,
        }
    }


class PythonMirror:
    """python-build-standalone's release downloads for one archive, and a downloads list,
    served on 127.0.0.1, behind HTTP basic auth when given a user; every request is recorded.

        with PythonMirror(archive) as mirror:
            mirror.url                  # http://127.0.0.1:PORT  (UV_PYTHON_INSTALL_MIRROR)
            mirror.downloads_json_url   # http://127.0.0.1:PORT/download-metadata.json
            mirror.requests             # [("/download-metadata.json", 200), ...]
    """

    def __init__(self, archive: Archive, *, user: str = "", password: str = "") -> None:
        self.archive = archive
        self.archive_path = f"/{RELEASE}/{quote(archive.name)}"
        #: With a user, only requests with its basic-auth credentials are answered.
        self.user, self.password = user, password
        self.requests: list[tuple[str, int]] = []  # (path, status)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        listed = downloads_json(archive, RELEASES_URL + self.archive_path)
        self._json = json.dumps(listed, indent=2).encode()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def downloads_json_url(self) -> str:
        return f"{self.url}/download-metadata.json"

    def archive_downloads(self) -> int:
        """How many times the archive was sent."""
        with self._lock:
            wanted = unquote(self.archive_path)
            return sum(1 for p, status in self.requests if unquote(p) == wanted and status == 200)

    def served(self, path: str) -> bool:
        with self._lock:
            return (path, 200) in self.requests

    def __enter__(self) -> PythonMirror:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _send(self, status: int, body: bytes, kind: str) -> None:
                with mirror._lock:
                    mirror.requests.append((self.path, status))
                self.send_response(status)
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="mirror"')
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if mirror.user:
                    pair = f"{mirror.user}:{mirror.password}".encode()
                    expected = "Basic " + base64.b64encode(pair).decode()
                    if self.headers.get("Authorization") != expected:
                        self._send(401, b"unauthorized\n", "text/plain")
                        return
                path = unquote(self.path.split("?")[0])
                if path == "/download-metadata.json":
                    self._send(200, mirror._json, "application/json")
                elif path == unquote(mirror.archive_path):
                    self._send(200, mirror.archive.path.read_bytes(), "application/gzip")
                else:
                    self._send(404, b"not found\n", "text/plain")

        return Handler


# ---------------------------------------------------------------------------------------------
# The uv image


def _uv_binaries() -> Path:
    """The uv and uvx binaries of the pinned version (the musllinux wheel's static build)."""
    target = cache_dir() / "uv-image" / UV_REQUIREMENT.replace("==", "-")
    if (target / "uv").is_file() and (target / "uvx").is_file():
        return target
    try:
        wheel_path = uv_wheel("musllinux_1_1_x86_64")
    except NoUvWheel as exc:
        unavailable(str(exc))
    with tempfile.TemporaryDirectory(prefix="imagec-uv-image-") as tmp:
        staged = Path(tmp) / "bin"
        staged.mkdir()
        with zipfile.ZipFile(wheel_path) as wheel:
            for binary in ("uv", "uvx"):
                member = next(n for n in wheel.namelist() if n.endswith(f".data/scripts/{binary}"))
                (staged / binary).write_bytes(wheel.read(member))
                (staged / binary).chmod(0o755)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(staged, target)
    return target


def ensure_uv_image(engine: Engine) -> str:
    """Import the uv image under its official name (:data:`UV_IMAGE`) into ``engine``; it is
    removed when the engine stops."""
    import docker.errors

    client = engine.docker_client()
    with contextlib.suppress(docker.errors.ImageNotFound):
        client.images.get(UV_IMAGE)
        return UV_IMAGE
    binaries = _uv_binaries()
    with tempfile.TemporaryDirectory(prefix="imagec-uv-image-") as tmp:
        rootfs = Path(tmp) / "uv.tar"
        with tarfile.open(rootfs, "w") as tar:
            for binary in ("uv", "uvx"):
                _add(tar, binary, (binaries / binary).read_bytes(), mode=0o755)
        # podman's Docker-compatible import ignores ``tag``: import, then tag (baseimages.py).
        staging = f"{TEST_REPOSITORY}/import-{uuid.uuid4().hex[:12]}"
        client.api.import_image_from_file(
            str(rootfs), repository=staging, tag="latest", changes=['ENTRYPOINT ["/uv"]']
        )
    try:
        repo, _, tag = UV_IMAGE.rpartition(":")
        client.images.get(f"{staging}:latest").tag(repo, tag)
    finally:
        remove_image(engine, f"{staging}:latest", force=False)
    engine.keep_until_stop(UV_IMAGE)
    return UV_IMAGE
