"""Docker builds through BuildKit, by driving the docker CLI.

docker-py only speaks the classic builder; BuildKit's API needs a gRPC session (file sync,
secrets) that only the docker CLI and buildx implement. So a build runs
``docker -H URL build --progress=plain --secret ... -`` with imagec's context tar on stdin
(``docker buildx build --load`` when the CLI has buildx; a CLI before 23.0 builds with
BuildKit itself under ``DOCKER_BUILDKIT=1``). The plain progress is turned into the classic
builder's message shape, so the shared build log, progress and failing-step report are the
same for both builders::

    #7 [3/9] RUN ["python", "-m", "pip", ...]    ->  {"stream": "Step 5/14 : RUN [...]"}
    #7 0.512 Collecting probe-a                   ->  {"stream": "Collecting probe-a"}
    #7 CACHED                                     ->  {"stream": " ---> Using cache"}
    #7 ERROR: ... exit code: 3                    ->  {"error": "... exit status 3"}
    --iidfile                                     ->  {"aux": {"ID": "sha256:..."}}

Everything else (lookup, tag, push, inspect) stays on docker-py.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from imagec.backend.engine.session import BuildParams
from imagec.errors import EngineError

# BuildKit numbers only the instructions that make a build vertex: `[k/T]` counts these.
VERTEX_INSTRUCTIONS = frozenset({"FROM", "RUN", "COPY", "ADD", "WORKDIR"})
# `#7 [stage-0  3/14] RUN ...`: the step number is padded to the width of the total.
_HEADER = re.compile(r"^#(\d+) \[(?:[^\]\s]+ )?\s*(\d+)/(\d+)\] (.*)$")
_VERTEX_LINE = re.compile(r"^#(\d+) (.*)$")
_OUTPUT = re.compile(r"^\d+\.\d+ (.*)$")
_FAILED = re.compile(r"^(?:error|ERROR): (.*)$")
_EXIT_CODE = re.compile(r"exit code: (\d+)")


@dataclass(frozen=True)
class DockerCli:
    argv: tuple[str, ...]  # up to the build subcommand: ("docker", "buildx", "build", "--load")
    how: str  # "buildx" or "DOCKER_BUILDKIT=1"


def _run(argv: list[str]) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None


@cache
def find_cli() -> DockerCli | None:
    """The first docker CLI on PATH that can build with BuildKit, or None."""
    seen: set[str] = set()
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        path = shutil.which("docker", path=directory or ".")
        if path is None or os.path.realpath(path) in seen:
            continue
        seen.add(os.path.realpath(path))
        buildx = _run([path, "buildx", "version"])
        if buildx is not None and buildx.returncode == 0:
            return DockerCli((path, "buildx", "build", "--load"), "buildx")
        version = _run([path, "--version"])
        m = re.search(r"version (\d+)\.", version.stdout) if version else None
        # From 23.0 on, the CLI hands BuildKit builds to buildx and fails without it.
        if m and int(m.group(1)) < 23:
            return DockerCli((path, "build"), "DOCKER_BUILDKIT=1")
    return None


def instruction_map(containerfile: str) -> list[tuple[int, str]]:
    """(instruction number, line) of each instruction BuildKit makes a vertex of, in order."""
    lines = [ln for ln in containerfile.splitlines() if ln.strip() and not ln.startswith("#")]
    return [(i + 1, ln) for i, ln in enumerate(lines) if ln.split(" ", 1)[0] in VERTEX_INSTRUCTIONS]


class PlainProgress:
    """BuildKit's ``--progress=plain`` lines -> classic-builder JSON messages."""

    def __init__(self, containerfile: str) -> None:
        self.vertices = instruction_map(containerfile)
        self.total = len(
            [ln for ln in containerfile.splitlines() if ln.strip() and not ln.startswith("#")]
        )
        self.steps: dict[str, tuple[int, str]] = {}  # vertex id -> (number, instruction)
        self.current: str | None = None
        self.error: str | None = None

    def _enter(self, vertex: str) -> list[dict[str, Any]]:
        if vertex == self.current or vertex not in self.steps:
            return []
        self.current = vertex
        number, line = self.steps[vertex]
        return [{"stream": f"Step {number}/{self.total} : {line}\n"}]

    def feed(self, raw: str) -> list[dict[str, Any]]:
        line = raw.rstrip("\r\n")
        m = _HEADER.match(line)
        if m:
            vertex, k = m.group(1), int(m.group(2))
            if 0 < k <= len(self.vertices) and vertex not in self.steps:
                self.steps[vertex] = self.vertices[k - 1]
            return self._enter(vertex)
        m = _VERTEX_LINE.match(line)
        if m and m.group(2).startswith("[internal] load metadata for ") and self.vertices:
            # Resolving the base image: its failure is the FROM step's.
            self.steps.setdefault(m.group(1), self.vertices[0])
            return []
        if m:
            vertex, rest = m.groups()
            if rest.startswith("ERROR"):
                self.error = rest.partition(":")[2].strip() or rest
                return self._enter(vertex)
            if vertex not in self.steps:
                return []  # [internal] loads, context transfer, export
            if rest == "CACHED":
                return [*self._enter(vertex), {"stream": " ---> Using cache\n"}]
            out = _OUTPUT.match(rest)
            if out:
                return [*self._enter(vertex), {"stream": out.group(1) + "\n"}]
            return []
        m = _FAILED.match(line)
        if m and self.error is None:
            self.error = m.group(1)
        return []

    def failure(self, returncode: int, tail: list[str]) -> dict[str, Any]:
        message = self.error or (tail[-1] if tail else f"docker build exited with {returncode}")
        # The shared log reads the exit code as the classic builder and podman write it.
        return {"error": _EXIT_CODE.sub(r"exit status \1", message)}


