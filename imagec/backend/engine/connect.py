"""Engine connection failures as one line: what was tried, why it failed, how to fix it."""

from __future__ import annotations

import re

from imagec.errors import EngineError

PING_TIMEOUT = 3.0  # seconds; health checks and the first contact must not hang


def root_cause(exc: BaseException) -> str:
    """The innermost OS-level reason (``No such file or directory``, ``Connection refused``)
    of an SDK or requests error, else its message on one line."""
    seen: set[int] = set()
    current: BaseException | None = exc
    best = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            best = current.strerror
        for arg in getattr(current, "args", ()):
            if isinstance(arg, BaseException) and id(arg) not in seen:
                nested = root_cause(arg)
                if nested:
                    best = best or nested
        current = current.__cause__ or current.__context__
    if best:
        return best
    text = " ".join(str(exc).split())
    m = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    return m.group(1).strip() if m else text or type(exc).__name__


def unreachable(engine: str, url: str, exc: BaseException | str, how: str) -> EngineError:
    reason = exc if isinstance(exc, str) else root_cause(exc)
    return EngineError(f"cannot reach the {engine} engine at {url} ({reason}); {how}")
