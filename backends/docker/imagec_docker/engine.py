"""A Docker engine session on docker-py's low-level ``APIClient`` (imported here only)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from imagec.backend.engine.connect import PING_TIMEOUT
from imagec.backend.engine.refs import split_tag
from imagec.backend.engine.sdk_session import SdkErrors, SdkSession
from imagec.backend.engine.session import BuildParams, ImageInfo

if TYPE_CHECKING:
    import docker

DEFAULT_URL = "unix:///var/run/docker.sock"
MIN_API = "1.24"  # for the first contact only: no request carries it
TIMEOUT = 300  # seconds between messages of a push or an inspect; builds have none


def _client_kwargs(url: str | None) -> dict[str, Any]:
    """What ``docker.from_env()`` would use (TLS included), with ``url`` overriding the host."""
    from docker.utils import kwargs_from_env

    from imagec_docker.tls import own_ca

    kwargs = kwargs_from_env()
    if url:
        kwargs["base_url"] = url
        if url.startswith(("unix://", "npipe://")):
            kwargs.pop("tls", None)
    return own_ca(kwargs)


def _ping(api: docker.APIClient) -> None:
    # Unversioned, like the docker CLI's: engines answer it whatever API versions they take.
    response = api.get(f"{api.base_url}/_ping", timeout=PING_TIMEOUT)
    response.raise_for_status()


class DockerSession(SdkSession):
    engine = "docker"
    sdk = "docker"
    sdk_missing = "the Docker SDK is not installed; install it with `pip install 'docker>=7'`"
    client: docker.APIClient

    def __init__(self, client: docker.APIClient, url: str) -> None:
        super().__init__(client, url)
        self._responses: list[Any] = []

    @property
    def api(self) -> docker.APIClient:
        return self.client

    @classmethod
    def errors(cls) -> SdkErrors:
        import docker.errors
        import requests.exceptions

        return SdkErrors(
            opening=(docker.errors.DockerException, OSError),
            refused=docker.errors.APIError,
            unreachable=(requests.exceptions.ConnectionError,),
            broken=(requests.exceptions.RequestException,),
        )

    @classmethod
    def resolve_url(cls, url: str | None) -> str:
        return url or os.environ.get("DOCKER_HOST") or DEFAULT_URL

    @classmethod
    def how_to_start(cls, url: str) -> str:
        return (
            "start the engine (`dockerd`, or `systemctl start docker`) or point DOCKER_HOST or "
            "--url at a running one; install it with `apt-get install docker.io` "
            "(`bash .ci/engines.sh` sets up imagec's test machines)"
        )

    @classmethod
    def short_how(cls, url: str) -> str:
        return (
            "start `dockerd` or set DOCKER_HOST; install with `apt-get install docker.io` "
            "(imagec's test machines: `bash .ci/engines.sh`)"
        )

    @classmethod
    def plain_http(cls, where: str) -> bool:
        # TLS (as docker-py reads it from the environment) is the SDK's to speak.
        tls = os.environ.get("DOCKER_TLS_VERIFY") or os.environ.get("DOCKER_CERT_PATH")
        return super().plain_http(where) and not (tls and where.startswith("tcp://"))

    @classmethod
    def probe(cls, url: str | None, where: str) -> None:
        import docker

        probe = docker.APIClient(version=MIN_API, timeout=PING_TIMEOUT, **_client_kwargs(url))
        try:
            _ping(probe)
        finally:
            probe.close()

    @classmethod
    def open(cls, url: str | None, where: str) -> docker.APIClient:
        import docker

        # A short first contact, so a dead host fails fast; then the negotiated API version.
        # (docker-py reads DOCKER_HOST and the TLS variables itself: ``url`` stays None.)
        cls.probe(url, where)
        return docker.APIClient(version="auto", timeout=TIMEOUT, **_client_kwargs(url))

    def image(self, ref: str) -> ImageInfo | None:
        import docker.errors

        with self._calls(f"inspecting {ref}"):
            try:
                attrs = self.api.inspect_image(ref)
            except docker.errors.NotFound:
                return None
        labels = (attrs.get("Config") or {}).get("Labels") or {}
        return ImageInfo(attrs["Id"], dict(labels))

    def build(self, body: Iterable[bytes], params: BuildParams) -> Iterator[dict[str, Any]]:
        # The SDK's stream does not close its HTTP response when abandoned; keep a handle
        # on it (a requests response hook) so an interrupted build hangs up at once.
        def keep(response: Any, **_: Any) -> None:
            self._responses.append(response)

        self.api.hooks["response"].append(keep)
        try:
            with self._calls("build"):
                messages = self.api.build(
                    fileobj=body,
                    custom_context=True,
                    dockerfile=params.build_file,
                    rm=True,
                    forcerm=True,  # no build container is left behind, also on failure
                    decode=True,
                    nocache=params.no_cache,
                    pull=params.pull,
                    buildargs=params.build_args or None,
                    labels=params.labels,
                    network_mode=params.network,
                    platform=params.platform,
                    target=params.target,
                    timeout=None,  # a RUN step may print nothing for a long time
                )
                yield from messages
        finally:
            self.api.hooks["response"].remove(keep)
            for response in self._responses:
                response.close()
            self._responses.clear()

    def tag(self, image_id: str, ref: str) -> None:
        repo, tag = split_tag(ref)
        with self._calls(f"tagging {ref}"):
            self.api.tag(image_id, repo, tag)

    def remove_image(self, image_id: str) -> None:
        import docker.errors

        # In use or tagged elsewhere: not ours to force. Its parents are the layer cache.
        with suppress(docker.errors.APIError, OSError):
            self.api.remove_image(image_id, noprune=True)

    def read_file(self, image_id: str, path: str) -> bytes | None:
        import docker.errors

        with self._calls(f"reading {path}"):
            container = self.api.create_container(image_id, command=["true"], entrypoint=[])
            try:
                stream, _stat = self.api.get_archive(container["Id"], path)
                return b"".join(stream)
            except docker.errors.NotFound:
                return None
            finally:
                with suppress(docker.errors.APIError):
                    self.api.remove_container(container["Id"], force=True)

    def pull(self, ref: str) -> Iterator[dict[str, Any]]:
        repo, tag = split_tag(ref)
        with self._calls(f"pull of {ref}"):
            yield from self.api.pull(repo, tag=tag, stream=True, decode=True)

    def run(self, image: str, argv: list[str], *, timeout: float) -> tuple[int, bytes, bytes]:
        import docker.errors

        with self._calls(f"running {image}"):
            container = self.api.create_container(
                image, command=argv[1:], entrypoint=argv[:1], network_disabled=True
            )
            try:
                self.api.start(container["Id"])
                status = self.api.wait(container["Id"], timeout=timeout)
                out = self.api.logs(container["Id"], stdout=True, stderr=False)
                err = self.api.logs(container["Id"], stdout=False, stderr=True)
                return int(status.get("StatusCode", -1)), out, err
            finally:
                with suppress(docker.errors.APIError):
                    self.api.remove_container(container["Id"], force=True)

    def push(self, ref: str) -> Iterator[dict[str, Any]]:
        repo, tag = split_tag(ref)
        with self._calls(f"push of {ref}"):
            yield from self.api.push(repo, tag=tag, stream=True, decode=True)


connect = DockerSession.connect
health = DockerSession.health
inspect_session = DockerSession.inspect_session
