"""The stack's container registry: push from one engine, reuse and pull from the other, and
one-line failures, against a real registry (TLS from a test CA, htpasswd)."""

from __future__ import annotations

import base64
import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import Result, cli_env, run_imagec
from support.containers import run_container
from support.engines import Engine
from support.projects import write_quickstart
from support.registry import RunningRegistry, TestCA, remove_local, start_registry

pytestmark = pytest.mark.engine


class Builder:
    """``imagec build`` of one project on one engine, with that engine's login; every image
    it names is untagged on every engine afterwards."""

    def __init__(self, tmp: Path, registry: RunningRegistry, engines: dict[str, Engine]) -> None:
        self.tmp = tmp
        self.registry = registry
        self.engines = engines
        self.refs: set[str] = set()
        self.ids: set[tuple[str, str]] = set()

    def project(self, name: str, uri: str | None = None) -> Path:
        root = write_quickstart(self.tmp / name)
        # Content of this test alone: a content hash no other test (or session) pushed.
        (root / "pkg" / "run_id.py").write_text(f"RUN_ID = {uuid.uuid4().hex!r}\n")
        spec = root / "imagec.yaml"
        # No imagec wheel in the image: it is made from this checkout, which may change
        # between two builds of a test and would change the content hash.
        # pip: it is in the base image, so the build needs no index at all.
        extra = "image_name: regtest/quick\ninstall_imagec: false\ninstaller: pip\n"
        spec.write_text(spec.read_text() + extra)
        uri = uri or f"{self.registry.host}/team"
        (root / ".imagec" / "stack.yaml").write_text(
            "name: shared\ncomponents:\n  orchestrator: {flavor: local}\n"
            f"  artifact_store: {{flavor: local}}\n  container_registry:\n"
            f"    flavor: default\n    config: {{uri: '{uri}'}}\n"
        )
        return spec

    def build(self, kind: str, spec: Path, *args: str, env: dict[str, str]) -> Result:
        engine = self.engines[kind]
        extra = {**env, "XDG_CACHE_HOME": str(self.tmp / "cache")}
        result = run_imagec(
            "build", str(spec), "--backend", kind, "--url", engine.url, *args, env=cli_env(extra)
        )
        if result.returncode == 0 and result.stdout.startswith("built: "):
            self.refs.update(result.stdout.split()[2:])
            self.ids.add((kind, result.stdout.split()[1]))
        return result

    def cleanup(self) -> None:
        for engine in self.engines.values():
            for ref in self.refs:
                remove_local(engine, ref)
        for kind, image_id in self.ids:  # an image --force replaced is left untagged
            remove_local(self.engines[kind], image_id)


@pytest.fixture
def builder(
    tmp_path: Path, registry: RunningRegistry, docker_engine: Engine, podman_engine: Engine
) -> Iterator[Builder]:
    made = Builder(tmp_path, registry, {"docker": docker_engine, "podman": podman_engine})
    try:
        yield made
    finally:
        made.cleanup()


def pushed_ref(result: Result) -> tuple[str, str]:
    """(image id, the registry tag) from ``built: ID REF``."""
    assert result.returncode == 0, result.stderr
    state, image_id, ref = result.stdout.split()
    assert state == "built:", result.stdout
    return image_id, ref


