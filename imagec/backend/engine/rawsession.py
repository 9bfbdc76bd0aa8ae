"""A build session on the engine's HTTP API, with an SDK session opened only when needed.

The calls an ``imagec build`` usually makes -- the ping, the reuse check's image lookup, the
build and the tags -- go over ``rawhttp`` (a ``unix://`` or plain ``tcp://`` URL), so a
rebuild never imports an engine SDK (~0.15 s for podman-py with requests and urllib3). Every
other call (push, pull, run, manifest lists) goes to the engine's SDK session, opened on first
use and closed with this one, and behaves as before. Errors are the SDK sessions' one-line
``EngineError``s.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack
from typing import Any, Self

from imagec.backend.engine import rawhttp
from imagec.backend.engine.connect import PING_TIMEOUT, root_cause, unreachable
from imagec.backend.engine.sdk_session import ApiSession
from imagec.errors import EngineError


class RawSession(ApiSession):
    """``ApiSession`` (image, read_file) with the ping, a streamed JSON-lines call and the SDK
    session behind it (``sdk``, and every attribute this class has not)."""

    def __init__(
        self,
        engine: str,
        url: str,
        how_to_start: str,
        open_sdk: Callable[[], AbstractContextManager[Any]],
    ) -> None:
        super().__init__(engine, url, how_to_start)
        self._open_sdk = open_sdk
        self._opened: Any = None
        self._stack = ExitStack()

    @classmethod
    def checked(cls, *args: Any) -> Self:
        """A session on an engine that has answered the ping (else the unreachable-engine
        error, as the SDK sessions' ``connect`` gives it)."""
        session = cls(*args)
        session.ping()
        return session

    @property
    def sdk(self) -> Any:
        """The SDK session, opened now if it is not yet."""
        if self._opened is None:
            self._opened = self._stack.enter_context(self._open_sdk())
        return self._opened

    @property
    def sdk_opened(self) -> bool:
        return self._opened is not None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # never open the SDK for a private or special name
            raise AttributeError(name)
        return getattr(self.sdk, name)

    def ping(self) -> None:
        try:
            status, _ = rawhttp.request(self.url, "GET", "/_ping", timeout=PING_TIMEOUT)
        except OSError as exc:
            raise unreachable(self.engine, self.url, exc, self._how) from None
        if status != 200:
            raise unreachable(self.engine, self.url, f"/_ping answered HTTP {status}", self._how)

    def alive(self) -> bool:
        """Does the engine still answer the ping (after a build broke off)?"""
        try:
            self.ping()
        except EngineError:
            return False
        return True

    def stream_json(
        self, what: str, path: str, body: Iterable[bytes], content_type: str
    ) -> Iterator[dict[str, Any]]:
        """``POST path`` with ``body`` streamed; the answer's JSON lines as they come. Closing
        the iterator hangs up (an engine stops the build)."""
        try:
            answer = rawhttp.stream(self.url, "POST", path, body, content_type=content_type)
        except OSError as exc:  # no answer at all: as the SDKs, the engine is unreachable
            raise unreachable(self.engine, self.url, exc, self._how) from None
        try:
            if answer.status >= 400:
                raise self._refused(what, answer.status, answer.read())
            for line in answer.lines():
                if not line.strip():
                    continue
                try:
                    message = json.loads(line)
                except ValueError:
                    message = None
                if not isinstance(message, dict):
                    raise EngineError(
                        f"{self.engine}: {what} failed: the engine sent a line that is not a "
                        "JSON object"
                    )
                yield message
        except OSError as exc:  # broken off mid-answer (flow.raise_if_gone asks alive())
            raise EngineError(f"{self.engine}: {what} failed: {root_cause(exc)}") from None
        finally:
            answer.close()

    def close(self) -> None:
        self._stack.close()
