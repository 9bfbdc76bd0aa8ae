"""Benchmark: a rebuild after adding one requirement, with and without the installer cache
mount, on dockerd (BuildKit) and podman, against a private index on loopback.

The index (``tests/support/package_index.py``) serves probe wheels behind HTTP basic auth,
passed to the build as a secret, at a bandwidth limit that stands in for a remote index (what
a cache saves is download time; loopback alone has none). Per engine and mode, each run:

1. builds a fresh project whose requirements are N new wheels (this fills the cache mount
   when there is one);
2. adds one more new wheel and builds again: the install layer reruns. This build is timed and the
   index's wheel downloads are counted.

Target: with the cache mount the rebuild downloads only the new wheel and takes <= 0.5x the
time without it.

    python benchmarks/cache_mount.py [--runs 3] [--wheels 6] [--size-mb 8] [--rate-mb 20]
                                     [--installer uv|pip]

With uv the index also serves the pinned uv's wheel (the image installs uv from the spec's
index), taken from the tests' cache (``support.uv_wheel``).
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO / "tests")]

from support.baseimages import ensure_base_images  # noqa: E402
from support.cli import cli_env, run_imagec  # noqa: E402
from support.engines import start_docker, start_podman  # noqa: E402
from support.package_index import PackageIndex, write_probe_wheel  # noqa: E402
from support.uv_wheel import uv_wheel  # noqa: E402

SPEC = """\
image_name: imagec-bench/cache-{run}
base_image: python:3.11-slim
installer: {installer}
install_imagec: false
copy_source: false
copy_stack: false
install_stack_requirements: false
index_url: ${{PIP_INDEX_URL}}
secrets: [{{id: pip_index, env: PIP_INDEX_URL}}]
requirements: {requirements}
"""
# pip keeps its HTTP cache for HTTPS indexes and trusted hosts only; a real private index is
# HTTPS, this loopback one is plain HTTP. uv caches either.
PIP_ARGS = 'installer_args: ["--trusted-host", "127.0.0.1"]\n'


def build(engine, spec: Path, secret: Path, cache: bool) -> float:
    args = ["build", str(spec), "--backend", engine.kind, "--url", engine.url, "-q"]
    args += ["-O", "network=host", "--secret", f"id=pip_index,src={secret}"]
    if not cache:
        args.append("--no-cache-mount")
    started = time.monotonic()
    result = run_imagec(*args, env=cli_env())
    took = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"build failed:\n{result.stderr[-3000:]}")
    return took


def measure(engine, index: PackageIndex, work: Path, opts, cache: bool):
    """Each run has wheels of its own (fresh names), so neither the layer cache nor another
    run's cache mount can serve them: only this run's first build fills the cache."""
    times, fetched = [], []
    secret = work / "index-url"
    secret.write_text(index.auth_url)
    for _ in range(opts.runs):
        run = uuid.uuid4().hex[:8]
        names = [f"bench-{run}-{i}" for i in range(opts.wheels + 1)]
        made = [
            write_probe_wheel(index.wheels, name, size=int(opts.size_mb * 1e6)) for name in names
        ]
        project = work / run
        project.mkdir()
        spec = project / "imagec.yaml"
        extra = PIP_ARGS if opts.installer == "pip" else ""
        text = SPEC.format(run=run, installer=opts.installer, requirements=names[:-1]) + extra
        spec.write_text(text)
        build(engine, spec, secret, cache)
        text = SPEC.format(run=run, installer=opts.installer, requirements=names) + extra
        spec.write_text(text)
        index.reset()
        times.append(build(engine, spec, secret, cache))
        fetched.append(len(set(index.downloads())))  # distinct wheels sent whole
        for wheel in made:
            wheel.unlink()
    return times, fetched


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--wheels", type=int, default=6)
    parser.add_argument("--size-mb", type=float, default=8)
    parser.add_argument("--rate-mb", type=float, default=20)
    parser.add_argument("--engines", default="docker,podman")
    parser.add_argument("--installer", choices=("uv", "pip"), default="uv")
    opts = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="imagec-bench-cache-") as tmp:
        wheel_dir = Path(tmp) / "wheels"
        wheel_dir.mkdir()
        if opts.installer == "uv":
            uv = uv_wheel()
            (wheel_dir / uv.name).write_bytes(uv.read_bytes())
        rate = int(opts.rate_mb * 1e6)
        password = f"bench{uuid.uuid4().hex}"
        with PackageIndex(wheel_dir, password=password, rate=rate) as index:
            for kind in opts.engines.split(","):
                start = start_docker if kind == "docker" else start_podman
                with start() as engine:
                    ensure_base_images(engine)
                    for cache in (False, True):
                        work = Path(tmp) / f"{kind}-{cache}"
                        work.mkdir()
                        times, fetched = measure(engine, index, work, opts, cache)
                        rows.append((kind, cache, times, fetched))
    print(f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"index: {opts.wheels}+1 wheels of {opts.size_mb:g} MB, served at "
        f"{opts.rate_mb:g} MB/s; installer {opts.installer}; {opts.runs} runs, medians"
    )
    print("| engine | cache mount | rebuild median s | min s | max s | wheels fetched |")
    print("|---|---|--:|--:|--:|--:|")
    medians = {}
    for kind, cache, times, fetched in rows:
        medians[(kind, cache)] = statistics.median(times)
        print(
            f"| {kind} | {'on' if cache else 'off'} | {statistics.median(times):.2f} | "
            f"{min(times):.2f} | {max(times):.2f} | {', '.join(map(str, fetched))} |"
        )
    for kind in opts.engines.split(","):
        if (kind, True) in medians:
            ratio = medians[(kind, True)] / medians[(kind, False)]
            print(f"- {kind}: with / without cache mount = **{ratio:.2f}** (target <= 0.5)")


if __name__ == "__main__":
    main()
