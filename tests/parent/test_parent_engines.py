"""A parent Dockerfile on both engines: built once, reused while unchanged (the engine is
not asked to build it again), rebuilt with the image when it changes; a failing parent step
reported as imagec's own steps are; and the export's build script run by the engines' own
CLIs. ``skip_build``: an image with Python is used as it is, one without is reported.

Every image a test makes (the parent's tags, the image's tags, the base alias) is removed by
the test itself.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.baseimages import BaseImages
from support.cli import Result, cli_env, run_imagec
from support.containers import TEST_REPOSITORY, remove_image, run_container
from support.engines import Engine

pytestmark = pytest.mark.engine

BUILT = re.compile(r"^(built|up to date|usable as it is): (sha256:[0-9a-f]{64}) (.+)$")
PARENT_NOTE = re.compile(r"parent image (\S+) (is up to date|from)")


class Refs:
    """Tags a test made; removed (parents after the images on them) when it ends."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.refs: list[str] = []

    def add(self, *refs: str) -> None:
        self.refs.extend(r for r in refs if r not in self.refs)

    def cleanup(self) -> None:
        for ref in reversed(self.refs):
            with contextlib.suppress(Exception):
                remove_image(self.engine, ref, force=False)


@pytest.fixture
def refs(engine: Engine) -> Iterator[Refs]:
    made = Refs(engine)
    try:
        yield made
    finally:
        made.cleanup()


def alias(engine: Engine, image: str, refs: Refs) -> str:
    """A tag of ``image`` of the test's own: untagging it makes ``FROM alias`` unbuildable."""
    ref = f"{TEST_REPOSITORY}/parent-base-{uuid.uuid4().hex[:8]}:latest"
    repo, tag = ref.rsplit(":", 1)
    assert engine.docker_client().images.get(image).tag(repo, tag)
    refs.add(ref)
    return ref


def build(engine: Engine, spec: Path, *args: str) -> Result:
    return run_imagec(
        "build",
        str(spec),
        "--backend",
        engine.kind,
        "--url",
        engine.url,
        *args,
        env=cli_env({"IMAGEC_STACK": ""}),
    )


def built(result: Result, refs: Refs) -> tuple[str, str, str | None, bool | None]:
    """(image id, content tag, parent ref, whether the parent was built) of a build."""
    for ref in PARENT_NOTE.findall(result.stderr):
        refs.add(ref[0])
    assert result.returncode == 0, result.stderr[-4000:]
    m = BUILT.match(result.stdout.strip())
    assert m, result.stdout
    tag = m.group(3).split()[0]
    refs.add(tag)
    notes = PARENT_NOTE.findall(result.stderr)
    parent = notes[-1][0] if notes else None
    parent_built = None if not notes else notes[-1][1] == "from"
    return m.group(2), tag, parent, parent_built


def write_project(root: Path, base: str, *, staged: bool = False) -> Path:
    """A project whose Dockerfile copies a marker file and writes a random stamp. ``staged``:
    a build argument, and a last stage (``scratch``) that only ``target`` keeps out."""
    (root / "docker").mkdir(parents=True)
    (root / "docker" / "Dockerfile").write_text(
        f"FROM {base} AS runtime\n"
        "ARG GREETING=unset\n"
        "COPY marker.txt /opt/parent/marker.txt\n"
        'RUN cat /proc/sys/kernel/random/uuid > /opt/parent/stamp && echo "$GREETING" \\\n'
        "    > /opt/parent/greeting\n" + ("FROM scratch AS unused\n" if staged else "")
    )
    (root / "docker" / "marker.txt").write_text("from the parent Dockerfile\n")
    spec = root / "imagec.yaml"
    name = f"{TEST_REPOSITORY}/parent-{uuid.uuid4().hex[:8]}"
    dockerfile = "docker/Dockerfile"
    if staged:
        dockerfile = "{path: docker/Dockerfile, build_args: {GREETING: hi}, target: runtime}"
    spec.write_text(
        f"image_name: {name}\n"
        f"dockerfile: {dockerfile}\n"
        "copy_source: false\n"
        "installer: pip\n"  # no requirements: nothing to fetch, the build stays offline
        'command: ["cat", "/opt/parent/marker.txt", "/opt/parent/greeting", '
        '"/opt/parent/stamp"]\n'
    )
    return spec


def test_parent_built_once_reused_and_rebuilt_on_change(
    engine: Engine, engine_images: BaseImages, refs: Refs, tmp_path: Path
) -> None:
    base = alias(engine, engine_images.python, refs)
    spec = write_project(tmp_path / "proj", base, staged=True)

    image1, tag1, parent1, parent_built = built(build(engine, spec), refs)
    assert parent_built is True and parent1 is not None
    out1 = run_container(engine, tag1).stdout
    assert out1.startswith("from the parent Dockerfile\nhi\n")  # build_args and target
    parent_id = engine.docker_client().images.get(parent1).id

    # The base the Dockerfile names is gone: were the engine asked to build the parent again,
    # its FROM would fail. The second build must not ask it.
    remove_image(engine, base, force=False)
    again = build(engine, spec)
    image2, tag2, parent2, parent_built = built(again, refs)
    # The image on it is current: the parent is not even looked at. (Unless imagec's own
    # sources, which make the runtime wheel in its context, changed in between: then that
    # image is built again, on the parent found up to date.)
    if tag2 == tag1:
        assert (image2, parent2, parent_built) == (image1, None, None)
    else:
        assert (parent2, parent_built) == (parent1, False)
    assert engine.docker_client().images.get(parent1).id == parent_id

    # imagec's part changes, the Dockerfile does not: only the image is built, on the parent
    # found up to date (its base still gone: the engine was not asked to build it).
    spec.write_text(spec.read_text() + "labels: {team: ml}\n")
    image_l, tag_l, parent_l, parent_built = built(build(engine, spec), refs)
    assert (parent_l, parent_built) == (parent1, False)
    assert tag_l != tag1 and image_l != image1
    assert engine.docker_client().images.get(parent1).id == parent_id
    assert run_container(engine, tag2).stdout == out1

    # A change to the parent's context: both are built again, the image on the new parent.
    alias_again = base.rsplit(":", 1)
    assert engine.docker_client().images.get(engine_images.python).tag(*alias_again)
    (tmp_path / "proj" / "docker" / "marker.txt").write_text("changed parent\n")
    image3, tag3, parent3, parent_built = built(build(engine, spec), refs)
    assert parent_built is True and parent3 != parent1
    assert image3 != image1 and tag3 != tag1
    out3 = run_container(engine, tag3).stdout
    assert out3.startswith("changed parent\nhi\n") and out3 != out1


