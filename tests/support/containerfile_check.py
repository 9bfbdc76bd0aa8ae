"""Read a generated Containerfile back the way BuildKit does, and lint it with hadolint.

``read_back`` parses with BuildKit's own parser (the ``dockerfile`` package) and then runs
every value BuildKit later word-processes through the port of its lexer, with an environment
in which *every* variable is set: a ``$VAR`` that escaped quoting shows up as ``POISON``.
The result is a list of IR-shaped tuples to compare with the plan's steps.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dockerfile

from imagec.plan.ir import (
    Arg,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    From,
    Label,
    Plan,
    Run,
    Step,
    User,
    Workdir,
)
from support.buildkit_lex import Lex

REPO = Path(__file__).resolve().parents[2]
HADOLINT_CONFIG = REPO / ".hadolint.yaml"
POISON = "\x00POISON\x00"


class _EveryVariableSet(Mapping[str, str]):
    """An environment where any name is set, so a stray expansion is visible."""

    def __getitem__(self, key: str) -> str:
        return POISON

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


ENV = _EveryVariableSet()


def _word(raw: str) -> str:
    return Lex().process_word(raw, ENV)


def _flag(flags: tuple[str, ...], name: str) -> str | None:
    for flag in flags:
        if flag.startswith(f"--{name}="):
            return flag.split("=", 1)[1]
    return None


def _mount(flag: str, original: str) -> tuple[str, str | None, str | None, str | None]:
    """``--mount=type=cache,target=/x`` as ``(type, target, id, source)``. BuildKit reads the
    value as one CSV record of ``key=value`` fields (encoding/csv)."""
    assert flag.startswith("--mount="), f"unexpected RUN flag {flag!r} in {original!r}"
    (record,) = csv.reader([flag.removeprefix("--mount=")])
    fields = dict(field.split("=", 1) for field in record)
    assert set(fields) <= {"type", "target", "id", "source"}, original
    return (fields["type"], fields.get("target"), fields.get("id"), fields.get("source"))


def decode(cmd: Any) -> tuple:
    """One parsed instruction as ``(kind, *fields)``, shaped like the IR step."""
    kind = cmd.cmd.lower()
    if cmd.heredocs:
        raise AssertionError(f"unexpected heredoc in {cmd.original!r}")
    if kind == "from":
        (image,) = cmd.value  # FROM splits on whitespace: one word means no `AS` or extras
        platform = _flag(cmd.flags, "platform")
        return (kind, _word(image), None if platform is None else _word(platform))
    if kind == "arg":
        (raw,) = cmd.value
        name, sep, default = raw.partition("=")
        return (kind, _word(name), _word(default) if sep else None)
    if kind in ("env", "label"):
        raw = cmd.value
        pairs = tuple((_word(raw[i]), _word(raw[i + 1])) for i in range(0, len(raw), 2))
        return (kind, pairs)
    if kind == "run":
        assert cmd.json, f"RUN not in exec form: {cmd.original!r}"
        return (kind, tuple(cmd.value), tuple(_mount(flag, cmd.original) for flag in cmd.flags))
    if kind in ("entrypoint", "cmd"):
        assert cmd.json, f"{kind} not in exec form: {cmd.original!r}"
        assert not cmd.flags, cmd.original
        return (kind, tuple(cmd.value))
    if kind == "copy":
        assert cmd.json, f"COPY not in JSON form: {cmd.original!r}"
        chown = _flag(cmd.flags, "chown")
        source = _flag(cmd.flags, "from")
        paths = tuple(_word(p) for p in cmd.value)
        return (
            kind,
            paths[:-1],
            paths[-1],
            None if chown is None else _word(chown),
            None if source is None else _word(source),
        )
    if kind in ("workdir", "user"):
        (raw,) = cmd.value
        return (kind, _word(raw))
    raise AssertionError(f"unexpected instruction {cmd.original!r}")


def expected(step: Step) -> tuple:
    """The ``decode`` shape of an IR step."""
    if isinstance(step, From):
        return ("from", step.image, step.platform)
    if isinstance(step, Arg):
        return ("arg", step.name, step.default)
    if isinstance(step, Env | Label):
        return (step.kind, tuple(step.pairs))
    if isinstance(step, Run):
        mounts = tuple((m.type, m.target, m.id, m.source) for m in step.mounts)
        return ("run", tuple(step.argv), mounts)
    if isinstance(step, Entrypoint | Cmd):
        return (step.kind, tuple(step.argv))
    if isinstance(step, Copy):
        return ("copy", tuple(step.sources), step.dest, step.chown, step.from_image)
    if isinstance(step, Workdir):
        return ("workdir", step.path)
    if isinstance(step, User):
        return ("user", step.user)
    raise AssertionError(f"unknown step {step!r}")


def read_back(text: str) -> list[tuple]:
    """The instructions of ``text`` as BuildKit ends up seeing them."""
    return [decode(cmd) for cmd in dockerfile.parse_string(text)]


def assert_round_trips(plan: Plan, text: str) -> None:
    """Same number of instructions, same kinds, same values as the plan's steps."""
    # Parser directives are read only from the first lines; the header must not be one.
    first = text.split("\n", 1)[0]
    assert first.startswith("# ") and "=" not in first.split()[1], first
    got = read_back(text)
    want = [expected(step) for step in plan.steps]
    assert len(got) == len(want), (len(got), len(want))
    for g, w in zip(got, want, strict=True):
        assert g == w


def hadolint_binary() -> str:
    # The interpreter's own bin directory first: a version-manager shim adds ~150 ms a call.
    local = Path(sys.executable).parent / "hadolint"
    return str(local) if local.exists() else "hadolint"


def hadolint(paths: list[Path]) -> list[dict]:
    """hadolint's findings for ``paths`` with the repository's configuration."""
    proc = subprocess.run(
        [
            hadolint_binary(),
            "--config",
            str(HADOLINT_CONFIG),
            "--no-color",
            "-f",
            "json",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        raise AssertionError(f"hadolint failed ({proc.returncode}): {proc.stderr}")
    return json.loads(proc.stdout)
