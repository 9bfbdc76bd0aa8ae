"""The engines the tests build on: a private ``podman system service`` and a private ``dockerd``,
each on a unix socket in its session directory and each with its own image store.

The stores live under the test cache (:func:`cache_dir`) and are kept between sessions, so
the base images are imported once; a session locks its stores, and a second session running
at the same time gets temporary ones. The machine's own podman storage
(``/var/lib/containers``) and dockerd data are never touched.

A missing engine skips the tests that need it, or fails them when ``IMAGEC_REQUIRE_ENGINES=1``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import resource
import shutil
import subprocess
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn

import pytest

from support.daemons import Daemon, reap_leftovers, session_dir, tail

if TYPE_CHECKING:
    import docker
    import podman

EngineKind = Literal["podman", "docker"]
ENGINE_KINDS: tuple[EngineKind, ...] = ("podman", "docker")

#: Set to ``1`` (CI does) to turn a missing engine into a test failure.
REQUIRE_ENGINES_ENV = "IMAGEC_REQUIRE_ENGINES"
#: Base-image tarballs and the engines' image stores, kept between sessions.
CACHE_ENV = "IMAGEC_TEST_CACHE"
DEFAULT_CACHE = Path("/var/cache/imagec-tests")

INSTALL_HINT = "install and configure the engines with `bash .ci/engines.sh` (as root)"
CONTAINERS_CONF = Path("/etc/containers/containers.conf")
#: podman and buildah read their storage configuration from here when it is set.
STORAGE_CONF_ENV = "CONTAINERS_STORAGE_CONF"
CLIENT_TIMEOUT = 600


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


@dataclass
class Engine:
    """A running engine daemon that this test session started."""

    kind: EngineKind
    #: ``unix:///...`` URL of the API socket, for docker-py / podman-py and ``imagec --url``.
    url: str
    socket: Path
    #: The daemon's stdout and stderr.
    log: Path
    pid: int
    #: Network mode for containers and builds that need the network: ``host``.
    #: dockerd runs with ``--bridge=none``, so its RUN steps have no network
    #: unless a build asks for ``network_mode="host"``; for podman, ``host`` is
    #: also faster to start than its default bridge network.
    network_mode: str
    #: Where the engine keeps its images (podman's graphroot, dockerd's data root).
    store: Path
    #: podman only: the storage.conf that points podman and buildah at :attr:`store`.
    storage_conf: Path | None = None
    #: Images the session keeps until the engine stops (then removes): see :meth:`keep_until_stop`.
    session_images: list[str] = field(default_factory=list)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def keep_until_stop(self, *refs: str) -> None:
        """Remove these images when the engine stops (images several tests share)."""
        self.session_images.extend(refs)

    def client(self) -> docker.DockerClient | podman.PodmanClient:
        """The engine's own SDK client: docker-py for dockerd, podman-py for podman.

        Cached for the session and closed at its end; don't close it.
        """
        if self.kind == "docker":
            return self.docker_client()
        if "podman" not in self._clients:
            import podman

            self._clients["podman"] = podman.PodmanClient(base_url=self.url, timeout=CLIENT_TIMEOUT)
        return self._clients["podman"]

    def docker_client(self) -> docker.DockerClient:
        """A docker-py client on this engine's socket (podman speaks the Docker API too)."""
        if "docker" not in self._clients:
            import docker

            self._clients["docker"] = docker.DockerClient(
                base_url=self.url, version="auto", timeout=CLIENT_TIMEOUT
            )
        return self._clients["docker"]

    def cli_env(self) -> dict[str, str]:
        """The environment for a ``podman``/``buildah`` command on this engine's store."""
        env = dict(os.environ)
        if self.storage_conf is not None:
            env[STORAGE_CONF_ENV] = str(self.storage_conf)
        return env

    def podman(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The ``podman`` CLI on this engine's store (podman only)."""
        assert self.kind == "podman", "podman CLI on a docker engine"
        return subprocess.run(
            ["podman", *args], capture_output=True, text=True, env=self.cli_env(), check=False
        )

    def log_tail(self, lines: int = 40) -> str:
        return tail(self.log, lines)

    def close_clients(self) -> None:
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                client.close()
        self._clients.clear()


# -- availability ----------------------------------------------------------------------------


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail when the environment demands engines."""
    if os.environ.get(REQUIRE_ENGINES_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENGINES_ENV}=1)", pytrace=False)
    pytest.skip(reason)


def _require_binaries(kind: EngineKind, names: Sequence[str]) -> None:
    for name in names:
        if shutil.which(name) is None:
            unavailable(f"{kind} engine: `{name}` is not installed; {INSTALL_HINT}")
    if os.geteuid() != 0:
        unavailable(f"{kind} engine: the engine tests start daemons and need root")


def _check_podman_config() -> None:
    """Podman needs runc and sandbox-compatible ulimits on these machines."""
    hint = f"{CONTAINERS_CONF} is not set up for the tests; {INSTALL_HINT}"
    try:
        conf = tomllib.loads(CONTAINERS_CONF.read_text(encoding="utf-8"))
    except FileNotFoundError:
        unavailable(f"podman engine: {hint}")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        unavailable(f"podman engine: cannot read {CONTAINERS_CONF}: {exc}")
    if conf.get("engine", {}).get("runtime") != "runc":
        unavailable(f"podman engine: runtime is not runc; {hint}")
    ulimits = conf.get("containers", {}).get("default_ulimits")
    if not ulimits:
        unavailable(f"podman engine: no default_ulimits; {hint}")
    limits = {
        "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[1],
        "nproc": resource.getrlimit(resource.RLIMIT_NPROC)[1],
    }
    for entry in ulimits:
        name, _, values = str(entry).partition("=")
        hard = limits.get(name)
        numbers = [int(v) for v in values.split(":") if v.strip().isdigit()]
        if hard is None or hard == resource.RLIM_INFINITY or not numbers:
            continue
        if max(numbers) > hard:
            unavailable(
                f"podman engine: default_ulimits {entry!r} in {CONTAINERS_CONF} exceeds "
                f"this process's hard limit {hard} (containers would fail with "
                f"'setrlimit ... Operation not permitted'); rerun `bash .ci/engines.sh`"
            )


# -- image stores ----------------------------------------------------------------------------


@contextlib.contextmanager
def _store(kind: EngineKind, workdir: Path) -> Iterator[tuple[Path, int | None]]:
    """The cached store ``<cache>/<kind>``, locked for this session (the lock fd is yielded so
    the daemon can inherit it), or a temporary one in ``workdir`` when another session holds
    the cached store or the cache cannot be written."""
    root = cache_dir() / kind
    fd: int | None = None
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        if fd is not None:
            os.close(fd)
        fd = None
    store = root / "store" if fd is not None else workdir / "store"
    store.mkdir(parents=True, exist_ok=True)
    try:
        yield store, fd
    finally:
        if fd is not None:
            os.close(fd)


def _podman_storage_conf(store: Path, workdir: Path, cached: bool) -> Path:
    """A storage.conf for ``store``. libpod records the run root in its database and later
    uses that one, so a cached store always gets the same run root, on /run (cleared at boot,
    as podman's default is), never one in a session directory that is deleted."""
    if cached:
        runroot = Path("/run/imagec-tests") / hashlib.sha256(bytes(store)).hexdigest()[:12]
    else:
        runroot = workdir / "run"
    runroot.mkdir(parents=True, exist_ok=True)
    conf = workdir / "storage.conf"
    conf.write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{store}"\nrunroot = "{runroot}"\n',
        encoding="utf-8",
    )
    return conf


@contextlib.contextmanager
def start_podman() -> Iterator[Engine]:
    """``podman system service`` on ``/tmp/imagec-podman-XXXX/podman.sock`` with its own store.

    While it runs, ``CONTAINERS_STORAGE_CONF`` in this process's environment points at that
    store, so a ``podman`` or ``buildah`` command a test runs sees the engine's images.
    """
    _require_binaries("podman", ["podman", "runc", "conmon"])
    _check_podman_config()
    with session_dir("podman") as workdir, _store("podman", workdir) as (store, lock_fd):
        sock = workdir / "podman.sock"
        log = workdir / "podman.log"
        conf = _podman_storage_conf(store, workdir, cached=lock_fd is not None)
        # buildah keeps RUN --mount=type=cache directories in $TMPDIR/buildah-cache (default
        # /var/tmp, shared by every podman on the machine): the session's own, gone with it.
        tmpdir = workdir / "tmp"
        tmpdir.mkdir()
        env = {**os.environ, STORAGE_CONF_ENV: str(conf), "TMPDIR": str(tmpdir)}
        daemon = Daemon(
            "podman",
            ["podman", "system", "service", "--time=0", f"unix://{sock}"],
            sock,
            log,
            env=env,
        )
        previous = os.environ.get(STORAGE_CONF_ENV)
        try:
            daemon.start(pass_fds=() if lock_fd is None else (lock_fd,))
            assert daemon.proc is not None
            os.environ[STORAGE_CONF_ENV] = str(conf)
            engine = Engine(
                kind="podman",
                url=f"unix://{sock}",
                socket=sock,
                log=log,
                pid=daemon.proc.pid,
                network_mode="host",
                store=store,
                storage_conf=conf,
            )
            try:
                yield engine
            finally:
                engine.close_clients()
        finally:
            if previous is None:
                os.environ.pop(STORAGE_CONF_ENV, None)
            else:
                os.environ[STORAGE_CONF_ENV] = previous
            daemon.stop()
            reap_leftovers(workdir)
            # A temporary store is in the session directory: unmounted and removed with it.


@contextlib.contextmanager
def start_docker() -> Iterator[Engine]:
    """``dockerd`` on ``/tmp/imagec-docker-XXXX/docker.sock`` with its own data root."""
    _require_binaries("docker", ["dockerd", "containerd", "runc"])
    with session_dir("docker") as workdir, _store("docker", workdir) as (store, lock_fd):
        sock = workdir / "docker.sock"
        log = workdir / "dockerd.log"
        config = workdir / "daemon.json"
        config.write_text("{}\n")  # so /etc/docker/daemon.json does not apply
        daemon = Daemon(
            "docker",
            [
                "dockerd",
                "--storage-driver=overlay2",
                "--iptables=false",
                "--ip6tables=false",
                "--ip-forward=false",
                "--bridge=none",
                f"--host=unix://{sock}",
                f"--data-root={store}",
                f"--exec-root={workdir / 'exec'}",
                f"--pidfile={workdir / 'dockerd.pid'}",
                f"--config-file={config}",
            ],
            sock,
            log,
        )
        try:
            # The lock fd is inherited so the store stays locked until the daemon (and its
            # containerd) have exited.
            daemon.start(pass_fds=() if lock_fd is None else (lock_fd,))
            assert daemon.proc is not None
            engine = Engine(
                kind="docker",
                url=f"unix://{sock}",
                socket=sock,
                log=log,
                pid=daemon.proc.pid,
                network_mode="host",
                store=store,
            )
            try:
                yield engine
            finally:
                engine.close_clients()
        finally:
            daemon.stop()
            reap_leftovers(workdir)
