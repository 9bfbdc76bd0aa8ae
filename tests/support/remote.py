"""A second "host" for remote-engine tests: a network namespace with its own address, joined
to the test's namespace by a veth pair, and a dockerd inside it listening with TLS on 2376.

    with network_namespace() as ns, remote_dockerd(ns, ca, hide=project_parent) as remote:
        remote.environ   # DOCKER_HOST=tcp://10.213.X.2:2376, DOCKER_TLS_VERIFY=1,
                         # DOCKER_CERT_PATH=<client certificate from the test CA>
        remote.engine    # an Engine whose docker_client() speaks TLS to it

The daemon runs in a mount namespace of its own where ``hide`` (the directory holding the
test's projects) is covered by an empty tmpfs, and its data root is its own: a build against
it works only if the context streams over the connection. Everything is removed afterwards
(daemon by PID, veth, namespace, directories), also when a test fails; a machine that cannot
make namespaces (no root, no ``ip``, a kernel or sandbox that refuses) skips with the reason.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.daemons import (
    STOP_TIMEOUT,
    Daemon,
    pid_alive,
    pids_referencing,
    reap_leftovers,
    session_dir,
)
from support.engines import Engine, unavailable
from support.registry import TestCA

REMOTE_PORT = 2376


@dataclass(frozen=True)
class Netns:
    name: str
    host_address: str  # the test's end of the veth pair
    address: str  # the namespace's own address


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=False)


def _used_addresses() -> str:
    return _ip("-o", "addr").stdout


@contextlib.contextmanager
def network_namespace() -> Iterator[Netns]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        unavailable("remote engine: making a network namespace needs root and `ip` (iproute2)")
    suffix = uuid.uuid4().hex[:8]
    name, host_if, ns_if = f"imagec-{suffix}", f"ich{suffix}", f"icn{suffix}"
    # A /30 of 10.213.0.0/16 no interface here uses: two sessions' namespaces on one
    # subnet would route one's connections to the other's daemons.
    used = _used_addresses()
    while True:
        third, fourth = random.randrange(256), random.randrange(0, 256, 4)
        host_address, address = f"10.213.{third}.{fourth + 1}", f"10.213.{third}.{fourth + 2}"
        if f" {host_address}/" not in used and f" {address}/" not in used:
            break
    made = _ip("netns", "add", name)
    if made.returncode != 0:
        # What the kernel or sandbox allows, not something CI installs: a skip even under
        # IMAGEC_REQUIRE_ENGINES=1.
        pytest.skip(f"remote engine: this machine cannot make a network namespace: {made.stderr}")
    try:
        steps = [
            ("link", "add", host_if, "type", "veth", "peer", "name", ns_if),
            ("link", "set", ns_if, "netns", name),
            ("addr", "add", f"{host_address}/30", "dev", host_if),
            ("link", "set", host_if, "up"),
            ("-n", name, "addr", "add", f"{address}/30", "dev", ns_if),
            ("-n", name, "link", "set", ns_if, "up"),
            ("-n", name, "link", "set", "lo", "up"),
        ]
        for step in steps:
            done = _ip(*step)
            if done.returncode != 0:
                unavailable(f"remote engine: `ip {' '.join(step)}` failed: {done.stderr.strip()}")
        yield Netns(name, host_address, address)
    finally:
        _ip("link", "del", host_if)  # takes its peer with it
        _ip("netns", "del", name)


@dataclass
class RemoteDocker:
    engine: Engine  # url: tcp://ADDRESS:2376; docker_client() speaks TLS
    environ: dict[str, str]  # what a user sets to use it: DOCKER_HOST and the TLS variables
    cert_path: Path
    daemon: Daemon

    def kill(self) -> None:
        """The engine gone: SIGKILL, as a machine that drops off the network."""
        _signal_dockerd(self.daemon, signal.SIGKILL)


def _signal_dockerd(daemon: Daemon, sig: int) -> None:
    """Signal dockerd (the child of ``unshare``, init of its PID namespace) and wait for
    ``unshare`` to exit; SIGKILL when a SIGTERM is not enough."""
    proc = daemon.proc
    if proc is None or proc.poll() is not None:
        return
    try:
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    except OSError:
        children = []
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), sig)
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        proc.wait(timeout=STOP_TIMEOUT)


def _client_certs(ca: TestCA, directory: Path) -> Path:
    """``DOCKER_CERT_PATH``: ca.pem, cert.pem, key.pem, as the docker CLI expects them."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = ca.issue("docker-client", [], client=True)
    shutil.copyfile(ca.cert, directory / "ca.pem")
    shutil.copyfile(cert, directory / "cert.pem")
    shutil.copyfile(key, directory / "key.pem")
    return directory


