"""What the user sees while an engine builds, on stderr.

- a terminal: one line per finished step (``cached`` or its time) and one live line for the
  running step with the latest thing it printed, rewritten in place::

      [docker]  1/9  cached  FROM python:3.11-slim
      [docker]  5/9  12.4s   RUN ["python", "-m", "pip", "install", ...]
      [docker]  6/9  ...     COPY ["src/", "/app/"] | Collecting pandas

- not a terminal (CI logs, pipes): the engine's log lines as they come;
- ``--quiet``: nothing.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import Any, Literal, TextIO

from imagec.backend.engine.buildlog import Step

Mode = Literal["tty", "plain", "quiet"]


def choose_mode(quiet: bool, stream: TextIO | None = None) -> Mode:
    stream = stream if stream is not None else sys.stderr
    if quiet:
        return "quiet"
    try:
        return "tty" if stream.isatty() else "plain"
    except (AttributeError, ValueError):
        return "plain"


class Progress:
    def __init__(self, engine: str, mode: Mode, stream: TextIO | None = None) -> None:
        self.engine = engine
        self.mode = mode
        self.stream = stream if stream is not None else sys.stderr
        self.step: Step | None = None
        self.started = time.monotonic()
        self.step_started = self.started
        self.cached = 0
        self.total = 0
        self._last_sent = 0.0
        self._live = False  # a live line is on screen

    # -- messages outside the build log ------------------------------------------------

    def note(self, text: str) -> None:
        """A line of imagec's own (``sending context``, ``pushing``), shown unless quiet."""
        if self.mode == "quiet":
            return
        self._clear()
        self._write(f"[{self.engine}] {text}\n")

    def sending(self, sent: int) -> None:
        now = time.monotonic()
        if self.mode == "tty" and now - self._last_sent >= 0.1:  # ~64 KiB a chunk: throttle
            self._last_sent = now
            self._show(f"[{self.engine}] sending context {_size(sent)}")

    # -- build log events ---------------------------------------------------------------

    def event(self, kind: str, value: Any) -> None:
        if self.mode == "plain" and kind == "line":
            self._write(value + "\n")
        elif self.mode == "tty":
            if kind == "step":
                self._finish_step()
                self.step, self.step_started, self.total = value, time.monotonic(), value.total
                self._show(self._step_line(value, "..."))
            elif kind == "cached":
                self.cached += 1
            elif kind == "output" and self.step is not None:
                self._show(self._step_line(self.step, "...", value.strip()))

    def done(self, ok: bool) -> None:
        """The build ended; leave the finished steps on screen and a summary line."""
        if self.mode != "tty":
            return
        if ok:
            self._finish_step()
        else:
            self._clear()
        if ok and self.total:
            took = time.monotonic() - self.started
            summary = f"{self.total} steps, {self.cached} from cache, {took:.1f}s"
            self._write(f"[{self.engine}] {summary}\n")

    def interrupted(self) -> None:
        self._clear()

    # -- drawing ------------------------------------------------------------------------

    def _step_line(self, step: Step, state: str, output: str = "") -> str:
        digits = len(str(step.total))
        head = f"[{self.engine}] {step.number:>{digits}}/{step.total}  {state:<7} "
        if not output:
            return head + step.instruction
        # The instruction gives way to the step's latest output, which is what moves.
        room = max(_width() - len(head) - len(output) - 3, 24)
        return f"{head}{_cut(step.instruction, room)} | {output}"

    def _finish_step(self) -> None:
        step = self.step
        if step is None:
            return
        state = "cached" if step.cached else f"{time.monotonic() - self.step_started:.1f}s"
        self._clear()
        self._write(_fit(self._step_line(step, state)) + "\n")
        self.step = None

    def _show(self, text: str) -> None:
        self._write("\r\x1b[K" + _fit(text))
        self._live = True

    def _clear(self) -> None:
        if self._live:
            self._write("\r\x1b[K")
            self._live = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed terminal must not fail the build


def _width() -> int:
    return shutil.get_terminal_size((100, 24)).columns - 1


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 3, 0)] + "..."


def _fit(text: str) -> str:
    return _cut(text.replace("\t", " "), _width())


def _size(n: int) -> str:
    if n < 1 << 20:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1 << 20):.1f} MB"
