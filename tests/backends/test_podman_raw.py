"""``imagec build --backend podman`` on a ``unix://`` service speaks libpod's API itself
(``imagec_podman.raw``): no podman-py, requests or urllib3 on the usual path.

What the service answers a streamed build is untrusted like any engine answer: each line is
bounded, a line that is no JSON object, an answer that breaks off or a refusal is one
``EngineError`` line, and closing the log early hangs up. The hostile services here are real
unix-socket servers; the last tests build on the real podman service.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from imagec_podman.engine import PodmanSession
from imagec_podman.raw import LIBPOD, PodmanRawSession
from support.cli import cli_env
from support.containers import remove_image
from support.engines import Engine
from support.timeout import time_limit_fixture
from support.unix_server import UnixServer

from imagec.backend.engine import rawhttp
from imagec.backend.engine.session import BuildParams
from imagec.errors import EngineError

_limit = time_limit_fixture(300)

SDK_MODULES = {"podman", "requests", "urllib3"}
PARAMS = BuildParams(build_file="Containerfile", labels={"a": "b"}, build_args={})
BODY = [b"x" * 70_000, b"", b"tail"]  # three chunks (an empty one is not sent: it would end)
OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"

Script = Callable[[socket.socket, bytes], None]


def chunk(data: bytes) -> bytes:
    return b"%x\r\n" % len(data) + data + b"\r\n"


def sized(status_line: bytes, body: bytes) -> bytes:
    return status_line + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body


def dechunk(data: bytes) -> bytes:
    """A chunked body, decoded (the client's framing, as Go's server reads it)."""
    out = bytearray()
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return bytes(out)
        out += data[:size]
        assert data[size : size + 2] == b"\r\n"
        data = data[size + 2 :]


class Service(UnixServer):
    """``/_ping`` answers 200, anything else ``script(conn, request)``, where ``request`` is the
    whole request, a chunked body read to its end."""

    def __init__(self, path: Path, script: Script, *, whole: bool = True) -> None:
        self.script = script
        self.whole = whole  # False: the script answers after the request's head, body unread
        self.requests: list[bytes] = []
        self.hung_up = threading.Event()
        super().__init__(path)

    def handle(self, conn: socket.socket) -> None:
        request = _read_request(conn, self.whole)
        self.requests.append(request)
        with contextlib.suppress(OSError):
            if request.startswith(b"GET /_ping "):
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nOK")
            else:
                self.script(conn, request)

    def stop(self) -> None:
        """No longer listening: the engine is gone."""
        self.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def _read_request(conn: socket.socket, whole: bool) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    if whole and b"transfer-encoding: chunked" in data.lower():
        while not data.endswith(b"\r\n0\r\n\r\n"):
            more = conn.recv(65536)
            if not more:
                break
            data += more
    return data


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    services: list[Service] = []

    def start(script: Script, *, whole: bool = True) -> Service:
        services.append(Service(tmp_path / f"podman-{len(services)}.sock", script, whole=whole))
        return services[-1]

    yield start
    for service in services:
        service.stop()


def _no_sdk() -> contextlib.AbstractContextManager[object]:
    raise AssertionError("the SDK session was opened")


def session(service: Service) -> PodmanRawSession:
    return PodmanRawSession.checked("podman", service.url, "start it", _no_sdk)


def build_messages(service: Service) -> list[dict]:
    with contextlib.closing(session(service).build(iter(BODY), PARAMS)) as messages:
        return list(messages)


def test_the_build_streams_the_context_in_and_its_log_out(serve) -> None:
    lines = [{"stream": "STEP 1/1: FROM scratch\n"}, {"aux": {"ID": "sha256:" + "a" * 64}}]
    text = b"".join(json.dumps(line).encode() + b"\r\n" for line in lines)

    def script(conn: socket.socket, request: bytes) -> None:
        # Split mid-line and mid-chunk-size, then a trailer: the framing, not the sends.
        framed = OK_HEAD + chunk(text[:7]) + chunk(text[7:]) + b"0\r\nX-T: 1\r\n\r\n"
        for i in range(0, len(framed), 5):
            conn.sendall(framed[i : i + 5])

    service = serve(script)
    assert build_messages(service) == lines
    request = service.requests[-1]
    head, _, body = request.partition(b"\r\n\r\n")
    assert head.startswith(b"POST " + LIBPOD.encode() + b"/build?dockerfile=Containerfile&")
    assert b"\r\ntransfer-encoding: chunked" in head.lower()
    assert b"labels=%7B%22a%22%3A+%22b%22%7D" in head
    assert dechunk(body) == b"".join(BODY)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            OK_HEAD + chunk(b'{"stream": "' + b"x" * (rawhttp.MAX_LINE + 10)),
            f"has a line over {rawhttp.MAX_LINE} bytes",
        ),
        (OK_HEAD + chunk(b'{"stream": "a"}\n{"stream": broken\n'), "not a JSON object"),
        (OK_HEAD + chunk(b'["a list"]\n'), "not a JSON object"),
        (OK_HEAD + chunk(b'{"stream": "a"}\n{"str'), "broke off"),  # the connection dropped
        (OK_HEAD + b"zz\r\n", "has a broken chunk size"),
        (OK_HEAD + b"1" * 2000, "has a broken chunk size"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b'{"stream": "a"}\n',
            "broke off",
        ),
        (
            sized(b"HTTP/1.1 400 Bad Request", b'{"message": "bad  request\\nfor build"}  '),
            "bad request for build",
        ),
        (b"HTTP/1.1 500 x\r\n\r\nnot json", "HTTP 500"),
    ],
    ids=["long-line", "broken-json", "not-an-object", "dropped", "chunk-size", "endless-size",
         "short-body", "refused", "refused-no-json"],
)  # fmt: skip
def test_a_broken_build_answer_is_one_engine_error_line(serve, answer: bytes, message: str):
    service = serve(lambda conn, _request: conn.sendall(answer))
    with pytest.raises(EngineError) as caught:
        build_messages(service)
    text = str(caught.value)
    assert text.startswith("podman: build failed: ") and message in text
    assert "\n" not in text and len(text) < 300


def test_a_refusal_before_the_body_was_read_is_the_engines_message(serve) -> None:
    # As a service refuses a bad parameter: it answers and hangs up without reading the tar.
    answer = sized(b"HTTP/1.1 400 Bad Request", b'{"message": "no such network mode"}')
    service = serve(lambda conn, _request: conn.sendall(answer), whole=False)
    body = [b"\0" * (1 << 20)] * 16
    with pytest.raises(EngineError) as caught:
        list(session(service).build(iter(body), PARAMS))
    assert str(caught.value) == "podman: build failed: no such network mode"


def test_a_lost_engine_is_unreachable_with_how_to_start_it(tmp_path: Path) -> None:
    url = f"unix://{tmp_path}/gone.sock"
    how = PodmanSession.how_to_start(url)
    with pytest.raises(EngineError) as caught:
        PodmanRawSession.checked("podman", url, how, _no_sdk)
    assert str(caught.value) == (
        f"cannot reach the podman engine at {url} (No such file or directory); {how}"
    )


def test_closing_the_log_early_hangs_up(serve) -> None:
    def script(conn: socket.socket, _request: bytes) -> None:
        conn.sendall(OK_HEAD + chunk(b'{"stream": "STEP 1/9"}\n'))
        conn.settimeout(20)
        if conn.recv(1) == b"":  # the client closed: podman then stops the build
            service.hung_up.set()

    service = serve(script)
    messages = session(service).build(iter(BODY), PARAMS)
    assert next(messages) == {"stream": "STEP 1/9"}
    messages.close()
    assert service.hung_up.wait(20)


def test_an_engine_gone_mid_build_says_so(serve, tmp_path: Path) -> None:
    """The CLI on a service that dies after the first step: the flow asks ``alive()`` (the
    raw ping) and reports the engine gone, in one line, having imported no SDK."""

    def script(conn: socket.socket, request: bytes) -> None:
        if request.startswith(b"GET "):  # the reuse check's lookup: no such image
            conn.sendall(sized(b"HTTP/1.0 404 x", b'{"message": "image not known"}'))
            return
        conn.sendall(OK_HEAD + chunk(b'{"stream": "STEP 1/9: FROM base\\n"}\n'))
        service.stop()

    service = serve(script)
    (tmp_path / "imagec.yaml").write_text(
        'python_version: "3.11"\nbase_image: python:3.11-slim\ninstall_imagec: false\n'
        "image_name: imagec-test/raw-gone\n"
    )
    argv = [sys.executable, "-X", "importtime", "-m", "imagec", "build", "imagec.yaml"]
    argv += ["--backend", "podman", "--url", service.url, "--quiet"]
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=120,
        env=cli_env({"XDG_CACHE_HOME": str(tmp_path / "c")}),
        cwd=tmp_path,
    )
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("import time:")]
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert errors == [
        f"imagec: error: the podman engine at {service.url} stopped answering during the build "
        "(at step 1/9); nothing was tagged; build again once it is back"
    ]
    assert not imported(proc.stderr) & SDK_MODULES


def imported(importtime: str) -> set[str]:
    """Top-level modules named in ``python -X importtime`` output."""
    return {
        line.split("|")[-1].strip().split(".")[0]
        for line in importtime.splitlines()
        if line.startswith("import time:") and "|" in line
    }


@contextlib.contextmanager
def tcp_relay(sock_path: Path) -> Iterator[str]:
    """``tcp://127.0.0.1:PORT``, each connection relayed to the unix socket ``sock_path``."""
    server = socket.create_server(("127.0.0.1", 0))

    def pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def both(conn: socket.socket) -> None:
        with conn, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as upstream:
            upstream.connect(str(sock_path))
            back = threading.Thread(target=pipe, args=(upstream, conn), daemon=True)
            back.start()
            pipe(conn, upstream)
            back.join(600)

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=both, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()


