"""A real registry on loopback: the distribution registry (Debian's ``docker-registry``) with
TLS from a test CA and htpasswd authentication, and the engines set up as a user would:

    ca = TestCA(workdir / "ca")                       # openssl: a CA, then leaf certificates
    with start_registry(workdir / "registry", ca) as registry:
        registry.host                                 # "127.0.0.1:PORT"
        with trusted(engine, registry.host, ca.cert): # certs.d/127.0.0.1:PORT/ca.crt
            env = login(engine, registry, workdir)    # docker login / podman login
            # env: {"DOCKER_CONFIG": DIR} or {"REGISTRY_AUTH_FILE": FILE}, for imagec

The engines trust the CA through their per-registry directories (``/etc/docker/certs.d``
for dockerd and the docker CLI, ``/etc/containers/certs.d`` for podman), named by the
registry's host:port, which is this session's own port: the directory is made for the
session and removed after it. The login lives in a file of the session, never in a spec.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from support.daemons import _die_with_parent, tail
from support.engines import Engine, unavailable

STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
REGISTRY_PROGRAM = "docker-registry"
INSTALL_HINT = "install it with `bash .ci/engines.sh` (Debian: docker-registry apache2-utils)"
DOCKER_CERTS = Path("/etc/docker/certs.d")
PODMAN_CERTS = Path("/etc/containers/certs.d")


def _openssl(*args: str) -> None:
    proc = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{proc.stderr}")


class TestCA:
    """A certificate authority of the test session, and the certificates it issues."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, directory: Path) -> None:
        if shutil.which("openssl") is None:
            unavailable("registry tests: `openssl` is not installed")
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.cert = directory / "ca.crt"
        self.key = directory / "ca.key"
        _openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(self.key), "-out", str(self.cert), "-days", "2",
            "-subj", "/CN=imagec test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip

    def issue(self, name: str, sans: list[str], *, client: bool = False) -> tuple[Path, Path]:
        """A leaf certificate and key for ``sans`` (``IP:127.0.0.1``, ``DNS:localhost``)."""
        key = self.directory / f"{name}.key"
        csr = self.directory / f"{name}.csr"
        cert = self.directory / f"{name}.crt"
        ext = self.directory / f"{name}.ext"
        usage = "clientAuth" if client else "serverAuth"
        lines = [f"extendedKeyUsage={usage}", "basicConstraints=CA:FALSE"]
        if sans:
            lines.append("subjectAltName=" + ",".join(sans))
        ext.write_text("\n".join(lines) + "\n")
        _openssl(
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}",
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", str(csr), "-CA", str(self.cert), "-CAkey", str(self.key),
            "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext),
        )  # fmt: skip
        return cert, key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningRegistry:
    host: str  # "127.0.0.1:PORT"
    user: str
    password: str
    ca_cert: Path
    storage: Path
    log: Path
    pid: int

    def ref(self, path: str, tag: str = "latest") -> str:
        return f"{self.host}/{path}:{tag}"

    def get(self, path: str, *, auth: bool = True, method: str = "GET") -> tuple[int, bytes]:
        """A request to the registry API as a test sees it (trusting the test CA)."""
        context = ssl.create_default_context(cafile=str(self.ca_cert))
        conn = http.client.HTTPSConnection(self.host, timeout=10, context=context)
        headers = {
            "Accept": "application/vnd.oci.image.manifest.v1+json, "
            "application/vnd.docker.distribution.manifest.v2+json"
        }
        if auth:
            import base64

            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        try:
            conn.request(method, path, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def tags(self, repository: str) -> list[str]:
        status, body = self.get(f"/v2/{repository}/tags/list")
        if status == 404:
            return []
        assert status == 200, (status, body)
        return json.loads(body).get("tags") or []


def _htpasswd(path: Path, user: str, password: str) -> None:
    if shutil.which("htpasswd") is None:
        unavailable(f"registry tests: `htpasswd` is not installed; {INSTALL_HINT}")
    proc = subprocess.run(
        ["htpasswd", "-B", "-i", "-c", str(path), user],
        input=password,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"htpasswd failed: {proc.stderr}")


def _wait_ready(proc: subprocess.Popen[bytes], host: str, ca: Path, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    context = ssl.create_default_context(cafile=str(ca))
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited with {proc.returncode}:\n{tail(log, 30)}")
        conn = http.client.HTTPSConnection(host, timeout=2, context=context)
        try:
            conn.request("GET", "/v2/")
            if conn.getresponse().status == 401:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.1)
    raise RuntimeError(f"docker-registry not ready after {STARTUP_TIMEOUT:.0f}s:\n{tail(log, 30)}")


@contextlib.contextmanager
def start_registry(
    workdir: Path, ca: TestCA, *, user: str = "imagec", address: str = "127.0.0.1"
) -> Iterator[RunningRegistry]:
    """``docker-registry serve`` on ``address`` (a free port), TLS and htpasswd; stopped by
    PID and its storage removed at the end, also on failure."""
    if shutil.which(REGISTRY_PROGRAM) is None:
        unavailable(f"registry tests: `{REGISTRY_PROGRAM}` is not installed; {INSTALL_HINT}")
    workdir.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(16)
    htpasswd = workdir / "htpasswd"
    _htpasswd(htpasswd, user, password)
    cert, key = ca.issue(f"registry-{address}", [f"IP:{address}", "DNS:localhost"])
    storage = workdir / "storage"
    storage.mkdir(exist_ok=True)
    log = workdir / "registry.log"
    proc: subprocess.Popen[bytes] | None = None
    try:
        for _attempt in range(3):
            host = f"{address}:{free_port()}"
            config = {
                "version": 0.1,
                "log": {"level": "warn", "accesslog": {"disabled": True}},
                "storage": {
                    "filesystem": {"rootdirectory": str(storage)},
                    "delete": {"enabled": True},
                },
                "http": {
                    "addr": host,
                    "secret": secrets.token_hex(16),
                    "tls": {"certificate": str(cert), "key": str(key)},
                },
                "auth": {"htpasswd": {"realm": "imagec-test", "path": str(htpasswd)}},
            }
            (workdir / "config.yml").write_text(json.dumps(config))  # JSON is YAML
            with log.open("ab") as out:
                proc = subprocess.Popen(
                    [REGISTRY_PROGRAM, "serve", str(workdir / "config.yml")],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                )
            try:
                _wait_ready(proc, host, ca.cert, log)
                break
            except RuntimeError:
                if proc.poll() is None or "address already in use" not in tail(log, 5):
                    raise
        assert proc is not None
        yield RunningRegistry(host, user, password, ca.cert, storage, log, proc.pid)
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT)
        shutil.rmtree(storage, ignore_errors=True)


