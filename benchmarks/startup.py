"""Start-up targets, each a whole process timed side by side with its yardstick.

- ``imagec context TREE --tar OUT`` against GNU tar with the equivalent excludes on the
  context benchmark's ~52k-file tree: target <= 1.3x.
- ``imagec --version``, ``backends``, ``context DIR --hash``, ``inspect IMAGE``: target
  <= 80 ms each (no spec validation needed); ``python -c pass`` is shown as the floor.
- cold ``imagec compile examples/quickstart`` against importing pydantic, jinja2, pluggy and
  yaml plus defining and validating a one-field model: target <= 1.2x.
- no-op ``imagec build`` of a small project (default ``examples/quickstart``) against the
  docker CLI's no-op build of the same export (everything cached): target <= 1.5x.

    python benchmarks/startup.py [--runs 15] [--cache-dir DIR] [--spec examples/quickstart]
        [--skip-engine | --only-engine | --only-context]

The engine is a private dockerd started as the engine tests start it (``--bridge=none``);
builds use ``-O network=host``. Runs are interleaved (one of each peer per round) after a
warm-up, with bytecode caches on, through this interpreter (no launcher shims). Each row
shows the median wall time and the median CPU time (user + system) of the process: on a
shared machine the CPU time is the steadier measure, and the ratios are given for both.
"""

from __future__ import annotations

import argparse
import os
import resource
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

import context as tree_bench  # noqa: E402  (benchmarks/context.py: the tree, machine line)

PY = sys.executable
IMAGEC = [PY, "-m", "imagec"]
FLOOR_MODEL = (
    "import pydantic, jinja2, pluggy, yaml\n"
    "from pydantic import BaseModel\n"
    "class M(BaseModel):\n    a: list[str] = []\n"
    "M(a=['x'])"
)


Timing = tuple[float, float]  # (wall seconds, CPU seconds of the child: user + system)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], env: dict[str, str], cwd: Path = REPO) -> Timing:
    cpu = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:6])} ... failed:\n{proc.stdout}{proc.stderr[-3000:]}")
    return took, _children_cpu() - cpu


def race(peers: dict[str, Callable[[], Timing]], runs: int) -> dict[str, Timing]:
    """Medians of interleaved runs (order alternating each round), after one warm-up each."""
    for run in peers.values():
        run()
    times: dict[str, list[Timing]] = {name: [] for name in peers}
    for i in range(runs):
        for name in list(peers) if i % 2 == 0 else list(reversed(peers)):
            times[name].append(peers[name]())
    return {
        name: (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts))
        for name, ts in times.items()
    }


def show(medians: dict[str, Timing]) -> None:
    for name, (wall, cpu) in medians.items():
        print(f"| {name} | {wall * 1000:.1f} | {cpu * 1000:.1f} |")


