"""The skeleton docker and podman sessions share: where to connect, health, connect, and SDK
errors turned into one-line ``EngineError``s.

An engine module subclasses :class:`SdkSession` with only what its engine knows (default
URL, how to start it, how its SDK opens a client, which exceptions mean what) and exports
``connect = XSession.connect`` and ``health = XSession.health``. Imports no SDK and no
``requests``: a subclass's hooks import those, and only when a session is asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from imagec.backend.base import Health
from imagec.backend.engine.connect import root_cause, unreachable
from imagec.errors import EngineError


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

    # -- the same for every engine ----------------------------------------------------------

    @classmethod
    def health(cls, url: str | None = None) -> Health:
        try:
            errors = cls.errors()
        except ImportError:
            return Health(False, cls.sdk_missing)
        where = cls.resolve_url(url)
        try:
            cls.probe(url, where)
        except errors.opening as exc:
            return Health(False, str(unreachable(cls.engine, where, exc, cls.short_how(where))))
        return Health(True)

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

    def close(self) -> None:
        self.client.close()
