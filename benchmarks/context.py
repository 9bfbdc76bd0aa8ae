"""Benchmark: building the context tarball of an ML-repository-shaped tree.

Compares, on the same tree and the same .dockerignore, writing the archive to a temporary
file with:

- imagec (``select_context(root).write_tar(f)``, which also returns the sha256),
- docker-py (``docker.utils.build.tar(root, exclude=patterns, fileobj=f)``),
- GNU tar with equivalent ``--exclude`` options (plain, and with the options that make
  its output reproducible).

The tree (~50k files, ~1.5 GB, deterministic content) is generated once and cached.

    python benchmarks/context.py            # 7 runs per tool
    python benchmarks/context.py --runs 9 --cache-dir /var/tmp/imagec-bench
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TREE_VERSION = "context-tree-v1"
DOCKERIGNORE = """\
# VCS, environments, dependencies and data stay out of the image
.git
.venv
node_modules
data
**/__pycache__
**/*.pyc
!data/keep.csv
"""
PY_WORDS = [
    "def", "class", "return", "import", "from", "self", "model", "data", "tensor", "batch",
    "loss", "optimizer", "config", "train", "eval", "metrics", "logger", "path", "epoch",
    "step", "value", "result", "np", "torch", "yield", "with", "as", "for", "in", "if", "else",
    "elif", "try", "except", "raise", "lambda", "None", "True", "False", "assert", "print",
    "len", "range", "dict", "list",
]  # fmt: skip


def _text(rng: random.Random, size: int) -> bytes:
    """Source-looking text of roughly ``size`` bytes."""
    lines = []
    total = 0
    while total < size:
        indent = "    " * rng.randint(0, 3)
        line = indent + " ".join(rng.choices(PY_WORDS, k=rng.randint(3, 12))) + "\n"
        lines.append(line)
        total += len(line)
    return "".join(lines).encode()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _big_file(path: Path, size: int, seed: int) -> None:
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = 8 << 20
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(chunk, left)
            f.write(rng.randbytes(n))
            left -= n


def generate(root: Path) -> None:
    """Create the tree (deterministic: fixed seeds, fixed sizes)."""
    rng = random.Random(20240601)
    # .git: many small loose objects plus a pack.
    for _ in range(20_000):
        name = f"{rng.getrandbits(160):040x}"
        _write(root / ".git/objects" / name[:2] / name[2:], rng.randbytes(rng.randint(80, 1800)))
    _big_file(root / ".git/objects/pack/pack-0001.pack", 120 << 20, 1)
    _write(root / ".git/HEAD", b"ref: refs/heads/main\n")
    _write(root / ".git/config", b"[core]\n\trepositoryformatversion = 0\n")
    # .venv: site-packages with many small files.
    site = root / ".venv/lib/python3.11/site-packages"
    for pkg in range(300):
        for mod in range(50):
            suffix = ".py" if mod % 5 else ".pyc"
            text = _text(rng, rng.randint(500, 6000))
            _write(site / f"pkg{pkg:03d}" / f"mod{mod:02d}{suffix}", text)
    _write(root / ".venv/bin/python", b"#!/bin/sh\n")
    # node_modules: many tiny JS files.
    for pkg in range(400):
        for mod in range(25):
            _write(
                root / "node_modules" / f"lib{pkg:03d}" / "dist" / f"m{mod:02d}.js",
                _text(rng, rng.randint(300, 3000)),
            )
    # data: most of the bytes, in a few large files; keep.csv is the exception.
    for i in range(4):
        _big_file(root / "data" / f"shard-{i}.bin", 300 << 20, 100 + i)
    _write(root / "data/raw/readme.txt", b"raw data\n")
    rows = b"".join(b"%d,%d\n" % (i, i % 7) for i in range(200_000))
    _write(root / "data/keep.csv", b"id,label\n" + rows)
    # The source tree, with __pycache__ next to every package and stray .pyc files.
    for top in range(12):
        for sub in range(25):
            pkg = root / "src/mlproj" / f"area{top:02d}" / f"pkg{sub:02d}"
            _write(pkg / "__init__.py", b"")
            for mod in range(10):
                _write(pkg / f"module{mod}.py", _text(rng, rng.randint(1000, 12000)))
                _write(pkg / "__pycache__" / f"module{mod}.cpython-311.pyc", rng.randbytes(2000))
            if sub % 5 == 0:
                _write(pkg / "legacy.pyc", rng.randbytes(1500))
    for i in range(500):
        _write(root / "tests" / f"group{i // 50}" / f"test_case{i}.py", _text(rng, 3000))
    for i in range(100):
        _write(root / "configs" / f"exp{i:03d}.yaml", _text(rng, 800))
    for i in range(20):
        _write(root / "notebooks" / f"analysis{i}.ipynb", _text(rng, 200_000))
    for i in range(200):
        _write(root / "docs" / f"page{i}.md", _text(rng, 2500))
    for i in range(30):
        script = root / "scripts" / f"job{i}.sh"
        _write(script, b"#!/bin/sh\necho job\n")
        script.chmod(0o755)
    (root / "outputs/empty").mkdir(parents=True, exist_ok=True)
    _write(root / "README.md", b"# mlproj\n")
    _write(root / "pyproject.toml", b"[project]\nname = 'mlproj'\n")
    _write(root / "Dockerfile", b"FROM python:3.11-slim\nCOPY . /app\n")
    _write(root / ".gitignore", b"data/\n.venv/\n")
    _write(root / ".dockerignore", DOCKERIGNORE.encode())


def ensure_tree(cache_dir: Path) -> Path:
    root = cache_dir / TREE_VERSION
    done = cache_dir / f"{TREE_VERSION}.complete"
    if done.exists():
        return root
    if root.exists():
        shutil.rmtree(root)
    print(f"generating the benchmark tree in {root} (once) ...", flush=True)
    started = time.perf_counter()
    generate(root)
    done.write_text("ok\n")
    print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)
    return root


def tree_stats(root: Path) -> tuple[int, int]:
    files = size = 0
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            files += 1
            size += os.lstat(os.path.join(dirpath, name)).st_size
    return files, size


def imagec_tar(root: Path, out: Path) -> None:
    from imagec.context import select_context

    with open(out, "wb") as f:
        select_context(root, dockerfile="Dockerfile").write_tar(f)


def imagec_digest(root: Path, out: Path) -> None:
    from imagec.context import select_context

    select_context(root, dockerfile="Dockerfile").digest()


def dockerpy_tar(root: Path, out: Path) -> None:
    from docker.utils.build import tar

    patterns = [
        line.strip()
        for line in DOCKERIGNORE.splitlines()
        if line.strip() and not line.startswith("#")
    ]
    with open(out, "w+b") as f:
        tar(str(root), exclude=patterns, dockerfile=("Dockerfile", None), fileobj=f)


def gnu_excludes(root: Path) -> list[str]:
    excludes = [
        "--exclude=./.git",
        "--exclude=./.venv",
        "--exclude=./node_modules",
        "--exclude=__pycache__",
        "--exclude=*.pyc",
    ]
    # GNU tar has no exceptions: exclude everything in data/ except keep.csv.
    data = sorted(os.listdir(root / "data"))
    excludes += [f"--exclude=./data/{name}" for name in data if name != "keep.csv"]
    return excludes


def gnu_tar(root: Path, out: Path, reproducible: bool = False) -> None:
    args = ["tar", "-C", str(root), "-cf", str(out), *gnu_excludes(root)]
    if reproducible:
        args += [
            "--sort=name",
            "--format=posix",
            "--pax-option=delete=atime,delete=ctime",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "--mtime=@315619200",
        ]
    subprocess.run([*args, "."], check=True)


def members(path: Path) -> int:
    import tarfile

    with tarfile.open(path) as t:
        return sum(1 for _ in t)


def machine() -> str:
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    tar_version = subprocess.run(["tar", "--version"], capture_output=True, text=True).stdout
    import docker

    return (
        f"nproc {os.cpu_count()}, memory {mem_kb / 1024 / 1024:.1f} GiB, "
        f"Python {platform.python_version()}, {tar_version.splitlines()[0]}, "
        f"docker-py {docker.__version__}, {platform.platform()}"
    )


def cpu_seconds() -> float:
    """CPU time of this process and its finished children: less sensitive to load."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="timed runs per tool (default 9)")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "imagec-bench",
    )
    parser.add_argument("--skip-docker-py", action="store_true", help="it is the slow one")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    root = ensure_tree(args.cache_dir)
    files, size = tree_stats(root)
    print(machine())
    print(f"tree: {files} files, {size / 1e9:.2f} GB; {args.runs} runs per tool, interleaved")
    print(f"load average before: {os.getloadavg()[0]:.2f}")

    tools: dict[str, Callable[[Path, Path], None]] = {
        "imagec (tar to file + sha256)": imagec_tar,
        "imagec (sha256 only, no file)": imagec_digest,
        "GNU tar --exclude": gnu_tar,
        "GNU tar --exclude, reproducible": lambda r, o: gnu_tar(r, o, reproducible=True),
    }
    if not args.skip_docker_py:
        tools["docker-py utils.build.tar"] = dockerpy_tar
    wall: dict[str, list[float]] = {name: [] for name in tools}
    cpu: dict[str, list[float]] = {name: [] for name in tools}
    sizes: dict[str, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory(prefix="imagec-bench-") as tmp:
        out = Path(tmp) / "ctx.tar"
        for name, fn in tools.items():  # warm-up: page cache, imports
            fn(root, out)
            if out.exists():
                sizes[name] = (out.stat().st_size, members(out))
                out.unlink()
        for _ in range(args.runs):  # interleaved, so drift hits every tool alike
            for name, fn in tools.items():
                os.sync()  # start each run without someone else's dirty pages
                gc.collect()
                cpu0, wall0 = cpu_seconds(), time.perf_counter()
                fn(root, out)
                wall[name].append(time.perf_counter() - wall0)
                cpu[name].append(cpu_seconds() - cpu0)
                out.unlink(missing_ok=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")

    ref = "imagec (tar to file + sha256)"
    base_wall, base_cpu = statistics.median(wall[ref]), statistics.median(cpu[ref])
    print()
    print(
        "| tool | wall median s | wall min s | CPU median s | archive MB | members "
        "| wall vs imagec | CPU vs imagec |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    for name in tools:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        size_mb, count = sizes.get(name, (0, 0))
        shown = f"{size_mb / 1e6:.1f} | {count}" if count else "- | -"
        print(
            f"| {name} | {w:.3f} | {min(wall[name]):.3f} | {c:.3f} | {shown} "
            f"| {w / base_wall:.2f}x | {c / base_cpu:.2f}x |"
        )
    print()
    gnu = "GNU tar --exclude"
    print(
        f"imagec / GNU tar: wall {base_wall / statistics.median(wall[gnu]):.2f}, "
        f"CPU {base_cpu / statistics.median(cpu[gnu]):.2f} (target <= 1.3)"
    )
    if "docker-py utils.build.tar" in wall:
        dpy = "docker-py utils.build.tar"
        print(
            f"docker-py / imagec: wall {statistics.median(wall[dpy]) / base_wall:.1f}, "
            f"CPU {statistics.median(cpu[dpy]) / base_cpu:.1f} (target >= 4)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
