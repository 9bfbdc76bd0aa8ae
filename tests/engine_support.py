"""Real container engines for the test suite (a pytest plugin).

Registered from ``tests/conftest.py`` with ``pytest_plugins = ["engine_support"]``.

Fixtures (all engine fixtures are session-scoped):

* ``podman_engine`` / ``docker_engine``: a private ``podman system service`` or
  ``dockerd`` listening on a unix socket in a temporary directory; yields an
  :class:`Engine`.
* ``engine``: parametrized over both kinds (test ids ``[podman]`` and ``[docker]``).
* ``podman_images`` / ``docker_images`` / ``engine_images``: make sure the local
  base images exist on that engine; yield :class:`BaseImages` (the tags).
* ``image_tags`` (function-scoped): hands out unique scratch tags and removes the
  images behind them after the test.

Nothing can be pulled from a registry on the machines this runs on, so the base
images are assembled from the host: busybox-static, the host's Debian
``python3.11`` with its stdlib and shared libraries, pip/setuptools/wheel from
Debian's ``python3-*-whl`` packages, and the host's ``useradd``/``groupadd``.
The root filesystems are tarred once per machine (see :data:`IMAGE_CACHE_ENV`)
and imported into an engine when the tag is missing or stale.

A missing engine skips the tests that need it, or fails them when
``IMAGEC_REQUIRE_ENGINES=1``. ``docs/engines.md`` has the details.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import http.client
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import tomllib
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn

import pytest

if TYPE_CHECKING:
    import docker
    import podman

EngineKind = Literal["podman", "docker"]
ENGINE_KINDS: tuple[EngineKind, ...] = ("podman", "docker")

#: Set to ``1`` (CI does) to turn a missing engine into a test failure.
REQUIRE_ENGINES_ENV = "IMAGEC_REQUIRE_ENGINES"
#: Where the base-image root filesystem tarballs are cached.
IMAGE_CACHE_ENV = "IMAGEC_TEST_IMAGE_CACHE"
DEFAULT_IMAGE_CACHE = Path("/var/tmp/imagec-test-images")
#: dockerd's data root, kept between sessions; ``session`` means a fresh
#: temporary data root for every session.
DOCKER_ROOT_ENV = "IMAGEC_TEST_DOCKER_ROOT"
DEFAULT_DOCKER_ROOT = Path("/var/tmp/imagec-test-docker")
#: Set to ``1`` to keep the per-session directory (sockets, daemon logs).
KEEP_ENGINE_DIR_ENV = "IMAGEC_KEEP_ENGINE_DIR"

INSTALL_HINT = "install and configure the engines with `bash .ci/engines.sh` (as root)"
CONTAINERS_CONF = Path("/etc/containers/containers.conf")

#: Bumped whenever the base-image recipe changes; part of the cache key and of
#: the label that marks an imported image as current.
RECIPE_VERSION = 1
RECIPE_LABEL = "org.imagec.test-base-recipe"

STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
CLIENT_TIMEOUT = 600

PYTHON_IMAGE = {
    "podman": "docker.io/library/python:3.11-slim",
    "docker": "python:3.11-slim",
}
NOPIP_IMAGE = "localhost/imagec-test/nopip:latest"
NOPYTHON_IMAGE = "localhost/imagec-test/nopython:latest"

IMAGE_PATH = "/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"

HOST_PYTHON = Path("/usr/bin/python3")
HOST_BUSYBOX = Path("/usr/bin/busybox")
HOST_WHEELS = Path("/usr/share/python-wheels")
HOST_USER_TOOLS = ("useradd", "groupadd", "usermod", "userdel", "groupdel")
#: Left out of the copied stdlib: the test suite, Debian's PEP 668 marker (pip
#: in the official image installs into the system interpreter without it),
#: the build configuration and Debian's apport hook.
STDLIB_EXCLUDES = frozenset(
    {"test", "EXTERNALLY-MANAGED", "sitecustomize.py", "config-3.11-x86_64-linux-gnu"}
)
#: Loaded by glibc with dlopen (thread cancellation), so ldd does not list it.
EXTRA_LIBS = ("libgcc_s.so.1",)


# --------------------------------------------------------------------------
# Public data types


@dataclass(frozen=True)
class BaseImages:
    """Tags of the local base images on one engine."""

    #: Stands in for the official image: python3.11 with pip, setuptools, wheel.
    python: str
    #: python3.11 without pip (``python -m pip`` and ``ensurepip`` fail).
    nopip: str
    #: busybox only: ``/bin/sh`` but no python.
    nopython: str


@dataclass(frozen=True)
class RunResult:
    """Outcome of :func:`run_container`."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class ContainerRunError(AssertionError):
    """A container started by :func:`run_container` exited non-zero."""

    def __init__(self, image: str, command: object, result: RunResult) -> None:
        super().__init__(
            f"{command!r} in {image} exited {result.exit_code}\n"
            f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
        )
        self.result = result