def ratio(what: str, numerator: Timing, denominator: Timing, target: float) -> str:
    wall, cpu = numerator[0] / denominator[0], numerator[1] / denominator[1]
    return f"{what} = {wall:.2f} wall, {cpu:.2f} CPU (target <= {target:.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "imagec-bench",
    )
    parser.add_argument("--spec", default="examples/quickstart")
    parser.add_argument("--docker", default=shutil.which("docker") or "/usr/local/bin/docker")
    parser.add_argument("--skip-engine", action="store_true", help="no inspect/build rows")
    parser.add_argument("--only-engine", action="store_true", help="only inspect/build rows")
    parser.add_argument("--only-context", action="store_true", help="only the context --tar row")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE",)}
    print(tree_bench.machine())
    print(f"{args.runs} runs each, interleaved; load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="imagec-bench-startup-") as tmp:
        scratch = Path(tmp)
        env["XDG_CACHE_HOME"] = str(scratch / "cache")
        ratios = []
        if not args.only_engine:
            tree = tree_bench.ensure_tree(args.cache_dir)
            ratios += context_vs_tar(tree, scratch, env, args.runs)
        if not (args.only_engine or args.only_context):
            quick(env, args.runs)
            ratios += compile_vs_floor(env, args.runs)
        if not (args.skip_engine or args.only_context):
            ratios += with_engine(args, scratch, env)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print()
    for line in ratios:
        print(line)
    return 0


def context_vs_tar(tree: Path, tmp: Path, env: dict[str, str], runs: int) -> list[str]:
    out_i, out_t = tmp / "imagec.tar", tmp / "gnu.tar"
    tar = ["tar", "-C", str(tree), "-cf", str(out_t), *tree_bench.gnu_excludes(tree), "."]
    med = race(
        {
            "`imagec context TREE --tar OUT`": lambda: timed(
                [*IMAGEC, "context", str(tree), "--tar", str(out_i)], env
            ),
            "GNU tar --exclude (same selection)": lambda: timed(tar, env),
        },
        runs,
    )
    print("\n| 52k-file tree | median ms | CPU ms |\n|---|--:|--:|")
    show(med)
    imagec, gnu = med.values()
    return [ratio("context --tar: imagec / GNU tar", imagec, gnu, 1.3)]


def quick(env: dict[str, str], runs: int) -> None:
    small = REPO / "examples" / "quickstart"
    med = race(
        {
            "`python -c pass` (interpreter floor)": lambda: timed([PY, "-c", "pass"], env),
            "`imagec --version`": lambda: timed([*IMAGEC, "--version"], env),
            "`imagec backends`": lambda: timed([*IMAGEC, "backends"], env),
            "`imagec context DIR --hash`": lambda: timed(
                [*IMAGEC, "context", str(small), "--hash"], env
            ),
        },
        runs,
    )
    print("\n| start-up (target <= 80 ms) | median ms | CPU ms |\n|---|--:|--:|")
    show(med)


def compile_vs_floor(env: dict[str, str], runs: int) -> list[str]:
    med = race(
        {
            "floor: import pydantic, jinja2, pluggy, yaml + one model": lambda: timed(
                [PY, "-c", FLOOR_MODEL], env
            ),
            "`imagec compile examples/quickstart`": lambda: timed(
                [*IMAGEC, "compile", "examples/quickstart"], env
            ),
        },
        runs,
    )
    print("\n| cold compile | median ms | CPU ms |\n|---|--:|--:|")
    show(med)
    floor, imagec = med.values()
    return [ratio("compile: imagec / floor", imagec, floor, 1.2)]


def with_engine(args: argparse.Namespace, tmp: Path, env: dict[str, str]) -> list[str]:
    from support.baseimages import ensure_base_images
    from support.engines import start_docker

    with start_docker() as engine:
        ensure_base_images(engine)
        env = {**env, "DOCKER_HOST": engine.url}
        env.pop("CONTAINER_HOST", None)
        build = [*IMAGEC, "build", args.spec, "--backend", "docker", "-O", "network=host", "-q"]
        image = subprocess.run(
            build, env=env, cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.split()[-1]
        export = tmp / "export"
        subprocess.run(
            [*IMAGEC, "export", args.spec, "--backend", "docker", "-o", str(export)],
            env=env,
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        docker = [
            args.docker,
            "build",
            "-q",
            "--network",
            "host",
            "-t",
            "imagec-bench/cli",
            str(export),
        ]
        docker_env = {**env, "DOCKER_BUILDKIT": "0"}  # the classic builder docker-py drives
        time.sleep(2.5)  # past the racy window, as a real project would be
        med = race(
            {
                "`imagec inspect IMAGE`": lambda: timed(
                    [*IMAGEC, "inspect", image, "--backend", "docker"], env
                ),
                "no-op `imagec build` (fingerprint)": lambda: timed(build, env),
                "no-op `docker build` of the export": lambda: timed(docker, docker_env),
            },
            args.runs,
        )
    print(f"\n| with a docker engine ({args.spec}) | median ms | CPU ms |\n|---|--:|--:|")
    show(med)
    inspect, imagec, cli = med.values()
    return [
        f"inspect: {inspect[0] * 1000:.1f} ms wall, {inspect[1] * 1000:.1f} ms CPU "
        "(target <= 80 ms)",
        ratio("no-op build: imagec / docker CLI", imagec, cli, 1.5),
    ]


if __name__ == "__main__":
    sys.exit(main())