def _start(ns: Netns, ca: TestCA, workdir: Path, hide: Path) -> Daemon:
    cert, key = ca.issue(f"dockerd-{ns.address}", [f"IP:{ns.address}"])
    config = workdir / "daemon.json"
    config.write_text("{}\n")  # /etc/docker/daemon.json does not apply
    sock = workdir / "docker.sock"
    dockerd = [
        "dockerd",
        "--storage-driver=overlay2",
        "--iptables=false",
        "--ip6tables=false",
        f"--host=unix://{sock}",  # for the readiness ping only
        f"--host=tcp://{ns.address}:{REMOTE_PORT}",
        "--tlsverify",
        f"--tlscacert={ca.cert}",
        f"--tlscert={cert}",
        f"--tlskey={key}",
        f"--data-root={workdir / 'data'}",
        f"--exec-root={workdir / 'exec'}",
        f"--pidfile={workdir / 'dockerd.pid'}",
        f"--config-file={config}",
    ]
    # Its own mount namespace, with the test's projects covered: nothing of the client's
    # file system is there for the engine to read. Its own PID namespace, dockerd its init:
    # when dockerd dies, the kernel kills everything it started (containerd, build
    # containers), so a killed engine leaves no process behind. nsenter, not `ip netns
    # exec`: that mounts a fresh /sys, without the cgroups dockerd needs ("Devices cgroup
    # isn't mounted").
    argv = [
        "nsenter", f"--net=/run/netns/{ns.name}",
        "unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc",
        "--kill-child=SIGTERM",
        "sh", "-c", 'mount -t tmpfs imagec-hidden "$1" && shift && exec "$@"', "sh", str(hide),
        *dockerd,
    ]  # fmt: skip
    daemon = Daemon("docker", argv, sock, workdir / "dockerd.log")
    daemon.start()
    return daemon


@contextlib.contextmanager
def remote_dockerd(ns: Netns, ca: TestCA, *, hide: Path) -> Iterator[RemoteDocker]:
    """dockerd in ``ns`` on tcp://ADDRESS:2376 (TLS, client certificates from ``ca``)."""
    for program in ("dockerd", "nsenter", "unshare", "docker"):
        if shutil.which(program) is None:
            unavailable(f"remote engine: `{program}` is not installed")
    with session_dir("rdocker") as workdir:
        daemon: Daemon | None = None
        engine: Engine | None = None
        remote: RemoteDocker | None = None
        try:
            daemon = _start(ns, ca, workdir, hide)
            certs = _client_certs(ca, workdir / "client")
            url = f"tcp://{ns.address}:{REMOTE_PORT}"
            assert daemon.proc is not None
            engine = Engine(
                kind="docker",
                url=url,
                socket=workdir / "docker.sock",
                log=daemon.log,
                pid=daemon.proc.pid,
                network_mode="host",
                store=workdir / "data",
            )
            engine._clients["docker"] = tls_client(url, certs)
            environ = {
                "DOCKER_HOST": url,
                "DOCKER_TLS_VERIFY": "1",
                "DOCKER_CERT_PATH": str(certs),
            }
            remote = RemoteDocker(engine, environ, certs, daemon)
            yield remote
        finally:
            if engine is not None:
                engine.close_clients()
            if remote is not None:
                daemon = remote.daemon  # restart() may have replaced it
            if daemon is not None:
                _signal_dockerd(daemon, signal.SIGTERM)
                daemon.stop()
            reap_leftovers(workdir)


