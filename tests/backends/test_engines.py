"""``imagec build`` on real engines (podman and dockerd on temporary sockets), end to end.

Each test runs on both engines (ids ``[podman]`` and ``[docker]``). The sample projects are
built once per session (``builds`` in conftest.py) and reused.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.baseimages import BaseImages
from support.builds import BUILT, GIT_REMOTE, Builds
from support.cli import run_imagec
from support.containers import run_container
from support.engines import Engine
from support.image_probe import probe
from support.projects import write_sdist, write_wheel
from support.proxy import RecordingProxy

from imagec.backend.buildcontext import BuildContext
from imagec.plugins import get_plugins
from imagec.project import load_project

pytestmark = pytest.mark.engine


def content_tag(spec: Path, kind: str) -> str:
    """The tag a build of ``spec`` with backend ``kind`` would get."""
    backend = get_plugins().backend(kind)()
    plan = load_project(str(spec)).plan
    return BuildContext(plan, backend.build_file_name, backend.render(plan)).tag


def image_exists(engine: Engine, ref: str) -> bool:
    import docker.errors

    try:
        engine.docker_client().images.get(ref)
    except docker.errors.ImageNotFound:
        return False
    return True


def layer_before(stderr: str, marker: str) -> str:
    """The layer id the engine printed last before the step line containing ``marker``."""
    layer = ""
    for line in stderr.splitlines():
        if marker in line and ("Step" in line or "STEP" in line):
            return layer
        if line.lstrip().startswith(("-->", "--->")) and len(line.split()) == 2:
            layer = line.split()[1]
    return layer


def podman_containers(engine: Engine) -> list[str]:
    """``ID IMAGE-ID`` of every container on a podman engine, buildah's build containers
    included. The listing races with buildah removing a build container and then fails with
    ``determining buildah container for container ...: container not known`` (exit 125;
    podman#23492, fixed in podman 5.2, Debian 12 has 4.3). That container is gone, so list
    again."""
    for _ in range(20):
        result = engine.podman("ps", "--all", "--external", "--format", "{{.ID}} {{.ImageID}}")
        if result.returncode == 0:
            return [line for line in result.stdout.splitlines() if line]
        if "container not known" not in result.stderr:
            break
        time.sleep(0.1)
    raise AssertionError(f"podman ps exited {result.returncode}:\n{result.stderr}")


def containers_from(engine: Engine, layer: str) -> list[str]:
    """Containers (build containers included) whose image is ``layer``."""
    if engine.kind == "podman":
        return [line for line in podman_containers(engine) if line.split()[1].startswith(layer)]
    return [
        c.id
        for c in engine.docker_client().containers.list(all=True)
        if c.attrs["Image"].removeprefix("sha256:").startswith(layer)
    ]


# -- the quick-start project -------------------------------------------------------------


def test_quickstart_image_has_source_requirements_env_user_and_stack(
    engine: Engine, engine_images: BaseImages, builds: Builds
) -> None:
    built = builds.get(engine, "quickstart")
    assert built.result.stdout.startswith("built: ")
    data = probe(engine, built.tag)
    files = data["files"]
    for kept in ("train.py", "pkg/__init__.py", "pkg/util.py", "data/schema.json", "imagec.yaml"):
        assert f"/app/{kept}" in files, kept
    for ignored in ("secret.txt", "data/train.csv", "pkg/__pycache__/", "wheels/", ".git/"):
        assert f"/app/{ignored}" not in files, ignored
    assert data["probe"] == 42
    assert "imagec-probe==1.0" in data["packages"]
    assert data["env"]["MODEL_NAME"] == "churn"
    assert data["env"]["IMAGEC_CONFIG_DIR"] == "/etc/imagec"
    assert data["user"] == "trainer"
    assert data["cwd"] == "/app"
    stack = run_container(engine, built.tag, ["cat", "/etc/imagec/stack.yaml"]).stdout
    assert "orchestrator" in stack
    # The image's own command runs the project.
    assert run_container(engine, built.tag).stdout == "trained 42\n"


def test_quickstart_image_labels(engine: Engine, engine_images: BaseImages, builds: Builds):
    built = builds.get(engine, "quickstart")
    image = engine.docker_client().images.get(built.tag)
    labels = image.labels
    content_hash = labels["dev.imagec.content-hash"]
    assert built.tag.endswith(":" + content_hash[:16])
    assert labels["dev.imagec.version"]
    assert labels["team"] == "ml"
    assert labels["org.opencontainers.image.created"].endswith("Z")
    if (built.spec.parent / ".git").exists():
        head = subprocess.run(
            ["git", "-C", str(built.spec.parent), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert labels["org.opencontainers.image.revision"] == head
        assert labels["org.opencontainers.image.source"] == GIT_REMOTE.replace("ci-bot:s3cret@", "")
    assert "s3cret" not in json.dumps(image.attrs)
    # Set by the build file's own LABEL, not as build options (one more step each on podman).
    steps = [h.get("CreatedBy") or "" for h in image.history()]
    naming = [s for s in steps if "dev.imagec.content-hash" in s]
    assert naming and all("dev.imagec.ir-digest" in s for s in naming), naming
    extra = engine.docker_client().images.get(built.extra_tag)
    assert extra.id == image.id


def test_unchanged_rebuild_does_not_call_the_build_endpoint(
    engine: Engine, engine_images: BaseImages, builds: Builds, tmp_path: Path
) -> None:
    built = builds.get(engine, "quickstart")
    proxy = RecordingProxy(engine.socket, tmp_path / "proxy.sock").start()
    try:
        started = time.monotonic()
        result = builds.cli(engine, built.spec, "--label", "team=ml", url=proxy.url)
        took = time.monotonic() - started
    finally:
        proxy.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"up to date: {built.image_id} {built.tag}\n"
    assert result.stderr == ""
    paths = proxy.paths()
    assert paths, "the proxy saw no requests"
    assert not [p for p in paths if p.startswith("/build")], paths
    assert took < 20


def test_quiet_prints_only_the_image_id(engine: Engine, engine_images: BaseImages, builds):
    built = builds.get(engine, "quickstart")
    result = builds.cli(engine, built.spec, "--label", "team=ml", "-q")
    assert (result.returncode, result.stdout, result.stderr) == (0, built.image_id + "\n", "")


def test_edit_one_file_rebuilds_from_the_layer_cache(
    engine: Engine, engine_images: BaseImages, builds: Builds
) -> None:
    built = builds.get(engine, "quickstart")
    util = built.spec.parent / "pkg/util.py"
    original = util.read_text()
    util.write_text("RATE = 2\n")
    try:
        result = builds.cli(engine, built.spec, "--label", "team=ml")
        assert result.returncode == 0, result.stderr[-3000:]
        m = BUILT.match(result.stdout.strip())
        assert m and m.group(1) == "built"
        new_tag = m.group(3)
        builds.remember(engine, new_tag)
        steps = parse_steps(result.stderr)
        pip_steps = [s for s in steps if '"pip", "install"' in s[0]]
        assert pip_steps and all(cached for _, cached in pip_steps), steps
        source = [s for s in steps if s[0].startswith('COPY --chown=trainer ["src/"')]
        assert source and not source[0][1], steps
        assert "RATE = 2" in run_container(engine, new_tag, ["cat", "/app/pkg/util.py"]).stdout
    finally:
        util.write_text(original)
    # Back to the first content: its image is still there.
    again = builds.cli(engine, built.spec, "--label", "team=ml")
    assert again.stdout.startswith(f"up to date: {built.image_id} "), again.stdout


def parse_steps(log: str) -> list[tuple[str, bool]]:
    """(instruction, came from the cache) for each step of a plain build log."""
    steps: list[tuple[str, bool]] = []
    for line in log.splitlines():
        head = line.split(":", 1)
        if line.startswith(("Step ", "STEP ")) and len(head) == 2:
            steps.append((head[1].strip(), False))
        elif "Using cache" in line and steps:
            steps[-1] = (steps[-1][0], True)
    return steps


def test_force_builds_again(engine: Engine, engine_images: BaseImages, builds: Builds):
    built = builds.get(engine, "quickstart")
    result = builds.cli(engine, built.spec, "--label", "team=ml", "--force", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    image_id = result.stdout.strip()
    assert image_id.startswith("sha256:") and image_id != built.image_id
    assert engine.docker_client().images.get(built.tag).id == image_id


def test_push_to_an_unreachable_registry_is_one_clean_error(
    engine: Engine, engine_images: BaseImages, builds: Builds
) -> None:
    built = builds.get(engine, "quickstart")
    target = "127.0.0.1:9/imagec-test/quickstart:1"  # nothing listens on port 9
    builds.remember(engine, target)
    result = builds.cli(engine, built.spec, "--label", "team=ml", "--tag", target, "--push")
    assert result.returncode == 1, result.stderr
    error = result.stderr.splitlines()[-1]
    assert error.startswith(f"imagec: error: {engine.kind}: push of {target} failed: ")
    assert "127.0.0.1:9" in error
    assert "Traceback" not in result.stderr
    no_registry = builds.cli(engine, built.spec, "--label", "team=ml", "--push")
    assert no_registry.returncode == 2
    assert no_registry.stderr.startswith("imagec: error: --push: no tag names a registry")


# -- the pipeline project ----------------------------------------------------------------


def test_pipeline_image_runs_its_pipeline(
    engine: Engine, engine_images: BaseImages, builds: Builds
) -> None:
    built = builds.get(engine, "pipeline")
    assert run_container(engine, built.tag).stdout == "pipeline ran: epochs=20 42\n"
    files = probe(engine, built.tag)["files"]
    for kept in ("pipeline.py", "steps/train.py", "requirements.txt", "data/schema.json"):
        assert f"/app/{kept}" in files, kept
    for ignored in ("data/customers.csv", ".venv/", "wheels/"):
        assert f"/app/{ignored}" not in files, ignored


# -- failures ------------------------------------------------------------------------------


def failing_project(root: Path, requirement: str, *installer_args: str) -> Path:
    root.mkdir()
    write_wheel(root / "wheels")
    (root / ".dockerignore").write_text("wheels\n")
    (root / "app.py").write_text("print('hi')\n")
    spec = root / "imagec.yaml"
    args = json.dumps(["--no-index", *installer_args])
    spec.write_text(
        'python_version: "3.11"\n'
        f"image_name: imagec-test/{root.name}\n"
        f'requirements: ["{requirement}"]\n'
        "installer: pip\n"  # the failure reports below quote pip's own output
        "find_links: [wheels]\n"
        f"installer_args: {args}\n"
        "copy_stack: false\n"
    )
    return spec


def test_failing_step_names_step_instruction_and_output_and_tags_nothing(
    engine: Engine, engine_images: BaseImages, builds: Builds, tmp_path: Path
) -> None:
    spec = failing_project(tmp_path / "failing", "imagec-missing==1.0")
    extra = "localhost/imagec-test/failing:never"
    result = builds.cli(engine, spec, "--tag", extra)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    error = result.stderr[result.stderr.index("imagec: error: ") :].splitlines()
    assert error[0].startswith("imagec: error: step ")
    assert " failed: RUN [" in error[0] and '"-r", "/imagec/requirements/' in error[0]
    assert "(from requirements (imagec.yaml:3)): exit code 1" in error[0]
    assert error[-1] == "  | ERROR: No matching distribution found for imagec-missing==1.0"
    assert not image_exists(engine, content_tag(spec, engine.kind))
    assert not image_exists(engine, extra)
    layer = layer_before(result.stderr, '"-r", "/imagec/requirements/')
    if engine.kind == "docker":  # BuildKit keeps intermediate layers out of the engine
        assert not layer
    else:
        assert layer and containers_from(engine, layer) == []


def test_ctrl_c_stops_the_build_cleanly(
    engine: Engine, engine_images: BaseImages, builds: Builds, tmp_path: Path
) -> None:
    root = tmp_path / "slow"
    spec = failing_project(root, "imagec-slow==1.0", "--no-build-isolation")
    write_sdist(root / "wheels", "imagec-slow", "import time\ntime.sleep(8)")
    argv = [sys.executable, "-m", "imagec", "build", str(spec)]
    proc = subprocess.Popen(
        [*argv, "--backend", engine.kind, "--url", engine.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=builds.env,
    )
    assert proc.stderr is not None
    log = []
    for line in proc.stderr:
        log.append(line)
        if "setup.py" in line:  # pip is running the slow setup.py inside the build
            break
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    stopped = time.monotonic()
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - stopped < 10
    stderr = "".join(log) + err
    assert proc.returncode == 130, stderr[-2000:]
    assert err.endswith("imagec: interrupted\n")
    assert "Traceback" not in stderr
    assert out == ""
    assert not image_exists(engine, content_tag(spec, engine.kind))
    # dockerd stops the step at once; podman finishes the running step, then stops.
    layer = layer_before(stderr, '"-r", "/imagec/requirements/')
    deadline = time.monotonic() + 30
    while containers_from(engine, layer) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert containers_from(engine, layer) == []


def test_pull_without_a_registry_fails_at_the_base_image(
    engine: Engine, engine_images: BaseImages, builds: Builds
) -> None:
    built = builds.get(engine, "quickstart")
    result = builds.cli(engine, built.spec, "--label", "team=ml", "--pull")
    assert result.returncode == 1
    error = result.last_error
    assert error.startswith("imagec: error: step 1/")
    assert "failed: FROM python:3.11-slim (from default base image): " in error
    assert "Traceback" not in result.stderr


def test_inspect_reads_build_info_and_labels_without_running(
    engine: Engine, engine_images: BaseImages, builds: Builds
) -> None:
    built = builds.get(engine, "quickstart")
    url = ["--backend", engine.kind, "--url", engine.url]
    result = run_imagec("inspect", built.tag, *url, env=builds.env)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["spec"]["user"] == "trainer"
    assert info["imagec_version"] == info["labels"]["dev.imagec.version"]
    assert built.tag.endswith(info["labels"]["dev.imagec.content-hash"][:16])
    # The record is the image's label: no container is created to read the file.
    client = engine.docker_client()
    record = json.loads(client.images.get(built.tag).labels["dev.imagec.build-info"])
    assert record == {k: info[k] for k in ("imagec_version", "ir_digest", "spec")}
    assert "dev.imagec.build-info" not in info["labels"]
    # An image without it (built before the label existed) is read from the file, alike.
    older = "localhost/imagec-test/no-record:1"
    container = client.containers.create(built.tag, command=["true"])
    try:
        container.commit(*older.rsplit(":", 1), changes=['LABEL "dev.imagec.build-info"=""'])
    finally:
        container.remove()
    try:
        result = run_imagec("inspect", older, *url, env=builds.env)
        assert result.returncode == 0, result.stderr
        assert {**json.loads(result.stdout), "id": ""} == {**info, "id": ""}
    finally:
        client.images.remove(older, force=True)
    base = run_imagec("inspect", engine_images.python, *url, env=builds.env)
    assert base.returncode == 2
    assert base.stderr.startswith("imagec: error: ") and "not built by imagec" in base.stderr
    missing = run_imagec("inspect", "localhost/imagec-test/none:1", *url, env=builds.env)
    assert missing.returncode == 1
    assert "no image 'localhost/imagec-test/none:1'" in missing.stderr
