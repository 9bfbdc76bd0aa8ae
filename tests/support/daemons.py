"""Engine daemons as child processes: started in their own session, ready on ``GET /_ping``,
stopped by PID, and whatever they left (processes, mounts, directories) cleaned up.

Nothing here knows podman from dockerd; ``engines.py`` says which argv to run.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
#: Set to ``1`` to keep the per-session directory (sockets, daemon logs).
KEEP_ENGINE_DIR_ENV = "IMAGEC_KEEP_ENGINE_DIR"
#: Programs an engine daemon starts (or is); only these are ever reaped.
DAEMON_PROGRAMS = ("dockerd", "containerd", "runc", "podman", "conmon", "docker-")


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = str(path)

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def ping(path: Path, timeout: float = 2.0) -> bool:
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


def tail(path: Path, lines: int) -> str:
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


def pid_alive(pid: int) -> bool:
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


def pids_referencing(marker: str, programs: Sequence[str] | None = None) -> list[int]:
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


def unmount_below(path: Path) -> None:
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


class Daemon:
    """One engine daemon process: started in its own session, stopped by PID."""

    def __init__(
        self,
        kind: str,
        argv: Sequence[str],
        sock: Path,
        log: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.kind = kind
        self.argv = list(argv)
        self.socket = sock
        self.log = log
        self.env = env
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
                env=self.env,
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
                    f"({' '.join(self.argv)}); log {self.log}:\n{tail(self.log, 40)}"
                )
            if self.socket.exists() and ping(self.socket):
                return
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
        raise RuntimeError(
            f"{self.kind} daemon not ready after {STARTUP_TIMEOUT:.0f}s; "
            f"log {self.log}:\n{tail(self.log, 40)}"
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


def _remove_stale_session_dirs(kind: str) -> None:
    """Remove session directories of killed test runs (no process uses them)."""
    now = time.time()
    for path in _session_base().glob(f"imagec-{kind}-*"):
        try:
            if not path.is_dir() or now - path.stat().st_mtime < 300:
                continue
        except OSError:
            continue
        if any(pid_alive(pid) for pid in pids_referencing(str(path))):
            continue
        unmount_below(path)
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def session_dir(kind: str) -> Iterator[Path]:
    """``/tmp/imagec-<kind>-XXXX``: sockets, logs and anything else of one session."""
    _remove_stale_session_dirs(kind)
    path = Path(tempfile.mkdtemp(prefix=f"imagec-{kind}-", dir=_session_base()))
    try:
        yield path
    finally:
        if os.environ.get(KEEP_ENGINE_DIR_ENV) != "1":
            unmount_below(path)
            shutil.rmtree(path, ignore_errors=True)


def reap_leftovers(marker: Path) -> None:
    """Kill processes still running with this session's directory in their argv.

    dockerd starts containerd and shims whose arguments name the session's
    exec-root; they are this session's own processes.
    """
    for _ in range(2):
        pids = [pid for pid in pids_referencing(str(marker), DAEMON_PROGRAMS) if pid_alive(pid)]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