def build(
    cli: DockerCli,
    url: str,
    body: Iterable[bytes],
    params: BuildParams,
    containerfile: str,
    secrets: dict[str, str],
) -> Iterator[dict[str, Any]]:
    """Run one BuildKit build; yield classic-shaped messages. Closing the iterator stops it."""
    with tempfile.TemporaryDirectory(prefix="imagec-buildkit-") as tmp:
        iidfile = Path(tmp) / "iid"
        argv = [cli.argv[0], "-H", url, *cli.argv[1:], "--progress=plain"]
        argv += ["-f", params.build_file, "--iidfile", str(iidfile)]
        for key, value in params.labels.items():
            argv += ["--label", f"{key}={value}"]
        for key, value in params.build_args.items():
            argv += ["--build-arg", f"{key}={value}"]
        for sid, path in secrets.items():
            argv += ["--secret", f"id={sid},src={path}"]
        if params.no_cache:
            argv.append("--no-cache")
        if params.pull:
            argv.append("--pull")
        if params.platform:
            argv += ["--platform", params.platform]
        if params.network:
            argv += ["--network", params.network]
        if params.target:
            argv += ["--target", params.target]
        argv.append("-")
        env = dict(os.environ, DOCKER_BUILDKIT="1", BUILDKIT_PROGRESS="plain")
        env.pop("DOCKER_HOST", None)  # -H names the engine
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                text=True,
                errors="replace",
                bufsize=1,
            )
        except OSError as exc:
            raise EngineError(f"docker: cannot run {argv[0]}: {exc.strerror}") from None
        feeder = threading.Thread(target=_feed, args=(proc, body), daemon=True)
        feeder.start()
        progress = PlainProgress(containerfile)
        tail: list[str] = []
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                tail = [*tail[-19:], line.rstrip()]
                yield from progress.feed(line)
            returncode = proc.wait()
            feeder.join()
            if returncode != 0:
                yield progress.failure(returncode, tail)
                return
            yield {"aux": {"ID": iidfile.read_text().strip()}}
        finally:
            if proc.poll() is None:
                # SIGINT: the CLI cancels the build as on Ctrl-C; if it lingers, killing it
                # closes its session, which makes BuildKit stop the build too.
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _feed(proc: subprocess.Popen[str], body: Iterable[bytes]) -> None:
    # stdin is text mode for the output's sake; the tar goes to its binary buffer.
    assert proc.stdin is not None
    raw = proc.stdin.buffer
    try:
        for chunk in body:
            raw.write(chunk)
    except (BrokenPipeError, OSError, ValueError):
        pass  # the build stopped; its output says why
    finally:
        with contextlib.suppress(OSError):
            raw.close()