@dataclass
class Engine:
    """A running engine daemon that this test session started."""

    kind: EngineKind
    #: ``unix:///...`` URL of the API socket, for docker-py / podman-py.
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
    #: dockerd's data root (``None`` for podman, which uses its system storage).
    data_root: Path | None = None
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

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

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log, lines)

    def close_clients(self) -> None:
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                client.close()
        self._clients.clear()


# --------------------------------------------------------------------------
# Helpers for tests


def run_container(
    engine: Engine,
    image: str,
    command: str | Sequence[str] | None = None,
    *,
    environment: Mapping[str, str] | None = None,
    user: str | None = None,
    workdir: str | None = None,
    entrypoint: str | Sequence[str] | None = None,
    network_mode: str | None = None,
    timeout: float = 120,
    check: bool = True,
) -> RunResult:
    """Run ``command`` in a new container of ``image`` and return its output.

    Uses docker-py on the engine's socket (both engines serve the Docker API).
    The container is removed afterwards. With ``check`` (the default), a non-zero
    exit raises :class:`ContainerRunError` carrying the output.
    """
    client = engine.docker_client()
    kwargs: dict[str, Any] = {
        "command": list(command) if isinstance(command, (list, tuple)) else command,
        "environment": dict(environment) if environment else None,
        "network_mode": network_mode or engine.network_mode,
        "detach": True,
    }
    if user is not None:
        kwargs["user"] = user
    if workdir is not None:
        kwargs["working_dir"] = workdir
    if entrypoint is not None:
        kwargs["entrypoint"] = list(entrypoint) if not isinstance(entrypoint, str) else entrypoint
    container = client.containers.create(image, **kwargs)
    try:
        container.start()
        status = container.wait(timeout=timeout)
        result = RunResult(
            exit_code=int(status["StatusCode"]),
            stdout=container.logs(stdout=True, stderr=False).decode("utf-8", "replace"),
            stderr=container.logs(stdout=False, stderr=True).decode("utf-8", "replace"),
        )
    finally:
        with contextlib.suppress(Exception):
            container.remove(force=True)
    if check and result.exit_code != 0:
        raise ContainerRunError(image, command, result)
    return result


def remove_image(engine: Engine, ref: str, *, force: bool = True) -> None:
    """Remove (or untag) ``ref`` on ``engine``, ignoring a missing image."""
    import docker.errors

    with contextlib.suppress(docker.errors.NotFound):
        engine.docker_client().images.remove(ref, force=force)


class ImageTags:
    """Unique scratch tags for images a test builds; removed after the test."""

    def __init__(self) -> None:
        self._made: list[tuple[Engine, str]] = []

    def new(self, engine: Engine, name: str = "scratch") -> str:
        tag = f"localhost/imagec-test/{name}-{uuid.uuid4().hex[:12]}:latest"
        self._made.append((engine, tag))
        return tag

    __call__ = new

    def cleanup(self) -> None:
        for engine, tag in reversed(self._made):
            with contextlib.suppress(Exception):
                remove_image(engine, tag)
        self._made.clear()


# --------------------------------------------------------------------------
# Availability


def _unavailable(reason: str) -> NoReturn:
    """Skip, or fail when the environment demands engines."""
    if os.environ.get(REQUIRE_ENGINES_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENGINES_ENV}=1)", pytrace=False)
    pytest.skip(reason)


