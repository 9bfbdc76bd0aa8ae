"""A manifest list pushed to the stack's registry by podman: the list and every image in it,
then found up to date (``tests/engines/test_multiplatform.py`` builds one locally)."""

from __future__ import annotations

import http.client
import json
import ssl
import uuid
from pathlib import Path

import pytest
from support.baseimages import BaseImages, multi_base, remove_list
from support.cli import cli_env, run_imagec
from support.engines import Engine
from support.registry import RunningRegistry

from imagec.backend.engine.platforms import platform_of

pytestmark = pytest.mark.engine

LIST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
IMAGE_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)


def registry_manifest(registry: RunningRegistry, repository: str, reference: str) -> dict:
    """A manifest as the registry serves it to a client that takes lists too."""
    import base64

    context = ssl.create_default_context(cafile=str(registry.ca_cert))
    conn = http.client.HTTPSConnection(registry.host, timeout=10, context=context)
    token = base64.b64encode(f"{registry.user}:{registry.password}".encode()).decode()
    headers = {"Accept": ", ".join(LIST_TYPES + IMAGE_TYPES), "Authorization": f"Basic {token}"}
    try:
        conn.request("GET", f"/v2/{repository}/manifests/{reference}", headers=headers)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 200, (response.status, body)
    return json.loads(body)


def test_podman_pushes_the_list_and_every_image(
    registry: RunningRegistry,
    podman_login: dict[str, str],
    podman_engine: Engine,
    podman_images: BaseImages,
    tmp_path: Path,
) -> None:
    with multi_base(podman_engine, podman_images) as base:
        build_and_push(registry, podman_login, podman_engine, base, tmp_path)


def build_and_push(
    registry: RunningRegistry, login: dict[str, str], engine: Engine, base: str, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    (root / ".imagec").mkdir(parents=True)
    (root / "run_id.txt").write_text(uuid.uuid4().hex)  # content no other run pushed
    (root / ".imagec" / "stack.yaml").write_text(
        "name: shared\ncomponents:\n  orchestrator: {flavor: local}\n"
        "  artifact_store: {flavor: local}\n  container_registry:\n"
        f"    flavor: default\n    config: {{uri: '{registry.host}/team'}}\n"
    )
    spec = root / "imagec.json"
    spec.write_text(
        json.dumps(
            {
                "image_name": "regtest/multi",
                "base_image": base,
                "platform": ["linux/amd64", "linux/arm64"],
                "install_imagec": False,  # no wheel of this checkout: a stable content hash
                "copy_stack": False,
            }
        )
    )
    env = cli_env({**login, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    argv = ["build", str(spec), "--backend", "podman", "--url", engine.url]
    argv += ["-O", "network=host"]
    result = run_imagec(*argv, env=env)
    ref = result.stdout.split()[-1] if result.returncode == 0 else ""
    try:
        assert result.returncode == 0, result.stderr
        state, list_id, ref = result.stdout.split()
        assert state == "built:"
        assert f"pushing {ref}" in result.stderr
        tag = ref.rpartition(":")[2]
        index = registry_manifest(registry, "team/regtest/multi", tag)
        assert index["mediaType"] in LIST_TYPES, index
        platforms = {platform_of(entry): entry["digest"] for entry in index["manifests"]}
        assert set(platforms) == {"linux/amd64", "linux/arm64"}
        for platform, digest in platforms.items():  # every image went with the list
            manifest = registry_manifest(registry, "team/regtest/multi", digest)
            assert manifest.get("layers") and manifest.get("config"), (platform, manifest)

        again = run_imagec(*argv, env=env)
        assert again.returncode == 0, again.stderr
        assert again.stdout == f"up to date: {list_id} {ref}\n"
        assert "pushing" not in again.stderr
    finally:
        if ref:
            remove_list(engine, ref)