def restart(remote: RemoteDocker, ns: Netns, ca: TestCA, hide: Path) -> None:
    """Start the daemon again on the same data root (after :meth:`RemoteDocker.kill`)."""
    workdir = remote.engine.store.parent
    first: RuntimeError | None = None
    for _attempt in range(2):
        _wait_gone(workdir)
        (workdir / "dockerd.pid").unlink(missing_ok=True)  # a killed dockerd leaves it
        try:
            remote.daemon = _start(ns, ca, workdir, hide)
            break
        except RuntimeError as exc:
            # Under load containerd may not start within dockerd's own timeout; once more.
            if first is not None:
                raise RuntimeError(f"{exc}\n(first attempt: {first})") from None
            first = exc
    assert remote.daemon.proc is not None
    remote.engine.pid = remote.daemon.proc.pid
    remote.engine.close_clients()
    remote.engine._clients["docker"] = tls_client(remote.engine.url, remote.cert_path)


def _wait_gone(workdir: Path) -> None:
    """The kernel kills the rest of a PID namespace after its init, not at once; a
    containerd still exiting holds its metadata database's lock, and a new one would time
    out waiting for it ("timeout waiting for containerd to start")."""
    reap_leftovers(workdir)
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(pid_alive(pid) for pid in pids_referencing(str(workdir))):
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes of the killed engine still run: {workdir}")
        time.sleep(0.1)


def tls_client(url: str, certs: Path):  # -> docker.DockerClient
    import docker

    tls = docker.tls.TLSConfig(
        client_cert=(str(certs / "cert.pem"), str(certs / "key.pem")),
        ca_cert=str(certs / "ca.pem"),
        verify=True,
    )
    from imagec_docker.tls import KeepVerify

    # KeepVerify: REQUESTS_CA_BUNDLE would otherwise replace the test CA on each request.
    return docker.DockerClient(base_url=url, tls=KeepVerify(tls), version="auto", timeout=600)


@dataclass
class SshServer:
    address: str
    identity: Path  # the client's private key, authorized for root
    home: Path  # a HOME for the client (its known_hosts), not the machine's
    log: Path  # sshd's log (-e): "Accepted publickey for root ..." per connection


@contextlib.contextmanager
def ssh_server(ns: Netns, workdir: Path) -> Iterator[SshServer]:
    """``sshd`` in ``ns`` on port 22, accepting one key of the session for root; stopped by
    PID. Skips (fails under IMAGEC_REQUIRE_ENGINES=1) when OpenSSH's server or client is
    missing."""
    for program in ("/usr/sbin/sshd", "ssh", "ssh-keygen"):
        if shutil.which(program) is None:
            unavailable(f"remote podman over ssh: `{program}` is not installed (openssh-server)")
    workdir.mkdir(parents=True, exist_ok=True)
    key = workdir / "id_ed25519"
    host_key = workdir / "host_ed25519"
    for path in (key, host_key):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
            check=True,
            capture_output=True,
        )
    authorized = workdir / "authorized_keys"
    shutil.copyfile(key.with_suffix(".pub"), authorized)
    authorized.chmod(0o600)
    config = workdir / "sshd_config"
    config.write_text(
        f"ListenAddress {ns.address}\nPort 22\nHostKey {host_key}\n"
        f"AuthorizedKeysFile {authorized}\nPidFile {workdir / 'sshd.pid'}\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
        "AllowStreamLocalForwarding yes\nAllowTcpForwarding yes\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation directory
    log = workdir / "sshd.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            ["nsenter", f"--net=/run/netns/{ns.name}", "/usr/sbin/sshd", "-D", "-e", "-f",
             str(config)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        home = workdir / "home"
        (home / ".ssh").mkdir(parents=True)
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"sshd exited with {proc.returncode}: {log.read_text()}")
            with contextlib.suppress(OSError), socket.create_connection((ns.address, 22), 1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"sshd not listening: {log.read_text()}")
            time.sleep(0.1)
        yield SshServer(ns.address, key, home, log)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
