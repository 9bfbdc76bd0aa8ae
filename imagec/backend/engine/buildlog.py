"""Read an engine's build log: steps, cache hits, output, the image id, and the failure.

Both engines stream JSON messages on the Docker build API's shape. What they say differs::

    dockerd (classic builder)            podman
    Step 3/9 : RUN ["python", ...]       STEP 3/9: RUN ["python", ...]
     ---> Using cache                    --> Using cache 4f2a...(64 hex)
     ---> 2702577f35a4                   --> b78c60654c6
    {"aux": {"ID": "sha256:..."}}        {"stream": "<64 hex>\n"}
    {"error": "The command '...'         {"error": "building at STEP \"RUN ...\":
      returned a non-zero code: 3"}        while running runtime: exit status 3"}

``stream`` text arrives in arbitrary pieces (dockerd sends a step line and its newline
separately), so it is reassembled into lines first.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from imagec.errors import BuildError

# A multi-platform build (buildah) starts each step line with its platform: `[linux/arm64] `.
STEP = re.compile(r"^(?:\[[a-z0-9_/.]+\] )?(?:Step|STEP) (\d+)/(\d+) ?: ?(.*)$")
CACHED = re.compile(r"^\s*-+> Using cache\b")
LAYER = re.compile(r"^\s*-+> ([0-9a-f]{10,64})$")
IMAGE_ID = re.compile(r"^(?:sha256:)?([0-9a-f]{64})$")
# Engine bookkeeping, not step output.
NOISE = re.compile(
    r"^\s*-+> Running in [0-9a-f]+$|^Removing intermediate container [0-9a-f]+$"
    r"|^Successfully (?:built|tagged) |^COMMIT(?: |$)"
)
EXIT_CODE = re.compile(r"returned a non-zero code: (\d+)|exit status (\d+)")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TAIL_LINES = 15  # output lines of a failed step shown in its error


@dataclass
class Step:
    number: int
    total: int
    instruction: str
    cached: bool = False
    layer: str | None = None
    output: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))


class BuildLog:
    """Feed it the engine's messages; it tracks the steps and calls ``on_event``.

    Events: ``("line", text)`` for every log line as the engine wrote it, ``("step", Step)``
    when a step starts, ``("cached", Step)``, ``("output", text)`` for a line a step printed.
    """

    def __init__(
        self,
        on_event: Callable[[str, Any], None] = lambda kind, value: None,
        origins: Sequence[str] = (),
    ) -> None:
        self.on_event = on_event
        self.origins = list(origins)  # spec origin of each build-file instruction, in order
        self.steps: list[Step] = []
        self.image_id: str | None = None
        self.error: str | None = None
        self._partial = ""

    @property
    def current(self) -> Step | None:
        return self.steps[-1] if self.steps else None

    def feed(self, message: dict[str, Any]) -> None:
        if "error" in message or "errorDetail" in message:
            detail = message.get("errorDetail") or {}
            self.error = str(detail.get("message") or message.get("error") or "").strip()
            return
        aux = message.get("aux")
        if isinstance(aux, dict) and isinstance(aux.get("ID"), str):
            m = IMAGE_ID.match(aux["ID"])
            if m:
                self.image_id = f"sha256:{m.group(1)}"
        text = message.get("stream")
        if isinstance(text, str):
            self._partial += text
            *lines, self._partial = re.split(r"\r\n|\r|\n", self._partial)
            for line in lines:
                self._line(line)

    def finish(self) -> None:
        if self._partial:
            line, self._partial = self._partial, ""
            self._line(line)

    def _line(self, raw: str) -> None:
        line = ANSI.sub("", raw).rstrip()
        if not line:
            return
        self.on_event("line", line)
        m = STEP.match(line)
        if m:
            step = Step(int(m.group(1)), int(m.group(2)), m.group(3).strip())
            self.steps.append(step)
            self.on_event("step", step)
            return
        step = self.current
        if CACHED.match(line):
            if step is not None:
                step.cached = True
                self.on_event("cached", step)
            return
        m = LAYER.match(line)
        if m and step is not None:
            step.layer = m.group(1)
            return
        m = IMAGE_ID.match(line)
        if m:
            self.image_id = f"sha256:{m.group(1)}"
            return
        if NOISE.match(line):
            return
        if step is not None:
            step.output.append(line)
        self.on_event("output", line)

    def origin_of(self, step: Step) -> str | None:
        # The build file has one instruction per plan step; the engine appends LABEL steps
        # of its own for the labels it was asked to add.
        if step.total >= len(self.origins) >= step.number:
            return self.origins[step.number - 1]
        return None

    def failure(self, engine: str) -> BuildError:
        """The error for a failed build: step, instruction, where it came from, output tail."""
        message = (self.error or "the build stopped without an image").splitlines()[0]
        step = self.current
        if step is None:
            return BuildError(f"{engine} build failed: {message}")
        origin = self.origin_of(step)
        head = f"step {step.number}/{step.total} failed: {_short(step.instruction)}"
        if origin:
            head += f" (from {origin})"
        m = EXIT_CODE.search(message)
        head += f": exit code {m.group(1) or m.group(2)}" if m else f": {message}"
        return BuildError(head + "".join(f"\n  | {line}" for line in step.output))


# An install step's `--mount=...` flags (secrets, cache, bound requirements files) say less
# than its command, and would leave little of it: `RUN ["python", "-m", "pip", ...]`.
_MOUNT_FLAG = re.compile(r"--mount=\S+ ")


def _short(text: str, limit: int = 240) -> str:
    text = _MOUNT_FLAG.sub("", text) if text.startswith("RUN ") else text
    return text if len(text) <= limit else text[: limit - 3] + "..."