def _require_binaries(kind: EngineKind, names: Sequence[str]) -> None:
    for name in names:
        if shutil.which(name) is None:
            _unavailable(f"{kind} engine: `{name}` is not installed; {INSTALL_HINT}")
    if os.geteuid() != 0:
        _unavailable(f"{kind} engine: the engine tests start daemons and need root")


def _check_podman_config() -> None:
    """Podman needs runc and sandbox-compatible ulimits on these machines."""
    hint = f"{CONTAINERS_CONF} is not set up for the tests; {INSTALL_HINT}"
    try:
        conf = tomllib.loads(CONTAINERS_CONF.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _unavailable(f"podman engine: {hint}")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        _unavailable(f"podman engine: cannot read {CONTAINERS_CONF}: {exc}")
    if conf.get("engine", {}).get("runtime") != "runc":
        _unavailable(f"podman engine: runtime is not runc; {hint}")
    ulimits = conf.get("containers", {}).get("default_ulimits")
    if not ulimits:
        _unavailable(f"podman engine: no default_ulimits; {hint}")
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
            _unavailable(
                f"podman engine: default_ulimits {entry!r} in {CONTAINERS_CONF} exceeds "
                f"this process's hard limit {hard} (containers would fail with "
                f"'setrlimit ... Operation not permitted'); rerun `bash .ci/engines.sh`"
            )


# --------------------------------------------------------------------------
# Daemons


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = str(path)

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def _ping(path: Path, timeout: float = 2.0) -> bool:
    """``GET /_ping`` on a unix socket answers ``OK`` once an engine is ready."""
    conn = _UnixHTTPConnection(path, timeout)
    try:
        conn.request("GET", "/_ping")
        response = conn.getresponse()
        return response.status == 200 and response.read().strip() == b"OK"
    except OSError:
        return False
    finally:
        conn.close()


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    return "\n".join(text.splitlines()[-lines:])


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the test process dies without cleaning up."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


#: Programs an engine daemon starts (or is); only these are ever reaped.
_DAEMON_PROGRAMS = ("dockerd", "containerd", "runc", "podman", "conmon", "docker-")


def _pids_referencing(marker: str, programs: Sequence[str] | None = None) -> list[int]:
    """PIDs whose command line mentions ``marker`` (a unique session path),
    optionally only those running one of ``programs`` (name prefixes)."""
    found: list[int] = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() not in cmdline:
            continue
        program = os.path.basename(cmdline.split(b"\0", 1)[0].decode(errors="replace"))
        if programs is None or program.startswith(tuple(programs)):
            found.append(int(entry.name))
    return found


def _unmount_below(path: Path) -> None:
    """Lazily unmount whatever a daemon left mounted under ``path``."""
    prefix = str(path.resolve()).rstrip("/") + "/"
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return
    points = [
        line.split()[4].encode().decode("unicode_escape") for line in lines if len(line.split()) > 4
    ]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


class _Daemon:
    """One engine daemon process: started in its own session, stopped by PID."""

    def __init__(self, kind: EngineKind, argv: Sequence[str], sock: Path, log: Path) -> None:
        self.kind = kind
        self.argv = list(argv)
        self.socket = sock
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, pass_fds: Sequence[int] = ()) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
                pass_fds=tuple(pass_fds),
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        delay = 0.05
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                raise RuntimeError(
                    f"{self.kind} daemon exited with {code} during startup "
                    f"({' '.join(self.argv)}); log {self.log}:\n{_tail(self.log, 40)}"
                )
            if self.socket.exists() and _ping(self.socket):
                return
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
        raise RuntimeError(
            f"{self.kind} daemon not ready after {STARTUP_TIMEOUT:.0f}s; "
            f"log {self.log}:\n{_tail(self.log, 40)}"
        )

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                # Not reaped yet, so the group id is still the daemon's own.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=STOP_TIMEOUT)
        self.proc = None


def _session_base() -> Path:
    base = Path(tempfile.gettempdir())
    if len(str(base)) > 20:  # unix socket paths under exec-root must stay short
        base = Path("/tmp")
    return base