@contextlib.contextmanager
def trusted(kind: str, host: str, ca_cert: Path) -> Iterator[Path]:
    """``<certs.d>/<host>/ca.crt`` for the engine ``kind``; removed afterwards."""
    base = DOCKER_CERTS if kind == "docker" else PODMAN_CERTS
    directory = base / host
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ca_cert, directory / "ca.crt")
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def login(engine: Engine, registry: RunningRegistry, directory: Path) -> dict[str, str]:
    """Log ``engine``'s CLI in to ``registry`` with a login file of its own in ``directory``;
    the environment variables that make docker / podman (and imagec) use it."""
    directory.mkdir(parents=True, exist_ok=True)
    if engine.kind == "docker":
        env = {"DOCKER_CONFIG": str(directory)}
        argv = ["docker", "-H", engine.url, "login", "--username", registry.user]
    else:
        env = {"REGISTRY_AUTH_FILE": str(directory / "auth.json")}
        argv = ["podman", "login", "--authfile", env["REGISTRY_AUTH_FILE"]]
        argv += ["--username", registry.user]
    proc = subprocess.run(
        [*argv, "--password-stdin", registry.host],
        input=registry.password,
        capture_output=True,
        text=True,
        env={**engine.cli_env(), **env},
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {proc.stderr.strip()}")
    return env


def remove_local(engine: Engine, ref: str) -> None:
    """Untag ``ref`` on ``engine`` if it is there (the image goes when no tag is left)."""
    import docker.errors

    with contextlib.suppress(docker.errors.NotFound):
        engine.docker_client().images.remove(ref, force=True)


def environ_with(env: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **env}
