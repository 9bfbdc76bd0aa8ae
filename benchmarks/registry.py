"""Benchmark: the registry reuse check against pulling the image.

A machine that has not built an image asks the stack's registry whether the content-hash tag
is there (``imagec build`` with a ``container_registry``: a manifest and a config GET, no
pull) instead of pulling it to find out. Set-up as the registry tests make it
(``tests/support/registry.py``): the distribution registry on loopback with TLS from a test
CA and htpasswd; a private dockerd builds the quick-start project and pushes it; a private
podman service, whose store does not have the image, is the second machine. Timed, runs
interleaved, medians:

- ``imagec build`` on podman: the whole process, start-up included ("up to date").
- the check alone, in-process: ``Registry(host, "podman").image(ref)`` (TLS, login, two GETs).
- ``podman pull`` of the same image with podman's own login (removed again after each run,
  untimed): what finding out by pulling costs.

    python benchmarks/registry.py [--runs 5]

Needs root and the engines (``bash .ci/engines.sh``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO / "tests")]

from support.baseimages import ensure_base_images  # noqa: E402
from support.cli import cli_env  # noqa: E402
from support.engines import start_docker, start_podman  # noqa: E402
from support.projects import write_quickstart  # noqa: E402
from support.registry import TestCA, login, remove_local, start_registry, trusted  # noqa: E402

from imagec.backend.registry import Registry  # noqa: E402


def imagec(*args: str, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "imagec", *args], capture_output=True, text=True, env=env
    )
    return time.perf_counter() - start, proc


def image_size(engine, ref: str) -> int:
    return engine.docker_client().images.get(ref).attrs.get("Size", 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="imagec-bench-reg-")))
        ca = TestCA(tmp / "ca")
        registry = stack.enter_context(start_registry(tmp / "registry", ca))
        docker = stack.enter_context(start_docker())
        podman = stack.enter_context(start_podman())
        for engine in (docker, podman):
            ensure_base_images(engine)
            stack.enter_context(trusted(engine.kind, registry.host, registry.ca_cert))
        docker_env = login(docker, registry, tmp / "docker-config")
        podman_env = login(podman, registry, tmp / "podman-auth")

        root = write_quickstart(tmp / "proj")
        spec = root / "imagec.yaml"
        # Offline (pip, local wheels); no imagec wheel, which is made from this checkout.
        extra = "image_name: bench/quick\ninstaller: pip\ninstall_imagec: false\n"
        spec.write_text(spec.read_text() + extra)
        (root / ".imagec" / "stack.yaml").write_text(
            "name: shared\ncomponents:\n  orchestrator: {flavor: local}\n"
            "  artifact_store: {flavor: local}\n  container_registry:\n"
            f"    flavor: default\n    config: {{uri: '{registry.host}/team'}}\n"
        )
        seconds, built = imagec(
            "build", str(spec), "--backend", "docker", "--url", docker.url,
            env=cli_env({**docker_env, "XDG_CACHE_HOME": str(tmp / "cache")}),
        )  # fmt: skip
        if built.returncode != 0:
            print(built.stderr, file=sys.stderr)
            return 1
        _state, _image_id, ref = built.stdout.split()
        stack.callback(remove_local, docker, ref)
        print(f"built and pushed {ref} in {seconds:.1f} s; {image_size(docker, ref) / 1e6:.0f} MB")

        check_env = cli_env({**podman_env, "XDG_CACHE_HOME": str(tmp / "cache")})
        os.environ.update(podman_env)  # the in-process check reads podman's login the same way
        results: dict[str, list[float]] = {"imagec": [], "check": [], "pull": []}
        for _ in range(args.runs):
            seconds, proc = imagec(
                "build", str(spec), "--backend", "podman", "--url", podman.url, env=check_env
            )
            assert proc.stdout.startswith("up to date:"), proc.stdout + proc.stderr
            results["imagec"].append(seconds)

            start = time.perf_counter()
            remote = Registry(registry.host, "podman").image(ref)
            results["check"].append(time.perf_counter() - start)
            assert remote is not None

            start = time.perf_counter()
            pulled = subprocess.run(
                ["podman", "pull", "-q", "--authfile", podman_env["REGISTRY_AUTH_FILE"], ref],
                capture_output=True,
                text=True,
                env=podman.cli_env(),
            )
            results["pull"].append(time.perf_counter() - start)
            assert pulled.returncode == 0, pulled.stderr
            remove_local(podman, ref)

        print(
            f"machine: nproc {os.cpu_count()}, Python {platform.python_version()}, "
            f"{platform.platform()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        print("| run | median s | min s | max s |\n|---|--:|--:|--:|")
        names = {
            "imagec": "`imagec build` on podman, image only in the registry (whole process)",
            "check": "registry check alone (in-process: manifest + config GET)",
            "pull": "`podman pull` of the image",
        }
        for key, label in names.items():
            values = results[key]
            print(
                f"| {label} | {statistics.median(values):.3f} | {min(values):.3f} "
                f"| {max(values):.3f} |"
            )
        ratio = statistics.median(results["pull"]) / statistics.median(results["imagec"])
        print(f"pull / imagec build = {ratio:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