def _remove_stale_session_dirs(kind: EngineKind) -> None:
    """Remove session directories of killed test runs (no process uses them)."""
    now = time.time()
    for path in _session_base().glob(f"imagec-{kind}-*"):
        try:
            if not path.is_dir() or now - path.stat().st_mtime < 300:
                continue
        except OSError:
            continue
        if any(_pid_alive(pid) for pid in _pids_referencing(str(path))):
            continue
        _unmount_below(path)
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _session_dir(kind: EngineKind) -> Iterator[Path]:
    _remove_stale_session_dirs(kind)
    path = Path(tempfile.mkdtemp(prefix=f"imagec-{kind}-", dir=_session_base()))
    try:
        yield path
    finally:
        if os.environ.get(KEEP_ENGINE_DIR_ENV) != "1":
            _unmount_below(path)
            shutil.rmtree(path, ignore_errors=True)


def _reap_leftovers(marker: Path) -> None:
    """Kill processes still running with this session's directory in their argv.

    dockerd starts containerd and shims whose arguments name the session's
    exec-root; they are this session's own processes.
    """
    for _ in range(2):
        pids = [pid for pid in _pids_referencing(str(marker), _DAEMON_PROGRAMS) if _pid_alive(pid)]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)


def _podman_engine() -> Iterator[Engine]:
    _require_binaries("podman", ["podman", "runc", "conmon"])
    _check_podman_config()
    with _session_dir("podman") as workdir:
        sock = workdir / "podman.sock"
        log = workdir / "podman.log"
        daemon = _Daemon(
            "podman",
            ["podman", "system", "service", "--time=0", f"unix://{sock}"],
            sock,
            log,
        )
        try:
            daemon.start()
            assert daemon.proc is not None
            engine = Engine(
                kind="podman",
                url=f"unix://{sock}",
                socket=sock,
                log=log,
                pid=daemon.proc.pid,
                network_mode="host",
            )
            try:
                yield engine
            finally:
                engine.close_clients()
        finally:
            daemon.stop()
            _reap_leftovers(workdir)


def _lock_docker_root() -> tuple[Path | None, int | None]:
    """The cached data root, locked for this session, or ``(None, None)``.

    Another session (or a daemon that outlived one) holding it means this
    session gets a temporary data root instead.
    """
    setting = os.environ.get(DOCKER_ROOT_ENV, str(DEFAULT_DOCKER_ROOT))
    if setting in ("", "session"):
        return None, None
    root = Path(setting)
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return None, None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None, None
    return root / "data", fd


def _docker_engine() -> Iterator[Engine]:
    _require_binaries("docker", ["dockerd", "containerd", "runc"])
    with _session_dir("docker") as workdir:
        sock = workdir / "docker.sock"
        log = workdir / "dockerd.log"
        config = workdir / "daemon.json"
        config.write_text("{}\n")
        data_root, lock_fd = _lock_docker_root()
        cached = data_root is not None
        if data_root is None:
            data_root = workdir / "data"
        data_root.mkdir(parents=True, exist_ok=True)
        daemon = _Daemon(
            "docker",
            [
                "dockerd",
                "--storage-driver=overlay2",
                "--iptables=false",
                "--ip6tables=false",
                "--ip-forward=false",
                "--bridge=none",
                f"--host=unix://{sock}",
                f"--data-root={data_root}",
                f"--exec-root={workdir / 'exec'}",
                f"--pidfile={workdir / 'dockerd.pid'}",
                f"--config-file={config}",
            ],
            sock,
            log,
        )
        try:
            # The lock fd is inherited so the data root stays locked until the
            # daemon (and its containerd) have exited.
            daemon.start(pass_fds=() if lock_fd is None else (lock_fd,))
            assert daemon.proc is not None
            engine = Engine(
                kind="docker",
                url=f"unix://{sock}",
                socket=sock,
                log=log,
                pid=daemon.proc.pid,
                network_mode="host",
                data_root=data_root,
            )
            try:
                yield engine
            finally:
                if cached:
                    _prune_docker_cache(engine)
                engine.close_clients()
        finally:
            daemon.stop()
            _reap_leftovers(workdir)
            if lock_fd is not None:
                os.close(lock_fd)