def test_failing_parent_step_is_reported_like_a_step(
    engine: Engine, engine_images: BaseImages, refs: Refs, tmp_path: Path
) -> None:
    spec = write_project(tmp_path / "proj", engine_images.python)
    dockerfile = tmp_path / "proj" / "docker" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "RUN echo parent-failed-here && exit 3\n")
    result = build(engine, spec)
    for ref in PARENT_NOTE.findall(result.stderr):
        refs.add(ref[0])
    assert result.returncode == 1
    error = [line for line in result.stderr.splitlines() if line.startswith("imagec: error:")]
    assert len(error) == 1, result.stderr[-3000:]
    assert re.match(
        r"imagec: error: dockerfile: step \d+/\d+ failed: RUN echo parent-failed-here && exit 3 "
        r"\(from docker/Dockerfile:6\): exit code 3$",
        error[0],
    ), error[0]
    assert "  | parent-failed-here" in result.stderr


def test_export_script_builds_with_the_engine_cli(
    engine: Engine, engine_images: BaseImages, refs: Refs, tmp_path: Path
) -> None:
    spec = write_project(tmp_path / "proj", engine_images.python, staged=True)
    out = tmp_path / "export"
    exported = subprocess.run(
        [sys.executable, "-m", "imagec", "export", str(spec), "-o", str(out)],
        capture_output=True,
        text=True,
        env=cli_env({"IMAGEC_STACK": ""}),
        timeout=300,
        check=False,
    )
    assert exported.returncode == 0, exported.stderr
    script = (out / "build.sh").read_text()
    parent_ref = re.search(r"-t (\S+) \"\$@\" parent", script).group(1)
    image_name = spec.read_text().split()[1]
    refs.add(parent_ref, f"{image_name}:latest")
    env = engine.cli_env()
    env["ENGINE"] = engine.kind
    if engine.kind == "docker":
        env["DOCKER_HOST"] = engine.url
    ran = subprocess.run(
        ["sh", str(out / "build.sh"), "--network", engine.network_mode],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    result = run_container(engine, f"{image_name}:latest")
    assert result.stdout.startswith("from the parent Dockerfile\nhi\n")  # --build-arg, --target


def test_skip_build_uses_an_image_with_python(
    engine: Engine, engine_images: BaseImages, tmp_path: Path
) -> None:
    spec = tmp_path / "imagec.yaml"
    spec.write_text(f"base_image: {engine_images.python}\nskip_build: true\nrequirements: [pip]\n")
    images_before = {i.id for i in engine.docker_client().images.list(all=True)}
    result = build(engine, spec)
    assert result.returncode == 0, result.stderr[-3000:]
    m = BUILT.match(result.stdout.strip())
    assert m and m.group(1) == "usable as it is", result.stdout
    assert m.group(2) == engine.docker_client().images.get(engine_images.python).id
    assert {i.id for i in engine.docker_client().images.list(all=True)} == images_before


def test_skip_build_reports_what_the_image_lacks(
    engine: Engine, engine_images: BaseImages, tmp_path: Path
) -> None:
    spec = tmp_path / "imagec.yaml"
    spec.write_text(f"base_image: {engine_images.nopython}\nskip_build: true\n")
    result = build(engine, spec)
    assert result.returncode == 1, result.stderr[-3000:]
    assert (
        f"imagec: error: skip_build: {engine_images.nopython} cannot be used as it is:\n"
        "  - Python: no `python` or `python3` on PATH\n"
    ) in result.stderr

    spec.write_text(
        f"base_image: {engine_images.python}\nskip_build: true\npython_version: '3.7'\n"
        "requirements: ['surely-not-installed-dist', 'pip<1']\n"
    )
    result = build(engine, spec)
    assert result.returncode == 1, result.stderr[-3000:]
    lines = result.stderr.split("cannot be used as it is:\n", 1)[1].splitlines()
    assert lines[0].startswith("  - Python 3.7 (python_version): the image has Python 3.")
    rest = sorted(lines[1:3])
    assert rest[0].startswith("  - pip<1: the image has pip ")
    assert rest[1] == "  - surely-not-installed-dist: not installed"


def test_skip_build_of_a_decorated_pipeline_needs_imagec(
    engine: Engine, engine_images: BaseImages, tmp_path: Path
) -> None:
    source = tmp_path / "train.py"
    source.write_text(
        "from imagec import pipeline\n\n\n"
        f"@pipeline(base_image={engine_images.python!r}, skip_build=True, copy_source=False)\n"
        "def train():\n"
        "    print('trained')\n"
    )
    result = build(engine, source)
    assert result.returncode == 1, result.stderr[-3000:]
    assert (
        "  - imagec's runtime: train.py:train uses @pipeline (pip install imagec==" in result.stderr
    ), result.stderr[-3000:]
