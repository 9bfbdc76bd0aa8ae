"""A small client of the registry API (OCI distribution, v2): does a tag exist, and what are
its manifest and config labels -- without pulling anything.

Credentials are the engine's own: the docker CLI's ``config.json`` (``DOCKER_CONFIG``, else
``~/.docker``) or podman's auth file (``REGISTRY_AUTH_FILE``, else
``$XDG_RUNTIME_DIR/containers/auth.json``, ``~/.config/containers/auth.json``, then the
docker file), each with its credential helpers (``credHelpers``, ``credsStore``). Nothing in
a spec or a stack ever holds one. TLS trusts the system's CAs plus the per-registry
directories the engine reads (``/etc/docker/certs.d/HOST:PORT/*.crt``, podman also
``/etc/containers/certs.d``), client certificates (``*.cert`` + ``*.key``) included.

Every request has a timeout and every body read is bounded; a failure is one
``EngineError`` line that says what was tried and how to fix it. The shape of a lookup::

    HEAD/GET https://HOST/v2/NAME/manifests/TAG  -> 401 WWW-Authenticate: Basic | Bearer
    (Bearer: GET realm?service=..&scope=repository:NAME:pull with the login -> token)
    GET .../manifests/TAG (Authorization)        -> manifest (an index: this platform's)
    GET https://HOST/v2/NAME/blobs/CONFIG         -> config: labels, created
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import platform
import re
import socket
import ssl
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from imagec.errors import EngineError
from imagec.model.reference import REFERENCE_RE

TIMEOUT = 10.0  # seconds per connect and per read
# A whole request, however slowly the server drips its answer (TIMEOUT is per read).
REQUEST_DEADLINE = 30.0
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
MANIFEST_LIMIT = 4 * 1024 * 1024  # the distribution registry's own limit for a manifest
CONFIG_LIMIT = 8 * 1024 * 1024
TOKEN_LIMIT = 1024 * 1024
AUTH_FILE_LIMIT = 1024 * 1024
HELPER_TIMEOUT = 10.0
MAX_REDIRECTS = 3

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
ACCEPT = ", ".join((OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_LIST))
INDEXES = (OCI_INDEX, DOCKER_LIST)

DOCKER_CERTS = (Path("/etc/docker/certs.d"),)
PODMAN_CERTS = (Path("/etc/containers/certs.d"), Path("/etc/docker/certs.d"))


@dataclass(frozen=True)
class Reference:
    """``host[:port]/path:tag`` split the way the registry API needs it."""

    host: str
    path: str
    tag: str

    @property
    def ref(self) -> str:
        return f"{self.host}/{self.path}:{self.tag}"


def parse(ref: str) -> Reference | None:
    """The registry part of ``ref``, or None when ``ref`` names no registry host (a bare
    ``team/app`` is Docker Hub's, which imagec does not query)."""
    m = REFERENCE_RE.match(ref)
    if not m:
        return None
    first, sep, rest = m.group("name").partition("/")
    if not sep or not ("." in first or ":" in first or first == "localhost"):
        return None
    return Reference(first, rest, m.group("tag") or "latest")


class Unreachable(EngineError):
    """No answer from the registry at all (refused, unresolvable, silent)."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(
            f"cannot reach the registry {host} ({reason}); check that it runs and the "
            "address in the stack's container_registry"
        )
        self.host = host
        self.reason = reason


@dataclass(frozen=True)
class RemoteImage:
    ref: str
    digest: str  # the manifest's digest (what the registry names it by)
    config_digest: str  # the image id engines give it once pulled
    labels: dict[str, str] = field(default_factory=dict)
    created: str | None = None


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    source: str  # where it came from, for messages (a file, a helper): never the secret

    def basic(self) -> str:
        return base64.b64encode(f"{self.username}:{self.password}".encode()).decode()

    def auth_config(self) -> dict[str, str]:
        """What an engine API takes as ``X-Registry-Auth``."""
        return {"username": self.username, "password": self.password}


# -- the engine's login ----------------------------------------------------------------------


def auth_files(engine: str, environ: Mapping[str, str] = os.environ) -> list[Path]:
    """Where ``engine``'s own login lives, in the order its CLI reads them."""
    home = Path(environ.get("HOME") or os.path.expanduser("~"))
    docker_dir = Path(environ["DOCKER_CONFIG"]) if environ.get("DOCKER_CONFIG") else None
    docker = (docker_dir or home / ".docker") / "config.json"
    if engine == "docker":
        return [docker]
    if environ.get("REGISTRY_AUTH_FILE"):
        return [Path(environ["REGISTRY_AUTH_FILE"])]
    if environ.get("XDG_RUNTIME_DIR"):
        runtime_file = Path(environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"
    elif os.geteuid() == 0:
        runtime_file = Path("/run/containers/0/auth.json")
    else:
        runtime_file = Path(f"/run/user/{os.geteuid()}/containers/auth.json")
    config_home = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    return [runtime_file, config_home / "containers" / "auth.json", docker]


def login_for(host: str, engine: str) -> Login | None:
    """The engine's login for ``host``: the first auth file that has an entry or a helper."""
    for path in auth_files(engine):
        data = _read_json(path, AUTH_FILE_LIMIT)
        if not isinstance(data, dict):
            continue
        helper = (data.get("credHelpers") or {}).get(host)
        entry = (data.get("auths") or {}).get(host) or (data.get("auths") or {}).get(
            f"https://{host}"
        )
        if isinstance(entry, dict) and entry.get("auth"):
            try:
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise EngineError(f"the login for {host} in {path} is not valid base64") from None
            return Login(user, password, str(path))
        if isinstance(entry, dict) and entry.get("identitytoken"):
            return Login("<token>", str(entry["identitytoken"]), str(path))
        helper = helper or data.get("credsStore")
        if isinstance(helper, str) and helper:
            found = _from_helper(helper, host)
            if found is not None:
                return found
    return None


def _from_helper(helper: str, host: str) -> Login | None:
    """``docker-credential-<helper> get`` (the protocol docker and podman both speak)."""
    program = f"docker-credential-{helper}"
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", helper):
        raise EngineError(f"credential helper name {helper!r} is not a program name")
    try:
        proc = subprocess.run(
            [program, "get"],
            input=host.encode(),
            capture_output=True,
            timeout=HELPER_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise EngineError(
            f"the login for {host} is kept by {program}, which is not on PATH"
        ) from None
    except subprocess.TimeoutExpired:
        raise EngineError(f"{program} did not answer within {HELPER_TIMEOUT:.0f}s") from None
    if proc.returncode != 0:
        return None  # "credentials not found in native keychain"
    try:
        data = json.loads(proc.stdout[:AUTH_FILE_LIMIT])
        return Login(str(data["Username"]), str(data["Secret"]), program)
    except (ValueError, KeyError, TypeError):
        raise EngineError(f"{program} answered something that is not a credential") from None


def _read_json(path: Path, limit: int) -> Any:
    try:
        with path.open("rb") as f:
            raw = f.read(limit + 1)
    except OSError:
        return None
    if len(raw) > limit:
        raise EngineError(f"{path} is larger than {limit} bytes")
    try:
        return json.loads(raw)
    except ValueError:
        raise EngineError(f"{path} is not JSON") from None


# -- TLS -------------------------------------------------------------------------------------


def tls_context(host: str, engine: str) -> ssl.SSLContext:
    """The system's CAs plus what the engine trusts for ``host`` (its certs.d directory)."""
    context = ssl.create_default_context()
    for base in DOCKER_CERTS if engine == "docker" else PODMAN_CERTS:
        directory = base / host
        if not directory.is_dir():
            continue
        for cert in sorted(directory.glob("*.crt")):
            context.load_verify_locations(cafile=str(cert))
        for cert in sorted(directory.glob("*.cert")):
            key = cert.with_suffix(".key")
            if key.is_file():
                context.load_cert_chain(str(cert), str(key))
    return context


def trust_hint(host: str, engine: str) -> str:
    where = DOCKER_CERTS[0] if engine == "docker" else PODMAN_CERTS[0]
    return f"put the registry's CA certificate in {where}/{host}/ca.crt"


# -- the API ---------------------------------------------------------------------------------


class Registry:
    """One registry host, spoken to with one engine's login and trust."""

    def __init__(self, host: str, engine: str) -> None:
        self.host = host
        self.engine = engine
        self._context: ssl.SSLContext | None = None
        self._authorization: str | None = None
        self._login: Login | None = None
        self._login_read = False

    def image(self, ref: str) -> RemoteImage | None:
        """The image ``ref`` names in this registry (manifest and config), or None."""
        reference = parse(ref)
        if reference is None or reference.host != self.host:
            raise EngineError(f"{ref} does not name an image in the registry {self.host}")
        scope = f"repository:{reference.path}:pull"
        path = f"/v2/{reference.path}/manifests/{reference.tag}"
        status, headers, body = self._get(path, scope, {"Accept": ACCEPT}, MANIFEST_LIMIT)
        if status == 404:
            return None
        manifest = _json(body, f"the manifest of {ref}")
        digest = headers.get("docker-content-digest") or ""
        media = manifest.get("mediaType") or headers.get("content-type", "")
        if media in INDEXES or "manifests" in manifest:
            chosen = _this_platform(manifest.get("manifests") or [])
            if chosen is None:
                raise EngineError(f"{ref} in {self.host} has no image for this platform")
            if not DIGEST.fullmatch(str(chosen.get("digest"))):
                raise EngineError(f"{ref} in {self.host}: its index names no sha256 digest")
            status, _headers, body = self._get(
                f"/v2/{reference.path}/manifests/{chosen['digest']}",
                scope,
                {"Accept": ACCEPT},
                MANIFEST_LIMIT,
            )
            manifest = _json(body, f"the manifest of {ref}")
        config_digest = str(_object(manifest.get("config")).get("digest") or "")
        if not DIGEST.fullmatch(config_digest):
            raise EngineError(f"{ref} in {self.host} has a manifest without an image config")
        _status, _headers, body = self._get(
            f"/v2/{reference.path}/blobs/{config_digest}", scope, {}, CONFIG_LIMIT
        )
        config = _json(body, f"the config of {ref}")
        labels = _object(_object(config.get("config")).get("Labels"))
        if not all(isinstance(v, str) for v in labels.values()):
            raise EngineError(f"the config of {ref} has labels that are not strings")
        created = config.get("created")
        created = created if isinstance(created, str) else None
        return RemoteImage(ref, digest, config_digest, dict(labels), created)

    # -- transport ---------------------------------------------------------------------------

    def _get(
        self, path: str, scope: str, headers: dict[str, str], limit: int
    ) -> tuple[int, dict[str, str], bytes]:
        status, got, body = self._request(path, headers, limit, self._authorization)
        if status == 401:
            self._authorization = self._authorize(got.get("www-authenticate", ""), scope)
            status, got, body = self._request(path, headers, limit, self._authorization)
            if status == 401:
                raise self._refused()
        if status == 403:
            raise self._refused()
        if status not in (200, 404):
            raise EngineError(
                f"the registry {self.host} answered {status} to GET {path}: {_snippet(body)}"
            )
        return status, got, body

    def _request(
        self, path: str, headers: dict[str, str], limit: int, authorization: str | None
    ) -> tuple[int, dict[str, str], bytes]:
        host, target = self.host, path
        for _ in range(MAX_REDIRECTS + 1):
            sent = dict(headers)
            if authorization and host == self.host:
                sent["Authorization"] = authorization  # never to another host
            status, got, body = self._once(host, target, sent, limit)
            if status in (301, 302, 303, 307, 308) and got.get("location"):
                url = urlsplit(got["location"])
                host = url.netloc or host
                target = (url.path or "/") + (f"?{url.query}" if url.query else "")
                continue
            return status, got, body
        raise EngineError(f"the registry {self.host} redirected GET {path} too often")

    def _once(
        self, host: str, target: str, headers: dict[str, str], limit: int
    ) -> tuple[int, dict[str, str], bytes]:
        if self._context is None:
            self._context = tls_context(self.host, self.engine)
        conn = http.client.HTTPSConnection(host, timeout=TIMEOUT, context=self._context)
        expired = threading.Event()
        # A server answering a byte every few seconds never trips TIMEOUT: the request as a
        # whole is cut off at REQUEST_DEADLINE by shutting its socket down.
        opened: list[socket.socket] = []  # the connection lets go of it once the answer starts
        deadline = threading.Timer(REQUEST_DEADLINE, _cut, args=(conn, opened, expired))
        deadline.daemon = True
        deadline.start()
        try:
            conn.connect()
            opened.append(conn.sock)
            conn.request("GET", target, headers={"User-Agent": "imagec", **headers})
            response = conn.getresponse()
            body = response.read(limit + 1)
            if expired.is_set():
                raise TimeoutError
            if len(body) > limit:
                raise EngineError(f"the registry {host} sent more than {limit} bytes for {target}")
            got = {k.lower(): v for k, v in response.getheaders()}
            return response.status, got, body
        except ssl.SSLCertVerificationError as exc:
            reason = exc.verify_message or str(exc)
            raise EngineError(
                f"the registry {host} presented a TLS certificate that is not trusted "
                f"({reason}); {trust_hint(host, self.engine)}"
            ) from None
        except ssl.SSLError as exc:
            if expired.is_set():
                raise _too_slow(host) from None
            reason = exc.reason or str(exc)
            raise EngineError(f"TLS with the registry {host} failed ({reason})") from None
        except TimeoutError:
            if expired.is_set():
                raise _too_slow(host) from None
            raise Unreachable(host, f"no answer within {TIMEOUT:.0f}s") from None
        except OSError as exc:
            if expired.is_set():
                raise _too_slow(host) from None
            raise Unreachable(host, exc.strerror or str(exc)) from None
        except http.client.HTTPException as exc:
            if expired.is_set():
                raise _too_slow(host) from None
            raise EngineError(f"the registry {host} broke off ({type(exc).__name__})") from None
        except ValueError:  # http.client.InvalidURL: a redirect to a target it cannot send
            if expired.is_set():  # or a read of the TLS socket the deadline shut
                raise _too_slow(host) from None
            raise EngineError(f"the registry {host} redirected to an invalid address") from None
        finally:
            deadline.cancel()
            conn.close()

    def login(self) -> Login | None:
        if not self._login_read:
            self._login = login_for(self.host, self.engine)
            self._login_read = True
        return self._login

    def _authorize(self, challenge: str, scope: str) -> str:
        scheme, params = _challenge(challenge)
        login = self.login()
        if scheme == "basic":
            if login is None:
                raise self._refused()
            return f"Basic {login.basic()}"
        if scheme != "bearer" or not params.get("realm"):
            raise EngineError(f"the registry {self.host} asks for unknown auth {challenge!r}")
        realm = urlsplit(params["realm"])
        if realm.scheme != "https":
            raise EngineError(f"the registry {self.host} sends logins to {realm.scheme}://")
        query = {"service": params.get("service", ""), "scope": params.get("scope") or scope}
        target = (realm.path or "/") + "?" + urlencode(query)
        headers = {"Authorization": f"Basic {login.basic()}"} if login else {}
        status, _got, body = self._once(realm.netloc, target, headers, TOKEN_LIMIT)
        if status != 200:
            raise self._refused()
        data = _json(body, f"the token from {realm.netloc}")
        token = data.get("token") or data.get("access_token")
        if not isinstance(token, str):
            raise EngineError(f"{realm.netloc} sent no token")
        return f"Bearer {token}"

    def _refused(self) -> EngineError:
        login = self.login()
        cli = "docker" if self.engine == "docker" else "podman"
        if login is None:
            places = ", ".join(str(p) for p in auth_files(self.engine))
            return EngineError(
                f"the registry {self.host} needs a login and {self.engine} has none for it "
                f"(looked in {places}); run `{cli} login {self.host}`"
            )
        return EngineError(
            f"the registry {self.host} refused the login of {login.username!r} (from "
            f"{login.source}); run `{cli} login {self.host}` again"
        )


def _cut(
    conn: http.client.HTTPConnection, opened: list[socket.socket], expired: threading.Event
) -> None:
    """End a request that took too long: its reads return at once."""
    expired.set()
    for sock in [*opened, conn.sock]:
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _too_slow(host: str) -> EngineError:
    return EngineError(
        f"the registry {host} took longer than {REQUEST_DEADLINE:.0f}s to answer; check the "
        "address in the stack's container_registry"
    )


def _object(value: Any) -> dict[str, Any]:
    """``value`` when a registry's JSON has an object there, else empty."""
    return value if isinstance(value, dict) else {}


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="https://auth/token",service="reg"`` -> (``bearer``, {...})."""
    scheme, _, rest = header.strip().partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


def _this_platform(manifests: list[dict[str, Any]]) -> dict[str, Any] | None:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    for entry in manifests if isinstance(manifests, list) else []:
        if not isinstance(entry, dict):
            continue
        plat = _object(entry.get("platform"))
        if plat.get("os") == "linux" and plat.get("architecture") == arch:
            return entry
    return None


def _json(body: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise EngineError(f"{what} is not JSON (or nested too deeply)") from None
    if not isinstance(data, dict):
        raise EngineError(f"{what} is not a JSON object")
    return data


def _snippet(body: bytes) -> str:
    return " ".join(body[:200].decode("utf-8", "replace").split())