@pytest.mark.engine
def test_a_podman_build_imports_no_sdk(podman_engine: Engine, podman_images, tmp_path) -> None:
    """A build, a forced one over plain TCP, and the reuse check (a fresh cache: no no-op
    record, so the engine is asked), none importing podman-py."""
    root = tmp_path / "proj"  # the caches beside it: in it, they would be source
    root.mkdir()
    (root / "imagec.yaml").write_text(
        f'python_version: "3.11"\nbase_image: {podman_images.python}\ninstall_imagec: false\n'
        "image_name: imagec-test/podman-raw\n"
    )
    (root / "app.py").write_text("print(1)\n")
    argv = [sys.executable, "-X", "importtime", "-m", "imagec", "build", "imagec.yaml"]
    argv += ["--backend", "podman", "-O", "network=none"]
    tags: set[str] = set()
    with tcp_relay(podman_engine.socket) as tcp_url:
        runs = [
            ([], podman_engine.url, "c1", "built"),
            (["--force"], tcp_url, "c1", "built"),
            ([], podman_engine.url, "c2", "up to date"),
        ]
        try:
            for extra, url, cache, verb in runs:
                env = cli_env({"CONTAINER_HOST": url, "XDG_CACHE_HOME": str(tmp_path / cache)})
                proc = subprocess.run(
                    [*argv, *extra], capture_output=True, text=True, timeout=600, env=env,
                    cwd=root,
                )  # fmt: skip
                assert proc.returncode == 0, proc.stderr[-3000:]
                assert proc.stdout.startswith(f"{verb}: sha256:"), proc.stdout
                tags.update(proc.stdout.partition(": ")[2].split()[1:])  # "VERB: ID TAGS"
                assert not imported(proc.stderr) & SDK_MODULES, proc.stdout
            (tag,) = tags
            found = podman_engine.podman("image", "inspect", "--format", "{{.Labels}}", tag)
            assert found.returncode == 0 and "dev.imagec.content-hash" in found.stdout
        finally:
            for tag in tags:
                remove_image(podman_engine, tag)
