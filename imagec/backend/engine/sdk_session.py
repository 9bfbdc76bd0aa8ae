"""The skeleton docker and podman sessions share: where to connect, health, connect, and SDK
errors turned into one-line ``EngineError``s.

An engine module subclasses :class:`SdkSession` with only what its engine knows (default
URL, how to start it, how its SDK opens a client, which exceptions mean what) and exports
``connect = XSession.connect``, ``health = XSession.health`` and
``inspect_session = XSession.inspect_session``. Imports no SDK and no ``requests``: a
subclass's hooks import those, and only when a session is asked for.

The health ping and image inspection go to the engine's HTTP API directly (``rawhttp``,
:class:`ApiSession`) when the URL is a unix socket or plain TCP: ``imagec backends`` and
``imagec inspect`` then never import an SDK (~0.1 s each). TLS and ``ssh://`` take the SDK.
``build_session`` does the same for ``imagec build`` where the engine has a ``raw_class``
(``rawsession``; podman's), opening the SDK session only for the calls that class leaves to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any, ClassVar, Self
from urllib.parse import quote

from imagec.backend.base import Health
from imagec.backend.engine import rawhttp
from imagec.backend.engine.connect import PING_TIMEOUT, root_cause, unreachable
from imagec.backend.engine.session import ImageInfo
from imagec.errors import EngineError

if TYPE_CHECKING:
    from imagec.backend.engine.rawsession import RawSession


@dataclass(frozen=True)
class SdkErrors:
    """An SDK's exception classes, by what each means to the user."""

    # Opening a client and the first contact: "cannot reach the engine at URL (reason)".
    opening: tuple[type[BaseException], ...]
    # The engine answered a call with an error: "<engine>: <what> failed: <its explanation>".
    refused: type[BaseException]
    # A call could not connect: "cannot reach the engine at URL (reason)".
    unreachable: tuple[type[BaseException], ...]
    # Anything else the SDK or its transport raises mid-call (a connection broken off in the
    # middle of a build): "<engine>: <what> failed: <root cause>".
    broken: tuple[type[BaseException], ...]


class SdkSession:
    """An open client of one engine's SDK; subclasses add the ``EngineSession`` calls."""

    engine: ClassVar[str]  # "docker", "podman": in every message
    sdk: ClassVar[str]  # the SDK's top-level module: "docker", "podman"
    sdk_missing: ClassVar[str]  # the one line when the SDK cannot be imported

    def __init__(self, client: Any, url: str) -> None:
        self.client = client
        self.url = url

    # -- what each engine says ------------------------------------------------------------

    @classmethod
    def errors(cls) -> SdkErrors:
        """The SDK's exceptions; importing them is the check that the SDK is installed
        (``ImportError`` otherwise)."""
        raise NotImplementedError

    @classmethod
    def resolve_url(cls, url: str | None) -> str:
        """Where a session connects: ``url`` (``--url``), else the engine's variable, else
        its default socket."""
        raise NotImplementedError

    @classmethod
    def how_to_start(cls, url: str) -> str:
        """The fix appended to an unreachable-engine error."""
        raise NotImplementedError

    @classmethod
    def short_how(cls, url: str) -> str:
        """The same fix, short enough for the ``imagec backends`` table."""
        raise NotImplementedError

    @classmethod
    def open(cls, url: str | None, where: str) -> Any:
        """A client that has answered a first, short contact; SDK errors propagate.

        ``url`` is what the user gave (None: the defaults), ``where`` its resolution."""
        raise NotImplementedError

    @classmethod
    def probe(cls, url: str | None, where: str) -> None:
        """One short contact, for ``health``; by default ``open`` and close."""
        cls.open(url, where).close()

    @classmethod
    def raw_class(cls) -> type[RawSession] | None:
        """The ``RawSession`` subclass ``build_session`` uses on plain HTTP; None: the SDK's
        session only."""
        return None

    @classmethod
    def plain_http(cls, where: str) -> bool:
        """Does the engine at ``where`` speak plain HTTP that ``rawhttp`` can reach?"""
        return rawhttp.plain_address(where) is not None

    # -- the same for every engine ----------------------------------------------------------

    @classmethod
    def health(cls, url: str | None = None) -> Health:
        # The SDK is looked for, not imported: builds need it, the ping does not.
        if find_spec(cls.sdk) is None:
            return Health(False, cls.sdk_missing)
        where = cls.resolve_url(url)
        if cls.plain_http(where):
            try:
                status, _ = rawhttp.request(where, "GET", "/_ping", timeout=PING_TIMEOUT)
            except OSError as exc:
                return Health(False, str(unreachable(cls.engine, where, exc, cls.short_how(where))))
            if status == 200:
                return Health(True)
            reason = f"/_ping answered HTTP {status}"
            return Health(False, str(unreachable(cls.engine, where, reason, cls.short_how(where))))
        try:
            errors = cls.errors()
        except ImportError:
            return Health(False, cls.sdk_missing)
        try:
            cls.probe(url, where)
        except errors.opening as exc:
            return Health(False, str(unreachable(cls.engine, where, exc, cls.short_how(where))))
        return Health(True)

    @classmethod
    @contextmanager
    def inspect_session(cls, url: str | None) -> Iterator[Any]:
        """A session for ``imagec inspect`` (``image``, ``read_file``): the engine's API
        spoken directly where it is plain HTTP, else an SDK session."""
        if find_spec(cls.sdk) is None:
            raise EngineError(cls.sdk_missing)
        where = cls.resolve_url(url)
        if not cls.plain_http(where):
            with cls.connect(url) as session:
                yield session
            return
        yield ApiSession(cls.engine, where, cls.how_to_start(where))

    @classmethod
    @contextmanager
    def build_session(cls, url: str | None) -> Iterator[Any]:
        """A session for ``imagec build``: where the engine's API is plain HTTP and the engine
        has a ``raw_class``, that (``rawsession``: the usual calls without the SDK), else an
        SDK session."""
        if find_spec(cls.sdk) is None:
            raise EngineError(cls.sdk_missing)
        where = cls.resolve_url(url)
        raw = cls.raw_class() if cls.plain_http(where) else None
        if raw is None:
            with cls.connect(url) as session:
                yield session
            return
        session = raw.checked(cls.engine, where, cls.how_to_start(where), lambda: cls.connect(url))
        try:
            yield session
        finally:
            session.close()

    @classmethod
    @contextmanager
    def connect(cls, url: str | None) -> Iterator[Self]:
        try:
            errors = cls.errors()
        except ImportError:
            raise EngineError(cls.sdk_missing) from None
        where = cls.resolve_url(url)
        try:
            client = cls.open(url, where)
        except errors.opening as exc:
            raise unreachable(cls.engine, where, exc, cls.how_to_start(where)) from None
        session = cls(client, where)
        try:
            yield session
        finally:
            session.close()

    @contextmanager
    def _calls(self, what: str) -> Iterator[None]:
        """SDK and connection errors as one-line ``EngineError``s."""
        errors = self.errors()
        try:
            yield
        except errors.refused as exc:
            reason = " ".join(str(getattr(exc, "explanation", None) or exc).split())
            raise EngineError(f"{self.engine}: {what} failed: {reason}") from None
        except errors.unreachable as exc:
            raise self._unreachable(exc) from None
        except errors.broken as exc:
            raise EngineError(f"{self.engine}: {what} failed: {root_cause(exc)}") from None
        except OSError as exc:
            raise self._unreachable(exc) from None

    def _unreachable(self, exc: BaseException) -> EngineError:
        return unreachable(self.engine, self.url, exc, self.how_to_start(self.url))

    def alive(self) -> bool:
        """Does the engine still answer one short contact (after a build broke off)?"""
        try:
            self.probe(self.url, self.url)
        except Exception:
            return False
        return True

    def close(self) -> None:
        self.client.close()


