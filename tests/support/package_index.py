"""A real package index on loopback: PEP 503 simple pages over a directory of wheels, behind
HTTP basic auth, counting every request (so tests and benchmarks can see what was fetched).

    with PackageIndex(wheel_dir, user="ci", password=token) as index:
        index.url            # http://127.0.0.1:PORT/simple (no credentials)
        index.auth_url       # http://ci:TOKEN@127.0.0.1:PORT/simple
        index.downloads()    # ["probe_a-1.0-py3-none-any.whl", ...]: wheel bodies sent, in order

With ``git=DIR`` it also serves the bare repositories under DIR read-only over git's "dumb"
HTTP protocol (static files, after ``git update-server-info``), behind the same auth:
``index.git_url("name.git")`` is ``http://127.0.0.1:PORT/git/name.git``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from imagec.resolve.wheel import make_wheel


def write_probe_wheel(directory: Path, project: str, version: str = "1.0", size: int = 0) -> Path:
    """A pure-Python wheel of ``project`` with one module ``VALUE = "<project> <version>"``;
    ``size`` bytes of incompressible padding make downloads measurable."""
    module = project.replace("-", "_")
    files = [(f"{module}.py", f"VALUE = {project + ' ' + version!r}\n".encode())]
    if size:
        files.append((f"{module}_data.bin", hashlib.shake_256(project.encode()).digest(size)))
    path = directory / f"{module}-{version}-py3-none-any.whl"
    path.write_bytes(make_wheel(project, version, files, f"probe {project}"))
    return path


def _page(links: str) -> bytes:
    return f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The one ``bytes=A-B`` / ``bytes=A-`` / ``bytes=-N`` range of a Range header, clamped;
    None for no (or an unsupported) range: the whole body is sent."""
    m = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if not m or not (m.group(1) or m.group(2)) or size == 0:
        return None
    if not m.group(1):
        return max(0, size - int(m.group(2))), size - 1
    first = int(m.group(1))
    last = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    return (first, last) if first <= last else None


class PackageIndex:
    def __init__(
        self,
        wheels: Path,
        *,
        user: str = "ci",
        password: str = "secret",
        rate: int = 0,
        git: Path | None = None,
    ) -> None:
        self.wheels = wheels
        self.git = git
        # Bytes per second for wheel downloads, shared by all connections (0: as fast as
        # loopback goes): a remote index is slower than loopback, what a cache saves is
        # download time, and an installer that downloads in parallel shares one link.
        self.rate = rate
        self._link_free_at = 0.0
        self.user = user
        self.password = password
        self.requests: list[tuple[str, int]] = []  # (path, status)
        self._gets: list[str] = []  # paths answered 200 to a GET: bodies sent
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple"

    @property
    def auth_url(self) -> str:
        return f"http://{self.user}:{self.password}@127.0.0.1:{self.port}/simple"

    def git_url(self, repository: str) -> str:
        return f"http://127.0.0.1:{self.port}/git/{repository}"

    def downloads(self) -> list[str]:
        with self._lock:
            return [p.rsplit("/", 1)[1] for p in self._gets if p.startswith("/files/")]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._gets.clear()

    def _send_at_rate(self, out: BinaryIO, body: bytes) -> None:
        """Write ``body`` no faster than the link's rate, however many requests share it."""
        step = max(1, self.rate // 20)
        for at in range(0, len(body), step):
            chunk = body[at : at + step]
            with self._lock:
                start = max(time.monotonic(), self._link_free_at)
                self._link_free_at = start + len(chunk) / self.rate
                done = self._link_free_at
            time.sleep(max(0.0, done - time.monotonic()))
            out.write(chunk)

    def __enter__(self) -> PackageIndex:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _projects(self) -> dict[str, list[Path]]:
        out: dict[str, list[Path]] = {}
        for wheel in sorted(self.wheels.glob("*.whl")):
            out.setdefault(_normalize(wheel.name.split("-")[0]), []).append(wheel)
        return out

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        index = self
        expected = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _send(
                self,
                status: int,
                body: bytes,
                ctype: str = "text/html",
                cache: str = "",
                headers: dict[str, str] | None = None,
            ) -> None:
                with index._lock:
                    index.requests.append((self.path, status))
                    if self.command == "GET" and status == 200:
                        index._gets.append(unquote(self.path.split("?", 1)[0]))
                self.send_response(status)
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="imagec-test"')
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if cache:  # as PyPI: files never change, pages for a while
                    self.send_header("Cache-Control", cache)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command == "HEAD":
                    return
                if not index.rate or ctype != "application/octet-stream":
                    self.wfile.write(body)
                    return
                index._send_at_rate(self.wfile, body)

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                if self.headers.get("Authorization") != expected:
                    self._send(401, b"unauthorized\n", "text/plain")
                    return
                path = unquote(self.path.split("?", 1)[0])
                projects = index._projects()
                if path.rstrip("/") == "/simple":
                    links = "".join(
                        f'<a href="{html.escape(p)}/">{html.escape(p)}</a>\n' for p in projects
                    )
                    self._send(200, _page(links))
                    return
                m = re.fullmatch(r"/simple/([^/]+)/?", path)
                if m:
                    wheels = projects.get(_normalize(m.group(1)))
                    if not wheels:
                        self._send(404, b"no such project\n", "text/plain")
                        return
                    links = "".join(
                        f'<a href="../../files/{w.name}#sha256='
                        f'{hashlib.sha256(w.read_bytes()).hexdigest()}">{w.name}</a>\n'
                        for w in wheels
                    )
                    self._send(200, _page(links))
                    return
                m = re.fullmatch(r"/files/([^/]+\.whl)", path)
                if m and (index.wheels / m.group(1)).is_file():
                    body = (index.wheels / m.group(1)).read_bytes()
                    immutable = "max-age=365000000, immutable, public"
                    # Range requests as PyPI answers them: installers read a wheel's metadata
                    # from its end before deciding to download it whole.
                    wanted = _byte_range(self.headers.get("Range", ""), len(body))
                    if wanted is not None:
                        first, last = wanted
                        span = {"Content-Range": f"bytes {first}-{last}/{len(body)}"}
                        part = body[first : last + 1]
                        self._send(206, part, "application/octet-stream", immutable, span)
                        return
                    ranges = {"Accept-Ranges": "bytes"}
                    self._send(200, body, "application/octet-stream", immutable, ranges)
                    return
                if index.git is not None and path.startswith("/git/"):
                    root = index.git.resolve()
                    file = (root / path.removeprefix("/git/")).resolve()
                    if file.is_relative_to(root) and file.is_file():
                        self._send(200, file.read_bytes(), "application/octet-stream")
                        return
                self._send(404, b"not found\n", "text/plain")

        return Handler
