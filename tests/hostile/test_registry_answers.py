"""Class 12: what a registry answers is untrusted.

imagec asks the stack's container registry for an image's manifest and config (reuse without a
pull, `imagec inspect`). A hostile or broken registry, here a real HTTPS server on loopback
trusted through the engine's certs.d, may answer slowly a byte at a time, with JSON nested past
the parser's depth, with values of the wrong shape, or with digests and redirects that are no
address. Each ends in bounded time in one EngineError or, for a malformed part imagec can do
without, an image read without it; no other exception escapes."""

from __future__ import annotations

import json
import platform
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support.registry import TestCA, trusted
from support.timeout import time_limit_fixture

from imagec.backend import registry as registry_module
from imagec.backend.registry import Registry
from imagec.errors import EngineError

_limit = time_limit_fixture(120)

CONFIG_DIGEST = "sha256:" + "c" * 64
GOOD_MANIFEST = {"schemaVersion": 2, "config": {"digest": CONFIG_DIGEST}, "layers": []}

Answer = Callable[[BaseHTTPRequestHandler], None]


def _json(status: int, data: object) -> Answer:
    body = data if isinstance(data, bytes) else json.dumps(data).encode()

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def _drip(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.end_headers()
    try:
        for _ in range(10_000):  # a byte every half second: no read ever times out
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.5)
    except OSError:
        pass


def _redirect(location: str) -> Answer:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestCA, Path, Path]:
    ca = TestCA(tmp_path_factory.mktemp("hostile-registry-ca"))
    cert, key = ca.issue("hostile-registry", ["IP:127.0.0.1"])
    return ca, cert, key


@pytest.fixture
def serve(tls) -> Iterator[Callable[[Answer, Answer], str]]:
    """Start a registry answering manifests with one answer and blobs with another; its host."""
    ca, cert, key = tls
    servers: list[ThreadingHTTPServer] = []
    stack = []

    def start(manifest: Answer, blob: Answer | None = None) -> str:
        blob = blob or _json(200, {})

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                (manifest if "/manifests/" in self.path else blob)(self)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        host = f"127.0.0.1:{server.server_address[1]}"
        cm = trusted("docker", host, ca.cert)
        cm.__enter__()
        stack.append(cm)
        return host

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
    for cm in stack:
        cm.__exit__(None, None, None)


def _image(host: str):
    return Registry(host, "docker").image(f"{host}/team/app:tag")


ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
HERE = {"os": "linux", "architecture": ARCH}
NESTED = b"[" * 100_000 + b"]" * 100_000
CASES = {
    "manifest nested deeper than the parser": (_json(200, NESTED), _json(200, {})),
    "config nested deeper than the parser": (
        _json(200, GOOD_MANIFEST),
        _json(200, b'{"config":' * 50_000 + b"1" + b"}" * 50_000),
    ),
    "config is a string": (_json(200, {"config": "x"}), _json(200, {})),
    "index entries are strings": (
        _json(200, {"mediaType": registry_module.OCI_INDEX, "manifests": ["x", 1]}),
        _json(200, {}),
    ),
    "index digest is a path": (
        _json(
            200, {"manifests": [{"digest": "../../../../v2/other/manifests/x", "platform": HERE}]}
        ),
        _json(200, {}),
    ),
    "config digest with a line break": (
        _json(200, {"config": {"digest": "sha256:ab\r\nX-Injected: 1"}}),
        _json(200, {}),
    ),
    "labels are a list": (_json(200, GOOD_MANIFEST), _json(200, {"config": {"Labels": ["a"]}})),
    "label values are objects": (
        _json(200, GOOD_MANIFEST),
        _json(200, {"config": {"Labels": {"a": {"b": 1}}}}),
    ),
    "redirect to an address with a space": (_redirect("/v2/a b\x7f/manifests/x"), _json(200, {})),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_answer_is_an_engine_error_or_ignored(serve, case: str) -> None:
    manifest, blob = CASES[case]
    host = serve(manifest, blob)
    try:
        image = _image(host)
    except EngineError as exc:
        assert "\n" not in str(exc)
    else:  # read as an image without what was malformed
        assert image is not None
        assert all(isinstance(v, str) for v in image.labels.values())


def test_a_good_answer_is_read(serve) -> None:
    host = serve(_json(200, GOOD_MANIFEST), _json(200, {"config": {"Labels": {"a": "b"}}}))
    image = _image(host)
    assert image is not None and image.labels == {"a": "b"}


def test_a_dripping_answer_is_cut_off(serve, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_module, "REQUEST_DEADLINE", 3.0)
    host = serve(_drip)
    started = time.monotonic()
    with pytest.raises(EngineError, match="took longer than"):
        _image(host)
    assert time.monotonic() - started < 15


def test_a_silent_server_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accepts the connection and never answers: no TLS handshake, no bytes."""
    monkeypatch.setattr(registry_module, "TIMEOUT", 1.0)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    host = f"127.0.0.1:{listener.getsockname()[1]}"
    try:
        with pytest.raises(EngineError):
            _image(host)
    finally:
        listener.close()
