"""A Podman API session on podman-py's ``PodmanClient`` (imported here only), and the build
endpoint's parameters, which ``imagec_podman.raw`` sends the same without it."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import suppress
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from imagec.backend.engine.connect import PING_TIMEOUT
from imagec.backend.engine.refs import split_tag
from imagec.backend.engine.sdk_session import SdkErrors, SdkSession
from imagec.backend.engine.session import BuildParams, ImageInfo

if TYPE_CHECKING:
    import podman

    from imagec.backend.engine.rawsession import RawSession

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ROOTFUL_URL = "unix:///run/podman/podman.sock"


def _client(url: str) -> podman.PodmanClient:
    import podman

    # ssh:// needs the identity CONTAINER_SSHKEY names, as podman's own remote client reads it.
    identity = os.environ.get("CONTAINER_SSHKEY")
    kwargs: dict[str, Any] = {"identity": identity} if identity and url.startswith("ssh") else {}
    return podman.PodmanClient(base_url=url, **kwargs)


class PodmanSession(SdkSession):
    engine = "podman"
    sdk = "podman"
    sdk_missing = "the Podman SDK is not installed; install it with `pip install 'podman>=5'`"
    client: podman.PodmanClient
    # Several platforms build a manifest list (imagec_podman.manifests).
    manifest_lists = True

    def __init__(self, client: Any, url: str) -> None:
        super().__init__(client, url)
        # Staging names of lists built by this session, dropped once the list is tagged.
        self._staging: list[str] = []

    @classmethod
    def errors(cls) -> SdkErrors:
        import podman.errors
        import requests.exceptions

        return SdkErrors(
            # ValueError: a URL podman-py cannot parse (an unknown scheme, a broken address).
            # SubprocessError: podman-py's ssh:// tunnel (an `ssh -L` child) did not come up.
            opening=(podman.errors.PodmanError, ValueError, OSError, subprocess.SubprocessError),
            refused=podman.errors.APIError,
            unreachable=(requests.exceptions.ConnectionError,),
            broken=(
                requests.exceptions.RequestException,
                podman.errors.PodmanError,
                subprocess.SubprocessError,
            ),
        )

    @classmethod
    def resolve_url(cls, url: str | None) -> str:
        if url:
            return url
        if os.environ.get("CONTAINER_HOST"):
            return os.environ["CONTAINER_HOST"]
        if os.geteuid() == 0:
            return ROOTFUL_URL
        runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.geteuid()}"
        return f"unix://{runtime}/podman/podman.sock"

    @classmethod
    def how_to_start(cls, url: str) -> str:
        return (
            f"start the service (`podman system service --time=0 {url} &`, or "
            "`systemctl [--user] start podman.socket`) or point CONTAINER_HOST or --url at a "
            "running one; install podman with `apt-get install podman` (`bash .ci/engines.sh` "
            "sets up imagec's test machines)"
        )

    @classmethod
    def short_how(cls, url: str) -> str:
        return (
            f"start `podman system service --time=0 {url}` or set CONTAINER_HOST; install "
            "with `apt-get install podman` (imagec's test machines: `bash .ci/engines.sh`)"
        )

    @classmethod
    def raw_class(cls) -> type[RawSession]:
        from imagec_podman.raw import PodmanRawSession

        return PodmanRawSession

    @classmethod
    def open(cls, url: str | None, where: str) -> podman.PodmanClient:
        client = _client(where)
        try:
            response = client.api.get("/_ping", timeout=PING_TIMEOUT)
            response.raise_for_status()
        except BaseException:
            client.close()
            raise
        return client

    def image(self, ref: str) -> ImageInfo | None:
        import podman.errors

        with self._calls(f"inspecting {ref}"):
            try:
                image = self.client.images.get(ref)
            except podman.errors.ImageNotFound:
                return None
        return ImageInfo(_image_id(image.id), dict(image.labels or {}))

    def build(self, body: Iterable[bytes], params: BuildParams) -> Iterator[dict[str, Any]]:
        query = build_query(params)
        staging = None
        if params.platform and "," in params.platform:
            from imagec_podman.manifests import build_query as list_query
            from imagec_podman.manifests import staging_name

            staging = staging_name()
            self._staging.append(staging)
            query.update(list_query(tuple(params.platform.split(",")), staging))
        body = with_secrets(query, body, params)
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
                if staging is not None:
                    # The log ends with the last platform's image id; the build's is the list's.
                    from imagec_podman.manifests import list_id

                    built = list_id(self.client.api, staging)
                    if built is not None:
                        yield {"aux": {"ID": built}}
        finally:
            if response is not None:
                response.close()  # hanging up stops the build

    def tag(self, image_id: str, ref: str) -> None:
        repo, tag = split_tag(ref)
        with self._calls(f"tagging {ref}"):
            # Straight to the tag endpoint, which takes a manifest list's id as the list (an
            # image lookup would give its image for this machine's platform).
            response = self.client.api.post(
                f"/images/{quote(image_id, safe='')}/tag", params={"repo": repo, "tag": tag}
            )
            response.raise_for_status()
            self._drop_staging()

    def remove_image(self, image_id: str) -> None:
        import podman.errors

        # In use or tagged elsewhere: not ours to force.
        with suppress(podman.errors.PodmanError, OSError):
            self._drop_staging()  # a list built here and never tagged goes with its name
            self.client.images.remove(image_id)

    def _drop_staging(self) -> None:
        from imagec_podman.manifests import drop_name

        while self._staging:
            drop_name(self.client.api, self._staging.pop())

    def manifest_list(self, ref: str, platforms: tuple[str, ...]) -> ImageInfo | None:
        from imagec_podman.manifests import list_info

        with self._calls(f"inspecting {ref}"):
            return list_info(self.client.api, ref, platforms)

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

    def pull(self, ref: str) -> Iterator[dict[str, Any]]:
        repo, tag = split_tag(ref)
        with self._calls(f"pull of {ref}"):
            yield from self.client.images.pull(repo, tag=tag, stream=True, decode=True)

    def run(self, image: str, argv: list[str], *, timeout: float) -> tuple[int, bytes, bytes]:
        import podman.errors

        with self._calls(f"running {image}"):
            container = self.client.containers.create(
                image, command=argv[1:], entrypoint=argv[:1], network_mode="none"
            )
            try:
                container.start()
                code = container.wait(timeout=timeout)
                out = _joined(container.logs(stdout=True, stderr=False))
                err = _joined(container.logs(stdout=False, stderr=True))
                return int(code), out, err
            finally:
                with suppress(podman.errors.PodmanError):
                    container.remove(force=True)

    def push(self, ref: str) -> Iterator[dict[str, Any]]:
        from imagec.backend.registry import login_for, parse

        repo, tag = split_tag(ref)
        # The service has no login of its own: as `podman --remote push` does, the client's
        # (podman login's auth file) goes along as X-Registry-Auth.
        reference = parse(ref)
        login = login_for(reference.host, "podman") if reference is not None else None
        auth = {"auth_config": login.auth_config()} if login is not None else {}
        with self._calls(f"push of {ref}"):
            from podman.api import encode_auth_header

            from imagec_podman import manifests

            if manifests.is_list(self.client.api, ref):  # the list and every image in it
                header = encode_auth_header(auth["auth_config"]).decode() if auth else ""
                yield from manifests.push(self.client.api, ref, header)
                return
            yield from self.client.images.push(repo, tag=tag, stream=True, decode=True, **auth)


connect = PodmanSession.connect
build_session = PodmanSession.build_session
health = PodmanSession.health
inspect_session = PodmanSession.inspect_session


def build_query(params: BuildParams) -> dict[str, Any]:
    """The libpod build endpoint's parameters, several platforms aside (``manifests``)."""
    query: dict[str, Any] = {
        "dockerfile": params.build_file,
        "rm": "true",
        "forcerm": "true",  # no working container is left behind, also on failure
        "layers": "true",  # each step is a cached layer, as with docker
        # Named explicitly: podman 4's API service leaves the cache unused without it.
        "outputformat": OCI_MANIFEST,
        "nocache": "true" if params.no_cache else "false",
        "labels": json.dumps(params.labels),
    }
    if params.pull:
        # `pull=true` only pulls a missing base; `--pull` means always, as with docker.
        query["pullpolicy"] = "always"
    if params.build_args:
        query["buildargs"] = json.dumps(params.build_args)
    if params.platform and "," not in params.platform:
        query["platform"] = params.platform
    if params.network:
        query["networkmode"] = params.network
    if params.target:
        query["target"] = params.target
    return query


def with_secrets(
    query: dict[str, Any], body: Iterable[bytes], params: BuildParams
) -> Iterable[bytes]:
    """``body`` with the build's secrets spliced in, and ``query`` naming them."""
    if not params.secrets:
        return body
    from imagec_podman.secrets import secret_members, splice

    names, members = secret_members(params.secrets)
    query["secrets"] = json.dumps(names)
    return splice(body, members)


def _image_id(value: str) -> str:
    return value if value.startswith("sha256:") else f"sha256:{value}"


def _joined(logs: bytes | Iterable[bytes]) -> bytes:
    return logs if isinstance(logs, bytes) else b"".join(logs)
