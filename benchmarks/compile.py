"""Cold `imagec compile examples/quickstart` as a whole process, against the dependency floor.

The floor is importing pydantic, jinja2, pluggy and yaml and defining and validating one
one-field pydantic model: what any tool that validates its input with these libraries pays
before doing anything. Target: ratio <= 1.2. The bare imports are shown as a yardstick.

    python benchmarks/compile.py [--runs 21]
    python benchmarks/compile.py --instructions

Runs the peers interleaved (floor, imagec, floor, ...) so machine noise hits both alike, and
prints the median wall and CPU (user + system) times and the ratios. Uses this interpreter
directly (no launcher shims), with bytecode caching on, as an installed imagec runs.

``--instructions`` counts each peer's user-space instructions once under valgrind's
callgrind (``PYTHONHASHSEED=0``): on a loaded machine the steady measure, repeatable to a
few million.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "floor: import pydantic, jinja2, pluggy, yaml + one model"
IMAGEC = "imagec compile examples/quickstart"
PEERS = {
    FLOOR: [
        sys.executable,
        "-c",
        "import pydantic, jinja2, pluggy, yaml\n"
        "from pydantic import BaseModel\n"
        "class M(BaseModel):\n    a: list[str] = []\n"
        "M(a=['x'])",
    ],
    "yardstick: import pydantic, jinja2, pluggy, yaml": [
        sys.executable,
        "-c",
        "import pydantic, jinja2, pluggy, yaml",
    ],
    IMAGEC: [sys.executable, "-m", "imagec", "compile", "examples/quickstart"],
}
TARGET = 1.2


def _env() -> dict[str, str]:
    # As installed for users: bytecode caches on (a warm-up run writes them).
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(runs: int) -> None:
    env = _env()
    for cmd in PEERS.values():
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env=env)
    wall: dict[str, list[float]] = {name: [] for name in PEERS}
    cpu: dict[str, list[float]] = {name: [] for name in PEERS}
    for _ in range(runs):
        for name, cmd in PEERS.items():
            start, before = time.perf_counter(), _cpu()
            subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env=env)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(_cpu() - before)
    walls = {name: statistics.median(ts) for name, ts in wall.items()}
    cpus = {name: statistics.median(ts) for name, ts in cpu.items()}
    for name in PEERS:
        print(
            f"{name:<58} median {walls[name] * 1000:7.1f} ms  CPU {cpus[name] * 1000:7.1f} ms"
            f"  (n={runs})"
        )
    print(f"ratio imagec / floor, wall: {walls[IMAGEC] / walls[FLOOR]:.2f}  (target <= {TARGET})")
    print(f"ratio imagec / floor, CPU:  {cpus[IMAGEC] / cpus[FLOOR]:.2f}")


def instructions() -> None:
    env = {**_env(), "PYTHONHASHSEED": "0"}
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, cmd in PEERS.items():
            subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env=env)
            out = Path(tmp) / "callgrind.out"
            done = subprocess.run(
                ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd],
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            found = re.search(r"Collected : (\d+)", done.stderr)
            if found is None:
                sys.exit(f"no instruction count from valgrind for {name}:\n{done.stderr}")
            counts[name] = int(found.group(1))
            print(f"{name:<58} {counts[name] / 1e6:8.1f} M instructions")
    ratio = counts[IMAGEC] / counts[FLOOR]
    print(f"ratio imagec / floor, instructions: {ratio:.3f}  (target <= {TARGET})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions with callgrind"
    )
    args = parser.parse_args()
    if args.instructions:
        instructions()
    else:
        timed(args.runs)


if __name__ == "__main__":
    main()
