"""The no-op build's fingerprint: nothing changed -> answered without loading the model or
calling the engine's build; any input changed -> the full path (and a rebuild when the
image's content changed)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.containers import remove_image
from support.engines import Engine

from imagec.backend.engine import fingerprint

RACY = fingerprint.RACY_SECONDS + 0.2


def imagec_build(project: Path, env: dict[str, str], *extra: str) -> tuple[str, set[str]]:
    """(stdout, top-level modules imported), from ``python -X importtime``."""
    argv = [sys.executable, "-X", "importtime", "-m", "imagec", "build"]
    argv += [str(project / "imagec.yaml"), "--backend", "docker", "-O", "network=none", *extra]
    out = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env=env,
        cwd=project,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    # "built: ID TAGS" or "up to date: ID TAGS" -> "ID TAGS"
    text = out.stdout.strip().partition(": ")[2]
    modules = {
        line.split("|")[-1].strip().split(".")[0]
        for line in out.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return text, modules


@pytest.fixture
def project(tmp_path: Path, docker_images) -> Path:
    root = tmp_path / "proj"
    (root / ".imagec").mkdir(parents=True)
    (root / ".imagec" / "stack.yaml").write_text(
        "name: default\ncomponents:\n  orchestrator: {flavor: local}\n"
        "  artifact_store: {flavor: local}\n"
    )
    (root / "imagec.yaml").write_text(
        f'python_version: "3.11"\nbase_image: {docker_images.python}\n'
        "install_imagec: false\nimage_name: imagec-test/fingerprint\n"
        "requirements:\n  - -r reqs.txt\n"
    )
    (root / "reqs.txt").write_text("# nothing yet\n")
    (root / ".dockerignore").write_text("*.log\n")
    (root / "app.py").write_text("print(1)\n")
    return root


def test_each_changed_input_takes_the_full_path(
    project: Path, docker_engine: Engine, tmp_path: Path
) -> None:
    env = {**os.environ, "DOCKER_HOST": docker_engine.url, "XDG_CACHE_HOME": str(tmp_path / "c")}
    env.pop("CONTAINER_HOST", None)
    images: set[str] = set()

    def settled_then_fast() -> str:
        """A fresh record (a build once the files are past the racy window), then a no-op
        that loads neither pydantic nor an engine SDK."""
        time.sleep(RACY)
        first, _ = imagec_build(project, env)
        images.add(first.split()[0])
        again, modules = imagec_build(project, env)
        assert again == first
        assert not modules & {"pydantic", "docker", "podman", "requests", "yaml"}, modules
        return first.split()[0]

    def full_path(*extra: str) -> str:
        out, modules = imagec_build(project, env, *extra)
        assert "pydantic" in modules, out
        return out.split()[0]

    try:
        image = settled_then_fast()
        changes = {
            "spec bytes": lambda: (project / "imagec.yaml").write_text(
                (project / "imagec.yaml").read_text() + "labels: {team: ml}\n"
            ),
            "requirement file": lambda: (project / "reqs.txt").write_text("# still nothing\n"),
            "stack": lambda: (project / ".imagec" / "stack.yaml").write_text(
                (project / ".imagec" / "stack.yaml").read_text() + "# edited\n"
            ),
            "ignore file": lambda: (project / ".dockerignore").write_text("*.log\n*.tmp\n"),
            "context file changed": lambda: (project / "app.py").write_text("print(2)\n"),
            "context file added": lambda: (project / "extra.txt").write_text("x\n"),
            "ignored file added": lambda: (project / "debug.log").write_text("x\n"),
        }
        for kind, change in changes.items():
            change()
            assert full_path(), kind
            image = settled_then_fast()

        # Backend options and the environment are part of the key.
        full_path("-O", "network=host")
        env["IMAGEC_PLUGINS"] = "none"
        full_path()
        env.pop("IMAGEC_PLUGINS")

        # An image removed from the engine is rebuilt, not reported.
        image = settled_then_fast()
        remove_image(docker_engine, image, force=True)
        rebuilt = full_path()
        images.add(rebuilt)
    finally:
        for ref in images:
            remove_image(docker_engine, ref, force=True)


def test_the_key_covers_version_arguments_and_environment(monkeypatch) -> None:
    args = {"spec": "a/imagec.yaml", "option": ["network=host"], "tag": []}
    key = fingerprint.build_key(args, "inst", {"DOCKER_HOST": "unix:///a"})
    assert key == fingerprint.build_key(dict(args), "inst", {"DOCKER_HOST": "unix:///a"})
    assert key != fingerprint.build_key(
        {**args, "option": []}, "inst", {"DOCKER_HOST": "unix:///a"}
    )
    assert key != fingerprint.build_key(args, "other", {"DOCKER_HOST": "unix:///a"})
    assert key != fingerprint.build_key(args, "inst", {"DOCKER_HOST": "unix:///b"})
    assert key == fingerprint.build_key(args, "inst", {"DOCKER_HOST": "unix:///a", "PWD": "/x"})
    monkeypatch.setattr(fingerprint, "__version__", "99.0")
    assert key != fingerprint.build_key(args, "inst", {"DOCKER_HOST": "unix:///a"})


def test_rebuilding_flags_never_take_the_fast_path() -> None:
    for flag in fingerprint.REBUILDING:
        assert not fingerprint.eligible({flag: True})
    assert fingerprint.eligible({"force": False, "quiet": True})


def test_a_changed_stat_or_a_missing_record_is_no_proof(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    watched = tmp_path / "spec.yaml"
    watched.write_text("a: 1\n")
    os.utime(watched, (1, 1))
    recorder = fingerprint.Recorder()
    recorder.started = time.time() + 10  # the file's ctime is "old" relative to this start
    assert recorder.save("k", url="unix:///x", image_id="sha256:1", tags=["a:1"], also=[watched])
    assert fingerprint.lookup("k") is not None
    assert fingerprint.lookup("other") is None
    watched.write_text("a: 2\n")
    assert fingerprint.lookup("k") is None
    # A file changed after the process started never vouches for an image.
    fresh = fingerprint.Recorder()
    assert not fresh.save("k2", url="unix:///x", image_id="sha256:1", tags=["a:1"], also=[watched])
    assert not fingerprint.confirm({"url": "unix:///nonexistent", "image_id": "x", "tags": ["a"]})
