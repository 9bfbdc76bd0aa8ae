"""Helpers for the engine backend tests: offline packages, sample projects, the CLI in a
subprocess, and a recording proxy in front of an engine's socket."""

from __future__ import annotations

import contextlib
import io
import os
import re
import socket
import subprocess
import sys
import tarfile
import textwrap
import threading
from dataclasses import dataclass, field
from pathlib import Path

PROBE_VERSION = "1.0"


def write_wheel(directory: Path, name: str = "imagec_probe", version: str = PROBE_VERSION) -> Path:
    """A pure-Python wheel whose module sets ``VALUE = 42``; pip installs it offline."""
    from imagec.resolve.wheel import make_wheel

    data = make_wheel(
        name.replace("_", "-"), version, [(f"{name}.py", b"VALUE = 42\n")], "imagec test probe"
    )
    directory.mkdir(parents=True, exist_ok=True)
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    wheel.write_bytes(data)
    return wheel


def write_sdist(directory: Path, name: str, setup_body: str) -> Path:
    """An sdist whose ``setup.py`` runs ``setup_body`` first (pip runs it while installing)."""
    setup = f"{setup_body}\nfrom setuptools import setup\nsetup(name={name!r}, version='1.0')\n"
    pkg_info = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for member, text in (("setup.py", setup), ("PKG-INFO", pkg_info)):
            data = text.encode()
            info = tarfile.TarInfo(f"{name}-1.0/{member}")
            info.size, info.mode, info.mtime = len(data), 0o644, 315_619_200
            tar.addfile(info, io.BytesIO(data))
    return path


# -- sample projects ---------------------------------------------------------------------

QUICKSTART_SPEC = """\
# A quick-start-shaped spec that builds offline: the requirement comes from ./wheels.
python_version: "3.11"
requirements: ["imagec-probe=={version}"]
find_links: [wheels]
installer_args: ["--no-index"]
environment: {{MODEL_NAME: churn}}
user: trainer
command: ["python", "train.py"]
"""
DOCKERIGNORE = """\
.git
secret.txt
data
!data/schema.json
**/__pycache__
wheels
"""


def write_quickstart(root: Path) -> Path:
    """``imagec init`` + an ``imagec.yaml`` project with sources, ignored files and wheels."""
    root.mkdir(parents=True)
    run_imagec("init", str(root))
    (root / "imagec.yaml").write_text(QUICKSTART_SPEC.format(version=PROBE_VERSION))
    (root / ".dockerignore").write_text(DOCKERIGNORE)
    (root / "train.py").write_text("import imagec_probe\nprint('trained', imagec_probe.VALUE)\n")
    (root / "pkg").mkdir()
    (root / "pkg/__init__.py").write_text("")
    (root / "pkg/util.py").write_text("RATE = 1\n")
    (root / "pkg/__pycache__").mkdir()
    (root / "pkg/__pycache__/util.cpython-311.pyc").write_bytes(b"\0" * 16)
    (root / "secret.txt").write_text("not for images\n")
    (root / "data").mkdir()
    (root / "data/train.csv").write_text("a,b\n1,2\n")
    (root / "data/schema.json").write_text('{"columns": ["a", "b"]}\n')
    write_wheel(root / "wheels")
    return root


PIPELINE_SOURCE = '''\
"""A pipeline-shaped project: the decorator is the spec."""

from steps.train import train

from imagec import pipeline


@pipeline(
    requirements="requirements.txt",
    dockerignore_file=".dockerignore",
    environment={"CHURN_EPOCHS": "20"},
    image_name="imagec-test/pipeline",
    find_links=["wheels"],
    installer_args=["--no-index"],
)
def churn_pipeline() -> None:
    train()
'''


def write_pipeline(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "pipeline.py").write_text(PIPELINE_SOURCE)
    (root / "requirements.txt").write_text(f"imagec-probe=={PROBE_VERSION}\n")
    (root / ".dockerignore").write_text("data\n!data/schema.json\n**/__pycache__\n.venv\nwheels\n")
    (root / "steps").mkdir()
    (root / "steps/__init__.py").write_text("")
    (root / "steps/train.py").write_text(
        textwrap.dedent(
            """\
            import os

            import imagec_probe


            def train() -> None:
                print(f"pipeline ran: epochs={os.environ['CHURN_EPOCHS']} {imagec_probe.VALUE}")
            """
        )
    )
    (root / "data").mkdir()
    (root / "data/customers.csv").write_text("id\n1\n")
    (root / "data/schema.json").write_text("{}\n")
    (root / ".venv").mkdir()
    (root / ".venv/marker").write_text("x\n")
    write_wheel(root / "wheels")
    return root


# -- the CLI -------------------------------------------------------------------------------


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def last_error(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.startswith("imagec: error:")]
        return lines[-1] if lines else ""


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "CONTAINER_HOST")}
    env.pop("SOURCE_DATE_EPOCH", None)
    env.update(extra or {})
    return env


def run_imagec(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "imagec", *args],
        capture_output=True,
        text=True,
        env=env if env is not None else cli_env(),
        timeout=timeout,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


# -- a recording proxy ---------------------------------------------------------------------

REQUEST_LINE = re.compile(rb"(GET|HEAD|POST|PUT|DELETE) (/[^ \r\n]*) HTTP/1\.[01]\r\n")


@dataclass
class RecordingProxy:
    """A unix socket that forwards to an engine's socket and records the requests sent.

    ``imagec build --url unix://<proxy>`` then shows exactly which API endpoints the build
    called, with the real engine answering.
    """

    target: Path
    path: Path
    requests: list[tuple[str, str]] = field(default_factory=list)
    _server: socket.socket | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def start(self) -> RecordingProxy:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(self.path))
        server.listen(16)
        self._server = server
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def paths(self) -> list[str]:
        """The endpoints called, without the API version prefix (``/build``, ``/images/...``)."""
        with self._lock:
            return [re.sub(r"^/v[0-9.]+(/libpod)?", "", p.split("?")[0]) for _, p in self.requests]

    def _accept(self) -> None:
        assert self._server is not None
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(str(self.target))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, record: bool) -> None:
        tail = b""
        try:
            while data := src.recv(1 << 16):
                if record:
                    buffer = tail + data
                    with self._lock:
                        for m in REQUEST_LINE.finditer(buffer):
                            self.requests.append((m.group(1).decode(), m.group(2).decode()))
                    # Keep an unfinished line for the next chunk; found lines are complete.
                    cut = buffer.rfind(b"\r\n")
                    tail = (buffer[cut + 2 :] if cut >= 0 else buffer)[-8192:]
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.path.unlink(missing_ok=True)