class ApiSession:
    """The two calls ``imagec inspect`` makes, on the engine's (docker-compatible) HTTP API;
    errors are the SDK sessions' one-line ``EngineError``s."""

    def __init__(self, engine: str, url: str, how_to_start: str) -> None:
        self.engine = engine
        self.url = url
        self._how = how_to_start

    def _call(
        self, what: str, method: str, path: str, body: Any = None, *, absent_ok: bool = True
    ) -> tuple[int, bytes]:
        """(status, body) of one request; 404 is an answer when ``absent_ok``."""
        data = None if body is None else json.dumps(body).encode()
        try:
            status, answer = rawhttp.request(self.url, method, path, data)
        except OSError as exc:
            raise unreachable(self.engine, self.url, exc, self._how) from None
        if status >= 400 and not (absent_ok and status == 404):
            raise self._refused(what, status, answer)
        return status, answer

    def _refused(self, what: str, status: int, answer: bytes) -> EngineError:
        """An error answer as the SDK sessions word it: the engine's ``message``."""
        try:
            reason = json.loads(answer).get("message") or ""
        except (ValueError, AttributeError):
            reason = ""
        reason = " ".join(str(reason).split()) or f"HTTP {status}"
        return EngineError(f"{self.engine}: {what} failed: {reason}")

    def image(self, ref: str) -> ImageInfo | None:
        what = f"inspecting {ref}"
        status, answer = self._call(what, "GET", f"/images/{quote(ref, safe='/:@')}/json")
        if status == 404:
            return None
        try:
            attrs = json.loads(answer)
            image_id = str(attrs["Id"])
            labels = (attrs.get("Config") or {}).get("Labels") or {}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise EngineError(f"{self.engine}: {what} failed: not an image description") from None
        # podman's own API names images by bare hex; both engines' compatible API should not.
        image_id = image_id if image_id.startswith("sha256:") else f"sha256:{image_id}"
        return ImageInfo(image_id, {str(k): str(v) for k, v in dict(labels).items()})

    def read_file(self, image_id: str, path: str) -> bytes | None:
        """As the SDK sessions do it: a container created (never started), its archive of
        ``path``, the container removed."""
        what = f"reading {path}"
        config = {"Image": image_id, "Cmd": ["true"], "Entrypoint": []}
        status, answer = self._call(what, "POST", "/containers/create", config)
        try:
            container = quote(str(json.loads(answer)["Id"]), safe="")
        except (ValueError, KeyError, TypeError):
            raise EngineError(f"{self.engine}: {what} failed: HTTP {status}") from None
        try:
            query = f"/containers/{container}/archive?path={quote(path, safe='/')}"
            status, archive = self._call(what, "GET", query)
            return None if status == 404 else archive
        finally:
            # As the SDK sessions: a failed clean-up does not hide the answer.
            with suppress(OSError):
                rawhttp.request(self.url, "DELETE", f"/containers/{container}?force=1")

    def close(self) -> None:
        pass
