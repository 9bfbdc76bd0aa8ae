"""A Podman API session on podman-py's ``PodmanClient`` (imported here only)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from imagec.backend import Health
from imagec.backend.engine.connect import PING_TIMEOUT, root_cause, unreachable
from imagec.backend.engine.refs import split_tag
from imagec.backend.engine.session import BuildParams, ImageInfo
from imagec.errors import EngineError

if TYPE_CHECKING:
    import podman

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ROOTFUL_URL = "unix:///run/podman/podman.sock"
HOW_TO_START = (
    "start the service (`podman system service --time=0 {url} &`, or "
    "`systemctl [--user] start podman.socket`) or point CONTAINER_HOST or --url at a running "
    "one; install podman with `apt-get install podman` (`bash .ci/engines.sh` sets up "
    "imagec's test machines)"
)
SDK_MISSING = "the Podman SDK is not installed; install it with `pip install 'podman>=5'`"


def resolve_url(url: str | None) -> str:
    if url:
        return url
    if os.environ.get("CONTAINER_HOST"):
        return os.environ["CONTAINER_HOST"]
    if os.geteuid() == 0:
        return ROOTFUL_URL
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.geteuid()}"
    return f"unix://{runtime}/podman/podman.sock"


def _how(url: str) -> str:
    return HOW_TO_START.format(url=url)


def _client(url: str) -> podman.PodmanClient:
    import podman

    # ssh:// needs the identity CONTAINER_SSHKEY names, as podman's own remote client reads it.
    identity = os.environ.get("CONTAINER_SSHKEY")
    kwargs: dict[str, Any] = {"identity": identity} if identity and url.startswith("ssh") else {}
    return podman.PodmanClient(base_url=url, **kwargs)


def _ping(client: podman.PodmanClient) -> None:
    response = client.api.get("/_ping", timeout=PING_TIMEOUT)
    response.raise_for_status()


def health(url: str | None = None) -> Health:
    try:
        import podman  # noqa: F401
    except ImportError:
        return Health(False, SDK_MISSING)
    where = resolve_url(url)
    try:
        client = _client(where)
        try:
            _ping(client)
        finally:
            client.close()
    except Exception as exc:  # any SDK or socket failure means "not usable"
        short = (
            f"start `podman system service --time=0 {where}` or set CONTAINER_HOST; install "
            "with `apt-get install podman` (imagec's test machines: `bash .ci/engines.sh`)"
        )
        return Health(False, str(unreachable("podman", where, exc, short)))
    return Health(True)


@contextmanager
def connect(url: str | None) -> Iterator[PodmanSession]:
    try:
        import podman.errors
        import requests.exceptions
    except ImportError:
        raise EngineError(SDK_MISSING) from None
    where = resolve_url(url)
    try:
        client = _client(where)
        _ping(client)
    except (podman.errors.PodmanError, requests.exceptions.RequestException, OSError) as exc:
        raise unreachable("podman", where, exc, _how(where)) from None
    session = PodmanSession(client, where)
    try:
        yield session
    finally:
        session.close()


class PodmanSession:
    engine = "podman"

    def __init__(self, client: podman.PodmanClient, url: str) -> None:
        self.client = client
        self.url = url

    @contextmanager
    def _calls(self, what: str) -> Iterator[None]:
        """SDK and connection errors as one-line ``EngineError``s."""
        import podman.errors
        import requests.exceptions

        try:
            yield
        except podman.errors.APIError as exc:
            reason = " ".join(str(getattr(exc, "explanation", None) or exc).split())
            raise EngineError(f"podman: {what} failed: {reason}") from None
        except requests.exceptions.ConnectionError as exc:
            raise unreachable("podman", self.url, exc, _how(self.url)) from None
        except (requests.exceptions.RequestException, podman.errors.PodmanError) as exc:
            # e.g. the connection broke off in the middle of a build
            raise EngineError(f"podman: {what} failed: {root_cause(exc)}") from None
        except OSError as exc:
            raise unreachable("podman", self.url, exc, _how(self.url)) from None

    def image(self, ref: str) -> ImageInfo | None:
        import podman.errors

        with self._calls(f"inspecting {ref}"):
            try:
                image = self.client.images.get(ref)
            except podman.errors.ImageNotFound:
                return None
        return ImageInfo(_image_id(image.id), dict(image.labels or {}))

    def build(self, body: Iterable[bytes], params: BuildParams) -> Iterator[dict[str, Any]]:
        query: dict[str, Any] = {
            "dockerfile": params.build_file,
            "rm": True,
            "forcerm": True,  # no working container is left behind, also on failure
            "layers": True,  # each step is a cached layer, as with docker
            # Named explicitly: podman 4's API service leaves the cache unused without it.
            "outputformat": OCI_MANIFEST,
            "nocache": params.no_cache,
            "labels": json.dumps(params.labels),
        }
        if params.pull:
            # `pull=true` only pulls a missing base; `--pull` means always, as with docker.
            query["pullpolicy"] = "always"
        if params.build_args:
            query["buildargs"] = json.dumps(params.build_args)
        if params.platform:
            query["platform"] = params.platform
        if params.network:
            query["networkmode"] = params.network
        response = None
        try:
            with self._calls("build"):
                response = self.client.api.post(
                    "/build",
                    params=query,
                    data=body,
                    headers={"Content-Type": "application/x-tar"},
                    stream=True,
                )
                response.raise_for_status()
                for line in response.iter_lines():
                    if line:
                        yield json.loads(line)
        finally:
            if response is not None:
                response.close()  # hanging up stops the build

    def tag(self, image_id: str, ref: str) -> None:
        repo, tag = split_tag(ref)
        with self._calls(f"tagging {ref}"):
            if not self.client.images.get(image_id).tag(repo, tag):
                raise EngineError(f"podman: tagging {ref} failed")

    def remove_image(self, image_id: str) -> None:
        import podman.errors

        # In use or tagged elsewhere: not ours to force.
        with suppress(podman.errors.PodmanError, OSError):
            self.client.images.remove(image_id)

    def read_file(self, image_id: str, path: str) -> bytes | None:
        import podman.errors

        with self._calls(f"reading {path}"):
            container = self.client.containers.create(image_id, command=["true"])
            try:
                stream, _stat = container.get_archive(path)
                return b"".join(stream)
            except podman.errors.NotFound:
                return None
            finally:
                with suppress(podman.errors.PodmanError):
                    container.remove(force=True)

    def push(self, ref: str) -> Iterator[dict[str, Any]]:
        repo, tag = split_tag(ref)
        with self._calls(f"push of {ref}"):
            yield from self.client.images.push(repo, tag=tag, stream=True, decode=True)

    def close(self) -> None:
        self.client.close()


def _image_id(value: str) -> str:
    return value if value.startswith("sha256:") else f"sha256:{value}"