def pull(engine: Engine, ref: str, env: dict[str, str]) -> None:
    """The engine's own CLI pulls, with its own login."""
    if engine.kind == "docker":
        argv = ["docker", "--config", env["DOCKER_CONFIG"], "-H", engine.url, "pull", ref]
    else:
        argv = ["podman", "pull", "--authfile", env["REGISTRY_AUTH_FILE"], ref]
    proc = subprocess.run(
        argv, capture_output=True, text=True, env=engine.cli_env(), timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr


def has_image(engine: Engine, ref: str) -> bool:
    import docker.errors

    try:
        engine.docker_client().images.get(ref)
    except docker.errors.ImageNotFound:
        return False
    return True


@pytest.mark.parametrize(("first", "second"), [("docker", "podman"), ("podman", "docker")])
def test_pushed_by_one_engine_is_up_to_date_on_the_other_then_pulled_and_run(
    first, second, builder, registry, docker_login, podman_login, docker_images, podman_images
):
    logins = {"docker": docker_login, "podman": podman_login}
    spec = builder.project("proj")
    image_id, ref = pushed_ref(builder.build(first, spec, env=logins[first]))
    host, _, rest = ref.partition("/")
    repository, _, tag = rest.rpartition(":")
    assert host == registry.host
    assert repository == "team/regtest/quick"
    assert tag in registry.tags(repository)

    # The other engine, its store without the image: the registry answers, nothing is pulled.
    other = builder.engines[second]
    assert not has_image(other, ref)
    again = builder.build(second, spec, env=logins[second])
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"up to date: {image_id} {ref}\n"
    assert f"{ref} is in the registry already" in again.stderr
    assert not has_image(other, ref)

    # Its provenance, read from the registry by the other engine's backend, still no pull.
    shown = run_imagec(
        "inspect", ref, "--backend", second, "--url", other.url, env=cli_env(logins[second])
    )
    assert shown.returncode == 0, shown.stderr
    info = json.loads(shown.stdout)
    assert info["id"] == image_id
    assert info["registry"] == registry.host
    assert info["labels"]["dev.imagec.content-hash"].startswith(tag)
    assert not has_image(other, ref)

    # What was pushed runs there once pulled: the same image (its id is the config digest).
    pull(other, ref, logins[second])
    assert other.docker_client().images.get(ref).id == image_id
    out = run_container(other, ref)
    assert out.stdout.startswith("trained "), out.stdout

    # Now local on that engine too: up to date from its own store.
    local = builder.build(second, spec, env=logins[second])
    assert local.stdout == f"up to date: {image_id} {ref}\n"


def test_force_rebuilds_and_replaces_no_push_stays_local(
    builder, registry, docker_login, docker_images
):
    spec = builder.project("proj")
    _image_id, ref = pushed_ref(builder.build("docker", spec, env=docker_login))
    remove_local(builder.engines["docker"], ref)

    # --no-push: the registry is not asked; the image is built for the local store only.
    local = builder.build("docker", spec, "--no-push", env={})
    assert local.returncode == 0, local.stderr
    assert local.stdout.startswith("built: ")
    assert local.stdout.split()[2] == ref
    assert "pushing" not in local.stderr

    forced = builder.build("docker", spec, "--force", env=docker_login)
    new_id, same_ref = pushed_ref(forced)
    assert same_ref == ref
    assert f"pushing {ref}" in forced.stderr
    status, body = registry.get(f"/v2/team/regtest/quick/manifests/{ref.rpartition(':')[2]}")
    assert status == 200
    assert json.loads(body)["config"]["digest"] == new_id


def test_other_content_under_a_pushed_tag_is_refused_before_building(
    builder, registry, podman_login, podman_images
):
    spec = builder.project("proj")
    image_id, ref = pushed_ref(builder.build("podman", spec, env=podman_login))
    remove_local(builder.engines["podman"], ref)
    # The same content hash, other labels: another image under the same tag.
    result = builder.build("podman", spec, "--label", "team=b", env=podman_login)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"{ref} already exists in the registry with other content" in result.stderr
    assert not has_image(builder.engines["podman"], ref)
    _status, body = registry.get(f"/v2/team/regtest/quick/manifests/{ref.rpartition(':')[2]}")
    assert json.loads(body)["config"]["digest"] == image_id


def _auth_file(path: Path, host: str, user: str, password: str) -> Path:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    path.write_text(json.dumps({"auths": {host: {"auth": token}}}))
    return path


@pytest.mark.parametrize("kind", ["docker", "podman"])
def test_refused_and_missing_logins_are_one_line_naming_the_fix(
    kind, builder, registry, tmp_path, docker_login, podman_login
):
    spec = builder.project("proj")
    wrong = _auth_file(tmp_path / "config.json", registry.host, registry.user, "wrong")
    env = (
        {"DOCKER_CONFIG": str(tmp_path)} if kind == "docker" else {"REGISTRY_AUTH_FILE": str(wrong)}
    )
    refused = builder.build(kind, spec, env=env)
    assert refused.returncode == 1
    assert refused.stderr == (
        f"imagec: error: the registry {registry.host} refused the login of "
        f"{registry.user!r} (from {wrong}); run `{kind} login {registry.host}` again\n"
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    env = (
        {"DOCKER_CONFIG": str(empty)}
        if kind == "docker"
        else {"REGISTRY_AUTH_FILE": str(empty / "auth.json"), "HOME": str(empty)}
    )
    missing = builder.build(kind, spec, env=env)
    assert missing.returncode == 1
    assert missing.stderr.startswith(
        f"imagec: error: the registry {registry.host} needs a login and {kind} has none for it"
    )
    assert missing.stderr.endswith(f"run `{kind} login {registry.host}`\n")


def test_unreachable_registry_fails_before_building(builder, docker_engine):
    spec = builder.project("proj", uri="127.0.0.1:9/team")
    result = builder.build("docker", spec, env={})
    assert result.returncode == 1
    assert result.stderr == (
        "imagec: error: cannot reach the registry 127.0.0.1:9 (Connection refused); check "
        "that it runs and the address in the stack's container_registry\n"
    )


def test_untrusted_certificate_is_one_line_naming_the_directory(builder, tmp_path, podman_login):
    # A registry whose CA no engine trusts.
    with start_registry(tmp_path / "other", TestCA(tmp_path / "other-ca")) as other:
        spec = builder.project("proj", uri=f"{other.host}/team")
        result = builder.build("podman", spec, env=podman_login)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(
        f"imagec: error: the registry {other.host} presented a TLS certificate that is not "
        "trusted (unable to get local issuer certificate); put the registry's CA certificate "
        f"in /etc/containers/certs.d/{other.host}/ca.crt"
    )


def test_inspect_of_an_image_in_neither_place_is_one_line(registry, docker_engine, docker_login):
    ref = registry.ref("team/regtest/absent", "0123456789abcdef")
    shown = run_imagec(
        "inspect", ref, "--backend", "docker", "--url", docker_engine.url,
        env=cli_env(docker_login),
    )  # fmt: skip
    assert shown.returncode == 1
    assert shown.stderr == (
        f"imagec: error: no image {ref!r} on the docker engine nor in the registry "
        f"{registry.host}\n"
    )