def _prune_docker_cache(engine: Engine) -> None:
    """Keep only the base images in the cached data root."""
    keep = {PYTHON_IMAGE["docker"], NOPIP_IMAGE, NOPYTHON_IMAGE}
    client = engine.docker_client()
    with contextlib.suppress(Exception):
        client.containers.prune()
    with contextlib.suppress(Exception):
        for image in client.images.list():
            if not set(image.tags) & keep:
                with contextlib.suppress(Exception):
                    client.images.remove(image.id, force=True)
        client.images.prune()


# --------------------------------------------------------------------------
# Base images


def _image_cache_dir() -> Path:
    return Path(os.environ.get(IMAGE_CACHE_ENV, str(DEFAULT_IMAGE_CACHE)))


def _host_wheels() -> dict[str, Path]:
    wheels: dict[str, Path] = {}
    for name in ("pip", "setuptools", "wheel"):
        found = sorted(HOST_WHEELS.glob(f"{name}-*-py3-none-any.whl"))
        if found:
            wheels[name] = found[-1]
    return wheels


def _check_recipe_inputs() -> None:
    problems = []
    python = HOST_PYTHON.resolve() if HOST_PYTHON.exists() else None
    if python is None or python.name != "python3.11":
        problems.append(f"{HOST_PYTHON} (Debian's python3, 3.11)")
    if not Path("/usr/lib/python3.11/json").is_dir():
        problems.append("/usr/lib/python3.11 (Debian's libpython3.11-stdlib)")
    if not HOST_BUSYBOX.exists():
        problems.append(f"{HOST_BUSYBOX} (busybox-static)")
    wheels = _host_wheels()
    for name in ("pip", "setuptools"):
        if name not in wheels:
            problems.append(f"{HOST_WHEELS}/{name}-*.whl (python3-{name}-whl)")
    if not Path("/etc/ssl/certs/ca-certificates.crt").exists():
        problems.append("/etc/ssl/certs/ca-certificates.crt (ca-certificates)")
    for tool in HOST_USER_TOOLS[:2]:
        if not Path("/usr/sbin", tool).exists():
            problems.append(f"/usr/sbin/{tool} (passwd)")
    if problems:
        _unavailable(f"base images: missing on the host: {', '.join(problems)}; {INSTALL_HINT}")


def _recipe_key() -> str:
    """Changes with the recipe and with the host files the images copy."""
    digest = hashlib.sha256(f"recipe {RECIPE_VERSION}\n".encode())
    python = HOST_PYTHON.resolve()
    inputs = [python, HOST_BUSYBOX, *_host_wheels().values()]
    inputs += [Path("/usr/lib/python3.11/os.py"), Path("/etc/ssl/certs/ca-certificates.crt")]
    for path in inputs:
        st = path.stat()
        digest.update(f"{path} {st.st_size} {st.st_mtime_ns}\n".encode())
    return f"{RECIPE_VERSION}-{digest.hexdigest()[:12]}"


def _in_root(root: Path, path: str | Path) -> Path:
    """``path`` inside ``root``, with the merged-/usr aliases folded in."""
    rel = str(path).lstrip("/")
    for alias in ("bin", "sbin", "lib", "lib64"):
        if rel == alias or rel.startswith(alias + "/"):
            rel = "usr/" + rel
            break
    return root / rel


def _copy_file(root: Path, src: Path) -> None:
    """Copy ``src`` (following links) to the same path in ``root``; keep the
    link name the host uses as a symlink to the real file."""
    real = src.resolve()
    dest = _in_root(root, real)
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(real, dest)
    alias = _in_root(root, src)
    if alias != dest and not alias.exists() and not alias.is_symlink():
        alias.parent.mkdir(parents=True, exist_ok=True)
        alias.symlink_to("/" + str(dest.relative_to(root)))


_LDD_LINE = re.compile(r"^\s*(?:(\S+)\s+=>\s+)?(\S+)\s+\(0x[0-9a-f]+\)\s*$")


