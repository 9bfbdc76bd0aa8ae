"""A multi-platform image: podman builds a manifest list, docker refuses before its engine.

The spec lists ``linux/amd64`` and ``linux/arm64`` and builds on a local manifest list of the
``python`` stand-in and its arm64 twin (``support.baseimages.multi_base``: mmdebstrap
``--architectures=arm64`` under QEMU, cached). RUN steps of the arm64 build, and the arm64
image's container, run under QEMU's user emulation (``qemu-user-static``, registered with
binfmt_misc); without it the podman tests skip saying so (fail under
``IMAGEC_REQUIRE_ENGINES=1``; ``.ci/setup`` installs it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.baseimages import BaseImages, multi_base, remove_list
from support.builds import BUILT, build_tagged
from support.cli import run_imagec
from support.containers import run_container
from support.engines import Engine

from imagec.backend.engine.labels import BUILD_INPUTS, CONTENT_HASH
from imagec.backend.engine.platforms import platform_of

PLATFORMS = ["linux/amd64", "linux/arm64"]
MACHINE = {"amd64": "x86_64", "arm64": "aarch64"}  # platform.machine() in each image
COMMAND = ["python", "-c", "import platform; print(platform.machine())"]


def write_spec(directory: Path, base: str, platform: list[str] | None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    spec = {"image_name": "imagec-test/multi", "base_image": base, "copy_stack": False}
    spec["command"] = COMMAND
    # No wheel of this checkout in the image: the tree may change between two builds of a test
    # (which would change the content hash), and pip under emulation is slow.
    spec["install_imagec"] = False
    if platform is not None:
        spec["platform"] = platform
    path = directory / "imagec.json"
    path.write_text(json.dumps(spec))
    return path


@pytest.fixture(scope="module")
def multi(podman_engine: Engine, podman_images: BaseImages) -> Iterator[str]:
    started = time.monotonic()
    with multi_base(podman_engine, podman_images) as base:
        print(f"multi-platform base ready in {time.monotonic() - started:.1f} s")
        yield base


@pytest.fixture
def lists(podman_engine: Engine) -> Iterator[list[str]]:
    """Tags of manifest lists a test built, removed after it (see ``remove_list``)."""
    refs: list[str] = []
    yield refs
    for ref in refs:
        remove_list(podman_engine, ref)


def instances(engine: Engine, ref: str) -> dict[str, str]:
    """Platform -> digest of each image in the list ``ref``."""
    proc = engine.podman("manifest", "inspect", ref)
    assert proc.returncode == 0, proc.stderr
    entries = json.loads(proc.stdout)["manifests"]
    found = {platform_of(entry): entry["digest"] for entry in entries}
    assert len(found) == len(entries), entries
    return found


def list_id(engine: Engine, ref: str) -> str:
    proc = engine.podman(
        "images", "--no-trunc", "--format", "{{.ID}}", "--filter", f"reference={ref}"
    )
    assert proc.returncode == 0, proc.stderr
    (found,) = proc.stdout.split()
    return found if found.startswith("sha256:") else f"sha256:{found}"


@pytest.mark.engine
def test_podman_builds_a_manifest_list_with_an_image_per_platform(
    podman_engine: Engine, multi: str, lists: list[str], tmp_path: Path
) -> None:
    spec = write_spec(tmp_path / "project", multi, PLATFORMS)
    started = time.monotonic()
    result, tag = build_tagged(podman_engine, spec)
    lists.append(tag)
    first = time.monotonic() - started
    assert result.stdout.startswith("built: "), result.stdout
    built_id = BUILT.match(result.stdout.strip()).group(2)
    assert built_id == list_id(podman_engine, tag)  # the list's id, not one platform's image

    found = instances(podman_engine, tag)
    assert set(found) == set(PLATFORMS)
    content_hashes = set()
    for platform, digest in found.items():
        ref = f"localhost/imagec@{digest}"  # podman finds an image by any recorded digest
        proc = podman_engine.podman(
            "image", "inspect", "--format", "{{.Os}}/{{.Architecture}} {{json .Labels}}", ref
        )
        assert proc.returncode == 0, proc.stderr
        os_arch, labels = proc.stdout.strip().split(" ", 1)
        assert os_arch == platform
        content_hashes.add(json.loads(labels)[CONTENT_HASH])
        arch = platform.split("/")[1]
        run = run_container(podman_engine, ref)  # the spec's command, emulated for arm64
        assert run.stdout.strip() == MACHINE[arch], (platform, run)
    assert len(content_hashes) == 1  # one build, one content

    started = time.monotonic()
    again = run_imagec(
        "build", str(spec), "--backend", "podman", "--url", podman_engine.url,
        "-O", "network=host",
    )  # fmt: skip
    second = time.monotonic() - started
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"up to date: {built_id} {tag}"
    assert instances(podman_engine, tag) == found  # reused, not rebuilt
    print(f"2-platform build: {first:.1f} s; unchanged second build: {second:.1f} s")


@pytest.mark.engine
def test_the_platform_flag_builds_a_list_of_an_unpinned_spec(
    podman_engine: Engine, multi: str, lists: list[str], tmp_path: Path
) -> None:
    spec = write_spec(tmp_path / "project", multi, None)
    result, tag = build_tagged(podman_engine, spec, "--platform", "linux/arm64, linux/amd64")
    lists.append(tag)
    assert result.stdout.startswith("built: "), result.stdout
    assert set(instances(podman_engine, tag)) == set(PLATFORMS)
    # The flag's platforms are build inputs: recorded on the images, so a build without the
    # flag is another image.
    proc = podman_engine.podman("image", "inspect", "--format", "{{json .Labels}}", tag)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[BUILD_INPUTS]


def test_docker_refuses_several_platforms_before_calling_its_engine(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "project", "python:3.11-slim", PLATFORMS)
    # Nothing listens there: the error must come before any contact.
    result = run_imagec(
        "build", str(spec), "--backend", "docker", "--url", f"unix://{tmp_path}/none.sock"
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "the docker engine's image store cannot hold" in lines[0]
    assert "--backend podman" in lines[0]
    assert "docker buildx build --platform linux/amd64,linux/arm64 --push" in lines[0]
    assert "cannot reach" not in lines[0]


@pytest.mark.parametrize("backend", ["podman", "docker"])
def test_a_platform_list_over_a_pinned_base_is_refused(backend: str, tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "project", "python:3.11-slim", ["linux/amd64"])
    result = run_imagec(
        "build", str(spec), "--backend", backend, "--url", f"unix://{tmp_path}/none.sock",
        "--platform", "linux/amd64,linux/arm64",
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    if backend == "podman":
        assert "pins the base image to one" in lines[0]
    else:
        assert "--backend podman" in lines[0]


def test_the_build_log_follows_each_platforms_steps() -> None:
    from imagec.backend.engine.buildlog import BuildLog

    events: list[tuple[str, object]] = []
    log = BuildLog(lambda kind, value: events.append((kind, value)), origins=["a", "b"])
    for platform in PLATFORMS:  # buildah's multi-platform log prefixes each step line
        log.feed({"stream": f"[{platform}] STEP 1/2: FROM base\n"})
        log.feed({"stream": f"[{platform}] STEP 2/2: RUN true\n"})
    log.finish()
    steps = [value for kind, value in events if kind == "step"]
    assert [(s.number, s.total, s.instruction) for s in steps] == [
        (1, 2, "FROM base"), (2, 2, "RUN true"), (1, 2, "FROM base"), (2, 2, "RUN true"),
    ]  # fmt: skip
