"""The parent build's decisions against an in-memory session (a recorder, as in
``tests/backends/test_flow.py``): reuse, rebuild, what is sent, and when nothing is tagged.
The engines themselves are in ``test_parent_engines.py``."""

from __future__ import annotations

import io
import shutil
import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from imagec_podman import PodmanBackend

from imagec.backend.base import BuildRequest
from imagec.backend.engine.backend import canonical
from imagec.backend.engine.labels import BUILD_INPUTS, CONTENT_HASH
from imagec.backend.engine.parent import build_parent, ensure_parent
from imagec.backend.engine.session import BuildParams, ImageInfo
from imagec.errors import BuildError
from imagec.project import build_for, load_project
from imagec.resolve.parent import PARENT_BUILD_FILE, PARENT_IGNORE_FILE

PROJECT = Path(__file__).parent / "project"
IMAGE_ID = "sha256:" + "ab" * 32


class Recorder:
    engine = "podman"  # no bridge-network probe
    url = "unix:///nowhere"

    def __init__(self, images: dict[str, ImageInfo] | None = None, messages=None) -> None:
        self.images = dict(images or {})
        self.messages = messages or [{"stream": "STEP 1/1: FROM x\n"}, {"aux": {"ID": IMAGE_ID}}]
        self.sent: list[tuple[bytes, BuildParams]] = []
        self.tags: list[tuple[str, str]] = []
        self.removed: list[str] = []

    def image(self, ref: str) -> ImageInfo | None:
        return self.images.get(ref)

    def build(self, body: Iterable[bytes], params: BuildParams) -> Iterator[dict[str, Any]]:
        self.sent.append((b"".join(body), params))
        yield from self.messages

    def tag(self, image_id: str, ref: str) -> None:
        self.tags.append((image_id, ref))

    def remove_image(self, image_id: str) -> None:
        self.removed.append(image_id)


@pytest.fixture
def parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("IMAGEC_STACK", raising=False)
    shutil.copytree(PROJECT, tmp_path / "project")
    found = load_project(str(tmp_path / "project" / "imagec.yaml")).parent
    assert found is not None
    return found


def test_builds_then_reuses(parent) -> None:
    session = Recorder()
    assert build_parent(session, parent, BuildRequest(quiet=True), network=None) == (
        IMAGE_ID,
        True,
    )
    body, params = session.sent[0]
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        names = tar.getnames()
    assert sorted(names) == sorted(
        [".dockerignore", "Dockerfile", "marker.txt", PARENT_BUILD_FILE, PARENT_IGNORE_FILE]
    )
    assert params.build_file == PARENT_BUILD_FILE
    assert (params.target, params.build_args) == ("runtime", {"GREETING": "hi"})
    assert params.labels[CONTENT_HASH] == parent.content_hash
    assert session.tags == [(IMAGE_ID, parent.ref)]

    labels = {CONTENT_HASH: parent.content_hash}
    session = Recorder({parent.ref: ImageInfo(IMAGE_ID, labels)})
    assert build_parent(session, parent, BuildRequest(quiet=True), network=None) == (
        IMAGE_ID,
        False,
    )
    assert session.sent == [] and session.tags == []


@pytest.mark.parametrize(
    ("labels", "request_"),
    [
        ({CONTENT_HASH: "other"}, BuildRequest(quiet=True)),
        (None, BuildRequest(quiet=True, force=True)),
        (None, BuildRequest(quiet=True, platform="linux/arm64")),
        ({BUILD_INPUTS: "linux/arm64"}, BuildRequest(quiet=True)),
    ],
)
def test_rebuilds(parent, labels, request_) -> None:
    found = {CONTENT_HASH: parent.content_hash, **(labels or {})}
    session = Recorder({parent.ref: ImageInfo("sha256:" + "cd" * 32, found)})
    _, built = build_parent(session, parent, request_, network=None)
    assert built and len(session.sent) == 1
    assert session.sent[0][1].labels.get(BUILD_INPUTS) == request_.platform


def test_context_changed_since_hashing_tags_nothing(parent) -> None:
    (parent.context / "marker.txt").write_text("changed after compiling\n")
    session = Recorder()
    with pytest.raises(BuildError, match="dockerfile: the Dockerfile's context changed"):
        build_parent(session, parent, BuildRequest(quiet=True), network=None)
    assert session.tags == [] and session.removed == [IMAGE_ID]


def test_failing_step_names_the_dockerfile_line(parent) -> None:
    messages = [
        {"stream": 'STEP 4/6: RUN echo "$GREETING" > /opt/parent/greeting.txt     && echo done\n'},
        {"stream": "sh: 1: cannot create /opt/parent/greeting.txt\n"},
        {"error": "building at STEP: while running runtime: exit status 2"},
    ]
    session = Recorder(messages=messages)
    with pytest.raises(BuildError) as caught:
        build_parent(session, parent, BuildRequest(quiet=True), network=None)
    assert str(caught.value) == (
        'dockerfile: step 4/6 failed: RUN echo "$GREETING" > /opt/parent/greeting.txt     && '
        "echo done (from docker/Dockerfile:5): exit code 2\n"
        "  | sh: 1: cannot create /opt/parent/greeting.txt"
    )
    assert session.tags == []


def test_no_parent_needed_while_the_image_on_it_is_current(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("IMAGEC_STACK", raising=False)
    shutil.copytree(PROJECT, tmp_path / "project")
    loaded = load_project(str(tmp_path / "project" / "imagec.yaml"))
    backend = PodmanBackend()
    build = canonical(build_for(loaded, backend), backend)
    context = build.context
    image = ImageInfo("sha256:" + "ef" * 32, {CONTENT_HASH: context.content_hash})

    session = Recorder({context.tag: image})  # the parent's tag is gone: not needed
    ensure_parent(session, build, BuildRequest(quiet=True), network=None)
    assert session.sent == []

    session = Recorder()  # no image yet: the parent is built
    ensure_parent(session, build, BuildRequest(quiet=True), network=None)
    assert len(session.sent) == 1 and session.tags == [(IMAGE_ID, loaded.parent.ref)]

    session = Recorder({context.tag: image})  # --force rebuilds both
    ensure_parent(session, build, BuildRequest(quiet=True, force=True), network=None)
    assert len(session.sent) == 1
