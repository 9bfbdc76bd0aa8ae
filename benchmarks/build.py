"""Benchmark: ``imagec build --backend docker`` against the docker CLI on the same tree.

The tree is the context benchmark's (~52k files, its ``.dockerignore`` keeps ~4.5k of them;
``benchmarks/context.py`` generates and caches it). The engine is a private dockerd started
the way the engine tests start it (``tests/support/engines.py``), with the local
``python:3.11-slim`` base image. Two measurements, runs interleaved, medians:

- **no-op**: the image exists. imagec checks its content-hash tag and stops; the docker CLI
  (classic builder, as docker-py drives it) sends the context and walks every step through
  the cache. Target: docker CLI / imagec >= 10. imagec is timed with its digest cache warm
  (the usual case) and cold (a fresh ``XDG_CACHE_HOME`` each run).
- **warm rebuild** after a one-file source change: both send the context and rebuild from
  the changed COPY on. Target: imagec / docker CLI <= 1.1.

The docker CLI builds imagec's own Dockerfile with the source ``COPY`` pointed at the tree
(the provenance-file ``COPY`` of imagec's context has nothing to copy there and is left out)
and the same label keys, so both do the same steps.

    python benchmarks/build.py [--runs 5] [--cache-dir DIR] [--docker /usr/local/bin/docker]

Every process is timed whole (start-up included), as a user would run it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO / "tests")]

import context as tree_bench  # noqa: E402  (benchmarks/context.py: the tree and machine line)

EDITED = "src/mlproj/area00/pkg00/module0.py"
SPEC = """\
python_version: "3.11"
image_name: imagec-bench/tree
source_root: {root}
copy_stack: false
install_imagec: false
"""
LABEL_KEYS = (
    "dev.imagec.content-hash",
    "dev.imagec.version",
    "org.opencontainers.image.created",
    "org.opencontainers.image.source",
)


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} ... failed:\n{proc.stdout}{proc.stderr[-3000:]}")
    return took


def cli_dockerfile(spec: Path, out: Path) -> None:
    """imagec's Dockerfile with the source COPY reading the tree itself."""
    text = subprocess.run(
        [sys.executable, "-m", "imagec", "compile", str(spec), "--backend", "docker"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = []
    for line in text.splitlines():
        if line.startswith('COPY ["imagec/'):
            continue  # a generated file of imagec's context: not in the tree
        lines.append(re.sub(r'^COPY (--chown=\S+ )?\["src/"', r'COPY \1["."', line))
    out.write_text("\n".join(lines) + "\n")


def median_row(name: str, runs: list[float]) -> str:
    return f"| {name} | {statistics.median(runs):.3f} | {min(runs):.3f} | {max(runs):.3f} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each (default 5)")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "imagec-bench",
    )
    parser.add_argument("--docker", default=shutil.which("docker") or "/usr/local/bin/docker")
    args = parser.parse_args()

    from support.baseimages import ensure_base_images
    from support.engines import start_docker

    root = tree_bench.ensure_tree(args.cache_dir)
    edited = root / EDITED
    original = edited.read_bytes()
    try:
        with start_docker() as engine:
            images = ensure_base_images(engine)
            with tempfile.TemporaryDirectory(prefix="imagec-bench-build-") as tmp:
                return run(args, root, edited, engine, images, Path(tmp))
    finally:
        edited.write_bytes(original)


def run(args, root: Path, edited: Path, engine, images, tmp: Path) -> int:
    spec = tmp / "imagec.yaml"
    spec.write_text(SPEC.format(root=root))
    dockerfile = tmp / "Dockerfile"
    cli_dockerfile(spec, dockerfile)
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "SOURCE_DATE_EPOCH")}
    env["XDG_CACHE_HOME"] = str(tmp / "cache")
    imagec = [sys.executable, "-m", "imagec", "build", str(spec), "--backend", "docker"]
    imagec += ["--url", engine.url, "-q"]
    labels = [f"--label={key}=bench" for key in LABEL_KEYS]
    docker = [args.docker, "-H", engine.url, "build", "-q", "-f", str(dockerfile), *labels]
    docker += ["-t", "imagec-bench/cli:latest", str(root)]
    docker_env = {**env, "DOCKER_BUILDKIT": "0"}  # the classic builder docker-py drives

    def cold_env() -> dict[str, str]:
        return {**env, "XDG_CACHE_HOME": tempfile.mkdtemp(dir=tmp, prefix="cold-")}

    print(tree_bench.machine())

    def output(*argv: str) -> str:
        return subprocess.run(list(argv), capture_output=True, text=True).stdout.strip()

    print(f"date: {output('date')}")
    print(f"engine: dockerd {engine.docker_client().version()['Version']} on {engine.url}")
    print(f"docker CLI: {output(args.docker, '--version')}")
    print(f"{args.runs} runs of each, interleaved; load average before: {os.getloadavg()[0]:.2f}")

    # Warm-up: the first builds of each fill the layer cache and the page cache.
    timed(imagec, env)
    timed(docker, docker_env)
    time.sleep(2.5)  # past the digest cache's racy window, as a real project would be

    noop: dict[str, list[float]] = {"imagec": [], "imagec (digest cache cold)": [], "cli": []}
    peers: dict[str, Callable[[], float]] = {
        "imagec": lambda: timed(imagec, env),
        "imagec (digest cache cold)": lambda: timed(imagec, cold_env()),
        "cli": lambda: timed(docker, docker_env),
    }
    for i in range(args.runs):
        order = list(peers) if i % 2 == 0 else list(reversed(peers))
        for name in order:
            noop[name].append(peers[name]())

    warm: dict[str, list[float]] = {"imagec": [], "cli": []}
    base = edited.read_bytes()
    for i in range(args.runs):
        # One changed file per round; both tools rebuild the same change.
        edited.write_bytes(base + f"# round {i}\n".encode())
        order = ["imagec", "cli"] if i % 2 == 0 else ["cli", "imagec"]
        for name in order:
            warm[name].append(timed(imagec, env) if name == "imagec" else timed(docker, docker_env))
    print(f"load average after: {os.getloadavg()[0]:.2f}")

    print()
    print("| run | median s | min s | max s |")
    print("|---|--:|--:|--:|")
    print(median_row("no-op `imagec build` (image exists)", noop["imagec"]))
    print(median_row("no-op `imagec build`, digest cache cold", noop["imagec (digest cache cold)"]))
    print(median_row("no-op `docker build` (all steps cached)", noop["cli"]))
    print(median_row("one-file change: `imagec build`", warm["imagec"]))
    print(median_row("one-file change: `docker build`", warm["cli"]))
    print()
    ratio = statistics.median(noop["cli"]) / statistics.median(noop["imagec"])
    cold = statistics.median(noop["cli"]) / statistics.median(noop["imagec (digest cache cold)"])
    print(
        f"no-op: docker CLI / imagec = {ratio:.1f} (digest cache cold: {cold:.1f}) (target >= 10)"
    )
    rebuild = statistics.median(warm["imagec"]) / statistics.median(warm["cli"])
    print(f"one-file change: imagec / docker CLI = {rebuild:.2f} (target <= 1.1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
