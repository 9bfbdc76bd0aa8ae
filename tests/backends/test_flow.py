"""The shared build flow without an engine: references, the context stream, the digest
cache, error shaping, and the reuse / tag / push decisions against an in-memory session.

The real engines are exercised end to end in ``test_engines.py``; here the session is a
recorder, so each rule of the flow is pinned down on its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.containerfile_check import read_back

from imagec.backend import Build, BuildRequest
from imagec.backend.buildcontext import BuildContext
from imagec.backend.containerfile import render
from imagec.backend.engine import digestcache
from imagec.backend.engine.connect import root_cause, unreachable
from imagec.backend.engine.flow import run_build
from imagec.backend.engine.labels import BUILD_INPUTS, CONTENT_HASH
from imagec.backend.engine.refs import check_tags, registry_of, split_tag
from imagec.backend.engine.session import BuildParams, ImageInfo
from imagec.backend.engine.stream import ContextStream
from imagec.errors import BuildError, EngineError, SpecError
from imagec.project import load_project

# -- references ----------------------------------------------------------------------------


def test_split_tag_and_registry():
    assert split_tag("team/app") == ("team/app", "latest")
    assert split_tag("registry.example.com:5000/team/app:1.2") == (
        "registry.example.com:5000/team/app",
        "1.2",
    )
    assert registry_of("team/app:1") is None
    assert registry_of("app") is None
    assert registry_of("localhost/app:1") == "localhost"
    assert registry_of("127.0.0.1:9/x/app:1") == "127.0.0.1:9"
    assert registry_of("ghcr.io/team/app") == "ghcr.io"


@pytest.mark.parametrize("bad", ["Team/App", "app@sha256:" + "a" * 64, "app:", "-x"])
def test_invalid_tags_are_input_errors(bad):
    with pytest.raises(SpecError, match="--tag: invalid tag"):
        check_tags(("ok/app:1", bad))


# -- the context stream --------------------------------------------------------------------


def test_stream_yields_the_tar_and_its_digest():
    payload = os.urandom(3 << 20)

    def write(f) -> str:
        for i in range(0, len(payload), 100_000):
            f.write(payload[i : i + 100_000])
        return hashlib.sha256(payload).hexdigest()

    sent: list[int] = []
    with ContextStream(write, sent.append) as stream:
        data = b"".join(stream)
    assert data == payload
    assert stream.digest == hashlib.sha256(payload).hexdigest()
    assert sent[-1] == len(payload)


def test_stream_reraises_what_the_writer_raised():
    def write(f) -> str:
        f.write(b"x" * 10)
        raise SpecError("cannot read file: Permission denied", file="src/a.py")

    with ContextStream(write) as stream, pytest.raises(SpecError, match="Permission denied"):
        b"".join(stream)


def test_abandoned_stream_stops_the_writer():
    def write(f) -> str:
        while True:
            f.write(b"x" * 65536)

    with ContextStream(write) as stream:
        next(iter(stream))
    assert not stream._thread.is_alive()


# -- the digest cache ------------------------------------------------------------------------


def make_context(tmp_path: Path) -> BuildContext:
    project = load_project(str(tmp_path / "imagec.yaml"))
    return BuildContext(project.plan, "Dockerfile", render(project.plan))


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "proj"
    (root / "sub").mkdir(parents=True)
    (root / "imagec.yaml").write_text(
        'python_version: "3.11"\ncopy_stack: false\ninstall_imagec: false\n'
    )
    (root / "a.py").write_text("a = 1\n")
    (root / "sub/b.py").write_text("b = 1\n")
    # Files written a moment ago are "racy" (see digestcache); a zero window lets the tests
    # store entries without waiting. test_racy_listings_are_not_stored restores it.
    monkeypatch.setattr(digestcache, "RACY_SECONDS", 0.0)
    return root


def test_digest_cache_hit_equals_the_full_digest(tree):
    first = make_context(tree)
    digest = digestcache.tar_digest(first)
    assert digest == make_context(tree).tar_digest
    assert list(digestcache.cache_dir().glob("*.json"))
    again = make_context(tree)
    assert digestcache.tar_digest(again) == digest
    assert "tar_digest" in again.__dict__  # primed from the cache


def test_digest_cache_sees_every_change(tree):
    digest = digestcache.tar_digest(make_context(tree))
    (tree / "sub/b.py").write_text("b = 2\n")  # same size, new content
    changed = digestcache.tar_digest(make_context(tree))
    assert changed != digest
    assert changed == make_context(tree).tar_digest
    (tree / "sub/c.py").write_text("")
    assert digestcache.tar_digest(make_context(tree)) == make_context(tree).tar_digest
    os.chmod(tree / "a.py", 0o755)
    assert digestcache.tar_digest(make_context(tree)) == make_context(tree).tar_digest


def test_racy_listings_are_not_stored(tree, monkeypatch):
    monkeypatch.setattr(digestcache, "RACY_SECONDS", 2.0)
    (tree / "a.py").write_text("a = 3\n")  # modified just now
    digestcache.tar_digest(make_context(tree))
    assert not list(digestcache.cache_dir().glob("*.json"))


def test_forget_drops_the_entry(tree):
    context = make_context(tree)
    digestcache.tar_digest(context)
    digestcache.forget(context)
    assert not list(digestcache.cache_dir().glob("*.json"))
    assert "tar_digest" not in context.__dict__


# -- error shaping ---------------------------------------------------------------------------


def test_root_cause_finds_the_os_reason():
    try:
        try:
            raise FileNotFoundError(2, "No such file or directory")
        except OSError as exc:
            raise RuntimeError("Connection aborted.", exc) from exc
    except RuntimeError as outer:
        assert root_cause(outer) == "No such file or directory"
    error = unreachable("docker", "unix:///x.sock", "Connection refused", "start it")
    assert str(error) == (
        "cannot reach the docker engine at unix:///x.sock (Connection refused); start it"
    )
    assert isinstance(error, EngineError) and error.exit_code == 1


# -- the flow, against a recording session --------------------------------------------------


class Recorder:
    """An engine session that answers from memory and records what was asked of it."""

    engine = "fake"
    url = "unix:///fake.sock"

    def __init__(self, messages: list[dict[str, Any]] | None = None) -> None:
        self.images: dict[str, ImageInfo] = {}
        self.calls: list[tuple[str, ...]] = []
        self.params: BuildParams | None = None
        self.received = b""
        self.messages = messages or [
            {"stream": "Step 1/1 : FROM x\n"},
            {"aux": {"ID": "sha256:" + "1" * 64}},
        ]
        self.push_messages: list[dict[str, Any]] = [{"status": "ok"}]

    def image(self, ref: str) -> ImageInfo | None:
        self.calls.append(("image", ref))
        return self.images.get(ref)

    def build(self, body: Iterable[bytes], params: BuildParams) -> Iterator[dict[str, Any]]:
        self.calls.append(("build",))
        self.params = params
        self.received = b"".join(body)
        yield from self.messages

    @property
    def labels(self) -> dict[str, str]:
        """The labels the received build file sets: its last member, LABEL by LABEL."""
        with tarfile.open(fileobj=io.BytesIO(self.received)) as tar:
            last = tar.getmembers()[-1]
            assert self.params is not None and last.name == self.params.build_file
            text = tar.extractfile(last).read().decode()  # type: ignore[union-attr]
        return {k: v for cmd in read_back(text) if cmd[0] == "label" for k, v in cmd[1]}

    def tag(self, image_id: str, ref: str) -> None:
        self.calls.append(("tag", image_id, ref))
        self.images[ref] = ImageInfo(image_id, self.labels if self.received else {})

    def remove_image(self, image_id: str) -> None:
        self.calls.append(("remove", image_id))

    def push(self, ref: str) -> Iterator[dict[str, Any]]:
        self.calls.append(("push", ref))
        yield from self.push_messages

    def close(self) -> None:
        pass


def make_build(tree: Path) -> Build:
    project = load_project(str(tree / "imagec.yaml"))
    context = BuildContext(project.plan, "Dockerfile", render(project.plan))
    return Build(spec=project.spec, plan=project.plan, context=context)


def kinds(session: Recorder) -> list[str]:
    return [call[0] for call in session.calls]


def test_build_sends_the_context_then_tags(tree):
    session = Recorder()
    build = make_build(tree)
    result = run_build(session, build, BuildRequest(tags=("team/app:1",), quiet=True))
    assert result.built and result.image_id == "sha256:" + "1" * 64
    assert result.tags == (build.context.tag, "team/app:1")
    assert kinds(session) == ["image", "build", "tag", "tag"]
    assert session.params is not None
    assert session.params.build_file == "Dockerfile"
    # Set by the build file itself, sent last: what came before it is what was hashed.
    assert session.params.labels == {}
    assert session.labels[CONTENT_HASH] == build.context.content_hash
    assert BUILD_INPUTS not in session.labels
    hashed = io.BytesIO()
    build.context.write_tar(hashed)
    end = hashed.getvalue().rindex(b"Dockerfile")
    assert session.received[:end] == hashed.getvalue()[:end]
    assert hashlib.sha256(hashed.getvalue()).hexdigest() != build.context.tar_digest


def test_existing_image_is_reused_without_a_build(tree):
    session = Recorder()
    run_build(session, make_build(tree), BuildRequest(quiet=True))
    session.calls.clear()
    result = run_build(session, make_build(tree), BuildRequest(tags=("x/y:2",), quiet=True))
    assert not result.built
    assert kinds(session) == ["image", "tag"]


@pytest.mark.parametrize(
    "request_",
    [
        BuildRequest(quiet=True, force=True),
        BuildRequest(quiet=True, no_cache=True),
        BuildRequest(quiet=True, pull=True),
        BuildRequest(quiet=True, build_args=(("GIT_SHA", "abc"),)),
        BuildRequest(quiet=True, labels=(("team", "ml"),)),
        BuildRequest(quiet=True, platform="linux/arm64"),
    ],
    ids=["force", "no-cache", "pull", "build-arg", "label", "platform"],
)
def test_what_changes_the_image_rebuilds(tree, request_):
    session = Recorder()
    run_build(session, make_build(tree), BuildRequest(quiet=True))
    session.calls.clear()
    assert run_build(session, make_build(tree), request_).built
    assert "build" in kinds(session)


def test_an_image_under_the_tag_with_other_labels_is_rebuilt(tree):
    session = Recorder()
    build = make_build(tree)
    session.images[build.context.tag] = ImageInfo("sha256:" + "9" * 64, {CONTENT_HASH: "other"})
    assert run_build(session, build, BuildRequest(quiet=True)).built


def test_failed_build_tags_nothing(tree):
    session = Recorder(
        messages=[
            {"stream": "Step 1/1 : RUN false\n"},
            {"stream": "oops\n"},
            {"error": "The command '/bin/sh -c false' returned a non-zero code: 1"},
        ]
    )
    with pytest.raises(BuildError, match=r"step 1/1 failed: RUN false: exit code 1\n  \| oops"):
        run_build(session, make_build(tree), BuildRequest(tags=("a/b:1",), quiet=True))
    assert kinds(session) == ["image", "build"]


def test_source_changed_while_sending_removes_the_image(tree):
    session = Recorder()
    build = make_build(tree)
    build.context.tar_digest  # hashed before the source changes  # noqa: B018
    (tree / "a.py").write_text("a = 'changed'\n")
    with pytest.raises(BuildError, match="source changed while it was being sent"):
        run_build(session, build, BuildRequest(quiet=True, force=True))
    assert kinds(session)[-1] == "remove"
    assert "tag" not in kinds(session)


def test_push_needs_a_tag_with_a_registry(tree):
    session = Recorder()
    with pytest.raises(SpecError, match="--push: no tag names a registry"):
        run_build(session, make_build(tree), BuildRequest(push=True, quiet=True))
    assert session.calls == []  # refused before anything was asked of the engine


def test_push_pushes_registry_tags_and_reports_errors_on_one_line(tree):
    session = Recorder()
    request = BuildRequest(tags=("reg.example.com/a/b:1", "local/x:1"), push=True, quiet=True)
    assert run_build(session, make_build(tree), request).pushed == ("reg.example.com/a/b:1",)
    session.push_messages = [{"error": "Get https://reg.example.com/v2/:\n dial tcp: refused"}]
    with pytest.raises(EngineError) as info:
        run_build(session, make_build(tree), request)
    assert str(info.value) == (
        "fake: push of reg.example.com/a/b:1 failed: Get https://reg.example.com/v2/: "
        "dial tcp: refused"
    )


def test_progress_goes_to_stderr_not_stdout(tree, capsys):
    run_build(Recorder(), make_build(tree), BuildRequest())
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Step 1/1 : FROM x" in captured.err


def test_request_options_reach_the_engine(tree):
    session = Recorder()
    request = BuildRequest(
        quiet=True,
        no_cache=True,
        pull=True,
        platform="linux/amd64",
        build_args=(("GIT_SHA", "abc"),),
        labels=(("team", "ml"),),
    )
    run_build(session, make_build(tree), request, network="host")
    params = session.params
    assert params is not None
    assert (params.no_cache, params.pull, params.platform, params.network) == (
        True,
        True,
        "linux/amd64",
        "host",
    )
    assert params.build_args == {"GIT_SHA": "abc"}
    assert session.labels["team"] == "ml"
    assert session.labels[BUILD_INPUTS]


def test_a_label_the_build_file_cannot_carry_is_one_line_naming_it(tree):
    request = BuildRequest(quiet=True, labels=(("team", "line\nbreak"),))
    with pytest.raises(SpecError, match="--label: label 'team'") as caught:
        run_build(Recorder(), make_build(tree), request)
    assert "\n" not in str(caught.value)


class EngineHangsUp(Recorder):
    """An engine that fails its own way when the context stream breaks off."""

    def build(self, body: Iterable[bytes], params: BuildParams) -> Iterator[dict[str, Any]]:
        self.calls.append(("build",))
        with contextlib.suppress(SpecError):  # an SDK may swallow what the body raised
            b"".join(body)
        raise EngineError("fake: build failed: unexpected EOF")
        yield {}


def test_a_file_that_cannot_be_read_is_the_error_reported(tree):
    build = make_build(tree)

    def unreadable(f, **_) -> str:
        f.write(b"x" * 1000)
        raise SpecError("cannot read file: Permission denied", file="sub/b.py")

    build.context.write_tar = unreadable  # type: ignore[method-assign]
    session = EngineHangsUp()
    with pytest.raises(SpecError, match=r"sub/b\.py: cannot read file: Permission denied"):
        run_build(session, build, BuildRequest(quiet=True, force=True))
    assert "tag" not in kinds(session)