def _shared_libs(binaries: Sequence[Path]) -> set[Path]:
    """Shared libraries ``ldd`` lists for ``binaries`` (static ones have none)."""
    libs: set[Path] = set()
    proc = subprocess.run(["ldd", *map(str, binaries)], capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if "=> not found" in line:
            raise RuntimeError(f"ldd: a library is missing: {line.strip()}")
        m = _LDD_LINE.match(line)
        if m and m.group(2).startswith("/"):
            libs.add(Path(m.group(2)))
    return libs


def _find_lib(name: str) -> Path | None:
    for directory in ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64"):
        candidate = Path(directory, name)
        if candidate.exists():
            return candidate
    return None


_PASSWD = """\
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
"""
_GROUP = """\
root:x:0:
users:x:100:
nogroup:x:65534:
"""
_SHADOW = """\
root:*:19700:0:99999:7:::
nobody:*:19700:0:99999:7:::
"""
_GSHADOW = """\
root:*::
users:*::
nogroup:*::
"""
_NSSWITCH = """\
passwd: files
group: files
shadow: files
hosts: files dns
networks: files
protocols: files
services: files
"""


def _build_busybox_root(root: Path) -> None:
    """Directories, busybox applets, /etc basics, CA certificates, useradd."""
    for rel in ("usr/bin", "usr/sbin", "usr/lib", "usr/lib64", "usr/local/bin", "usr/local/sbin"):
        (root / rel).mkdir(parents=True, exist_ok=True)
    for alias in ("bin", "sbin", "lib", "lib64"):
        (root / alias).symlink_to(f"usr/{alias}")
    for rel, mode in (
        ("tmp", 0o1777),
        ("var/tmp", 0o1777),
        ("root", 0o700),
        ("home", 0o755),
        ("etc/skel", 0o755),
        ("etc/default", 0o755),
        ("proc", 0o555),
        ("sys", 0o555),
        ("dev", 0o755),
        ("run", 0o755),
        ("var/log", 0o755),
        ("var/cache", 0o755),
        ("usr/share", 0o755),
    ):
        (root / rel).mkdir(parents=True, exist_ok=True)
        (root / rel).chmod(mode)

    shutil.copy2(HOST_BUSYBOX.resolve(), root / "usr/bin/busybox")
    applets = _run([str(HOST_BUSYBOX), "--list"]).split()
    for applet in applets:
        link = root / "usr/bin" / applet
        if applet != "busybox" and not link.exists():
            link.symlink_to("busybox")
    # Debian's login.defs and useradd defaults name these.
    (root / "usr/sbin/nologin").symlink_to("/usr/bin/nologin")

    etc = root / "etc"
    for name, text, mode in (
        ("passwd", _PASSWD, 0o644),
        ("group", _GROUP, 0o644),
        ("shadow", _SHADOW, 0o640),
        ("gshadow", _GSHADOW, 0o640),
        ("nsswitch.conf", _NSSWITCH, 0o644),
        ("shells", "/bin/sh\n/usr/bin/sh\n", 0o644),
    ):
        (etc / name).write_text(text)
        (etc / name).chmod(mode)
    for src in (Path("/etc/login.defs"), Path("/etc/default/useradd")):
        if src.exists():
            shutil.copy2(src, _in_root(root, src))

    certs = etc / "ssl/certs"
    certs.mkdir(parents=True)
    shutil.copy2("/etc/ssl/certs/ca-certificates.crt", certs / "ca-certificates.crt")
    if Path("/etc/ssl/openssl.cnf").exists():
        shutil.copy2("/etc/ssl/openssl.cnf", etc / "ssl/openssl.cnf")
    ssl_dir = root / "usr/lib/ssl"
    ssl_dir.mkdir(parents=True)
    (ssl_dir / "certs").symlink_to("/etc/ssl/certs")
    (ssl_dir / "cert.pem").symlink_to("/etc/ssl/certs/ca-certificates.crt")
    (ssl_dir / "openssl.cnf").symlink_to("/etc/ssl/openssl.cnf")

    tools = [Path("/usr/sbin", t) for t in HOST_USER_TOOLS if Path("/usr/sbin", t).exists()]
    for tool in tools:
        shutil.copy2(tool, root / "usr/sbin" / tool.name)
    for lib in _shared_libs([HOST_BUSYBOX, *tools]):
        _copy_file(root, lib)


def _add_python(root: Path) -> None:
    """The host's python3.11, its stdlib and every library its modules link."""
    python = HOST_PYTHON.resolve()
    shutil.copy2(python, root / "usr/bin" / python.name)
    (root / "usr/bin/python3").symlink_to(python.name)
    local_bin = root / "usr/local/bin"
    (local_bin / "python3.11").symlink_to(f"/usr/bin/{python.name}")
    (local_bin / "python3").symlink_to("python3.11")
    (local_bin / "python").symlink_to("python3")

    stdlib = Path("/usr/lib/python3.11")

    def ignore(directory: str, names: list[str]) -> set[str]:
        if Path(directory) == stdlib:
            return {n for n in names if n in STDLIB_EXCLUDES}
        return set()

    shutil.copytree(stdlib, root / "usr/lib/python3.11", symlinks=False, ignore=ignore)
    (root / "usr/local/lib/python3.11/dist-packages").mkdir(parents=True)

    modules = sorted((stdlib / "lib-dynload").glob("*.so"))
    libs = _shared_libs([python, *modules])
    for name in EXTRA_LIBS:
        found = _find_lib(name)
        if found is not None:
            libs.add(found)
    for lib in libs:
        _copy_file(root, lib)


def _add_pip(root: Path) -> None:
    """pip, setuptools and wheel from Debian's wheels, installed as the
    official image has them (``/usr/local/bin/pip``), plus the wheels for
    ``python -m venv`` (Debian's ensurepip takes them from /usr/share/python-wheels)."""
    wheels = _host_wheels()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    _run(
        [
            str(HOST_PYTHON.resolve()),
            "-E",
            "-s",
            f"{wheels['pip']}/pip",
            "install",
            f"--root={root}",
            "--no-index",
            "--no-deps",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--no-warn-script-location",
            "--ignore-installed",
            "--break-system-packages",
            *map(str, wheels.values()),
        ],
        env=env,
    )
    host = str(HOST_PYTHON.resolve())
    for script in (root / "usr/local/bin").iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        data = script.read_bytes()
        first, sep, rest = data.partition(b"\n")
        if first.startswith(b"#!") and host.encode() in first:
            script.write_bytes(b"#!/usr/local/bin/python3" + sep + rest)
    shared = root / "usr/share/python-wheels"
    shared.mkdir(parents=True)
    for wheel in wheels.values():
        shutil.copy2(wheel, shared / wheel.name)


def _run(argv: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """Run a recipe step; raise with its output if it fails."""
    proc = subprocess.run(list(argv), env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"base images: {' '.join(argv)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
        )
    return proc.stdout


def _tar(root: Path, dest: Path) -> None:
    _run(
        [
            "tar",
            "--numeric-owner",
            "--owner=0",
            "--group=0",
            "--sort=name",
            "-C",
            str(root),
            "-cf",
            str(dest),
            ".",
        ]
    )


@dataclass(frozen=True)
class _Tarballs:
    key: str
    python: Path
    nopip: Path
    nopython: Path


def base_image_tarballs() -> _Tarballs:
    """Root filesystem tarballs of the three base images, built once per machine."""
    _check_recipe_inputs()
    key = _recipe_key()
    cache = _image_cache_dir()
    target = cache / key
    result = _Tarballs(key, target / "python.tar", target / "nopip.tar", target / "nopython.tar")
    if result.python.exists():
        return result
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if result.python.exists():
            return result
        for stale in cache.glob("build-*"):  # left by an interrupted build
            shutil.rmtree(stale, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=f"build-{key}-", dir=cache))
        try:
            root = work / "rootfs"
            root.mkdir()
            out = work / "out"
            out.mkdir()
            _build_busybox_root(root)
            _tar(root, out / "nopython.tar")
            _add_python(root)
            _tar(root, out / "nopip.tar")
            _add_pip(root)
            _tar(root, out / "python.tar")
            shutil.rmtree(target, ignore_errors=True)
            out.rename(target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        for old in cache.iterdir():
            if old.is_dir() and old.name != key and not old.name.startswith("build-"):
                shutil.rmtree(old, ignore_errors=True)
    return result


def _image_changes(kind: Literal["python", "nopython"], key: str) -> list[str]:
    changes = [f"ENV PATH={IMAGE_PATH}", "WORKDIR /", f"LABEL {RECIPE_LABEL}={key}"]
    if kind == "python":
        version = _run(
            [str(HOST_PYTHON), "-c", "import platform; print(platform.python_version())"]
        ).strip()
        changes += ["ENV LANG=C.UTF-8", f"ENV PYTHON_VERSION={version}", 'CMD ["python3"]']
    else:
        changes += ['CMD ["sh"]']
    return changes


def _split_ref(ref: str) -> tuple[str, str]:
    repo, _, tag = ref.rpartition(":")
    if "/" in tag or not repo:
        return ref, "latest"
    return repo, tag


def ensure_base_images(engine: Engine) -> BaseImages:
    """Import the base images into ``engine`` unless current ones are there."""
    import docker.errors

    tarballs = base_image_tarballs()
    images = BaseImages(
        python=PYTHON_IMAGE[engine.kind], nopip=NOPIP_IMAGE, nopython=NOPYTHON_IMAGE
    )
    client = engine.docker_client()
    wanted: list[tuple[str, Path, Literal["python", "nopython"]]] = [
        (images.nopython, tarballs.nopython, "nopython"),
        (images.nopip, tarballs.nopip, "python"),
        (images.python, tarballs.python, "python"),
    ]
    for ref, tarball, kind in wanted:
        try:
            old = client.images.get(ref)
        except docker.errors.ImageNotFound:
            old = None
        if old is not None and (old.labels or {}).get(RECIPE_LABEL) == tarballs.key:
            continue
        # podman's Docker-compatible import ignores ``tag`` (the result is
        # always ``:latest``), so import under a unique name and tag from there.
        staging = f"localhost/imagec-test/import-{uuid.uuid4().hex[:12]}"
        client.api.import_image_from_file(
            str(tarball),
            repository=staging,
            tag="latest",
            changes=_image_changes(kind, tarballs.key),
        )
        try:
            repo, tag = _split_ref(ref)
            client.images.get(f"{staging}:latest").tag(repo, tag)
        finally:
            remove_image(engine, f"{staging}:latest", force=False)
        labels = client.images.get(ref).labels or {}
        if labels.get(RECIPE_LABEL) != tarballs.key:
            raise RuntimeError(f"{engine.kind}: importing {ref} did not produce the image")
        if old is not None:
            # The replaced image, now untagged; kept if a container still uses it.
            with contextlib.suppress(docker.errors.APIError):
                client.images.remove(old.id, force=False)
    return images


# --------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def podman_engine() -> Iterator[Engine]:
    """A private ``podman system service`` on a temporary unix socket."""
    yield from _podman_engine()


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[Engine]:
    """A private ``dockerd`` on a temporary unix socket."""
    yield from _docker_engine()


@pytest.fixture(scope="session", params=ENGINE_KINDS)
def engine(request: pytest.FixtureRequest) -> Engine:
    """Each engine in turn (test ids ``[podman]`` and ``[docker]``)."""
    return request.getfixturevalue(f"{request.param}_engine")


@pytest.fixture(scope="session")
def podman_images(podman_engine: Engine) -> BaseImages:
    return ensure_base_images(podman_engine)


@pytest.fixture(scope="session")
def docker_images(docker_engine: Engine) -> BaseImages:
    return ensure_base_images(docker_engine)


@pytest.fixture(scope="session")
def engine_images(engine: Engine, request: pytest.FixtureRequest) -> BaseImages:
    """The base images on the current ``engine``."""
    return request.getfixturevalue(f"{engine.kind}_images")


@pytest.fixture
def image_tags() -> Iterator[ImageTags]:
    """``image_tags.new(engine)`` gives a unique tag; its image is removed after the test."""
    tags = ImageTags()
    try:
        yield tags
    finally:
        tags.cleanup()
