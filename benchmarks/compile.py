"""Cold `imagec compile examples/quickstart` as a whole process, against the dependency floor.

The floor is `python -c "import pydantic, jinja2, pluggy, yaml"`: what any tool built on
these libraries pays before doing anything. Target: ratio <= 1.3.

    python benchmarks/compile.py [--runs 21]

Runs the peers interleaved (floor, imagec, floor, ...) so machine noise hits both alike, and
prints medians and the ratio. Uses this interpreter directly (no launcher shims), with
bytecode caching on, as an installed imagec runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = {
    "floor (import pydantic, jinja2, pluggy, yaml)": [
        sys.executable,
        "-c",
        "import pydantic, jinja2, pluggy, yaml",
    ],
    # Not a target, a yardstick: the same floor plus defining and validating one pydantic
    # model, which any tool that validates its input with pydantic pays on top of the floor.
    "floor + one pydantic model": [
        sys.executable,
        "-c",
        "import pydantic, jinja2, pluggy, yaml\n"
        "from pydantic import BaseModel\n"
        "class M(BaseModel):\n    a: list[str] = []\n"
        "M(a=['x'])",
    ],
    "imagec compile examples/quickstart": [
        sys.executable,
        "-m",
        "imagec",
        "compile",
        "examples/quickstart",
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args().runs
    # As installed for users: bytecode caches on (a warm-up run writes them).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for cmd in PEERS.values():
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env=env)
    times: dict[str, list[float]] = {name: [] for name in PEERS}
    for _ in range(runs):
        for name, cmd in PEERS.items():
            start = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env=env)
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    floor, model, imagec = medians.values()
    for name, median in medians.items():
        print(f"{name:<48} median {median * 1000:7.1f} ms  (n={runs})")
    print(f"ratio imagec / floor: {imagec / floor:.2f}  (target <= 1.30)")
    print(f"ratio (floor + one pydantic model) / floor: {model / floor:.2f}")


if __name__ == "__main__":
    main()
