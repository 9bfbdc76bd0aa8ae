"""A time limit for tests that feed imagec hostile input: a hang fails the test instead of
the run. (pytest-timeout is not installed; SIGALRM interrupts the main thread.)"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest


class TimeLimitExceeded(AssertionError):
    pass


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail with ``TimeLimitExceeded`` when the block runs longer than ``seconds``."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeLimitExceeded(f"did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def time_limit_fixture(seconds: float) -> Callable[..., Iterator[None]]:
    """An autouse fixture putting every test of a module under ``time_limit(seconds)``:
    ``_limit = time_limit_fixture(60)`` at module level."""

    @pytest.fixture(autouse=True)
    def _time_limit() -> Iterator[None]:
        with time_limit(seconds):
            yield

    return _time_limit
