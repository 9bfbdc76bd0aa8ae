"""Running the lock-file tools (uv, poetry, pipenv) on a copy of the user's files: found on
PATH or beside imagec's own Python, bounded in time and output, never in the user's tree."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import tomllib
from collections.abc import Iterator, Sequence
from pathlib import Path

from imagec.util.fsutil import read_user_bytes
from imagec.util.secrets import redact_credentials
from imagec.util.text import show

# A real export is a few kilobytes; a resolution against an index can take a while.
MAX_OUTPUT = 8 * 1024 * 1024
# Locks of large monorepos run to a few megabytes.
MAX_LOCK_BYTES = 32 * 1024 * 1024
DEFAULT_TIMEOUT = 120.0
RESOLVE_TIMEOUT = 600.0
MAX_MESSAGE_LINE = 300

# What to install for each tool, named in the error when it is missing.
INSTALL_HINTS = {
    "uv": "pip install uv",
    "poetry": "pip install poetry poetry-plugin-export",
    "pipenv": "pip install pipenv",
}
# Colour, progress bars and prompts only get in the way of reading the output.
QUIET_ENV = {
    "NO_COLOR": "1",
    "UV_NO_PROGRESS": "1",
    "PIPENV_NOSPIN": "1",
    "PIPENV_YES": "1",
    "PIPENV_VERBOSITY": "-1",
    "PIPENV_IGNORE_VIRTUALENVS": "1",
}


class ToolError(Exception):
    """A tool is missing, failed or misbehaved; the message is one line."""


def find_tool(name: str, needed_for: str) -> str:
    """The executable ``name``: on PATH, else among the scripts of imagec's own environment."""
    found = shutil.which(name)
    if found:
        return found
    for directory in {Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))}:
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise ToolError(
        f"{needed_for} needs `{name}`, which is neither on PATH nor in imagec's environment; "
        f"install it (`{INSTALL_HINTS.get(name, 'pip install ' + name)}`)"
    )


# A value naming a host path: absolute, in a home directory, climbing with `..`, or a file URL.
# (`~` only as a home directory, `~/x` or `~user/x`: `~2.31` is a poetry version constraint.)
_HOST_PATH = re.compile(
    r"^\s*(?:[/\\]|~(?:[A-Za-z_][\w.-]*)?(?:[/\\]|$)|[A-Za-z]:[/\\])"
    r"|(?:^|[/\\])\.\.(?:[/\\]|$)|\bfile:[/\\.]",
    re.I,
)


# Keys whose values are prose (poetry.lock keeps each package's description), not paths.
_FREE_TEXT = frozenset({"description", "summary"})


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in _FREE_TEXT:
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def check_no_host_paths(data: bytes, name: str, *, tool_config: bool = True) -> None:
    """The tools follow paths in these files (uv's ``[tool.uv]`` cache-dir and find-links, path
    sources, a lock's local packages, poetry's path dependencies): one that leaves the staged
    copy would make the tool read, or write, the host outside the project. Such a value is
    refused before any tool runs; inside the copy, only the staged files exist. With
    ``tool_config`` false the tool runs with its settings off (``uv --no-config``), and a
    pyproject.toml's ``[tool]`` table is not read."""
    try:
        text = data.decode("utf-8")
        parsed = json.loads(text) if name.endswith(".lock") and text.lstrip()[:1] == "{" else None
        parsed = parsed if parsed is not None else tomllib.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return  # not parsable: the tool reports it, and reads nothing it names
    if not isinstance(parsed, dict):
        return
    tables = (
        {k: v for k, v in parsed.items() if k != "project"} if name == "pyproject.toml" else parsed
    )
    project = parsed.get("project") if name == "pyproject.toml" else None
    if not tool_config and name == "pyproject.toml":
        tables.pop("tool", None)
    try:
        values = list(_strings(tables))
    except RecursionError:
        raise ToolError(f"{name} is nested too deeply") from None
    if isinstance(project, dict):  # free text aside, what the project table makes tools read
        values += list(_strings(project.get("dependencies")))
        values += list(_strings(project.get("optional-dependencies")))
        values += [v for k in ("readme", "license") for v in _strings(project.get(k))]
    for value in values:
        if _HOST_PATH.search(value):
            raise ToolError(
                f"{name} names the host path {show(value)}, outside the project; only the lock "
                "and the file it is made from are read; packages must come from an index or a URL"
            )


# Above the copy: a project of no workspace (uv stops looking for a workspace root at the first
# pyproject.toml it finds, and a project is none) and empty settings (the nearest uv.toml wins;
# the project's own [tool.uv], nearer, still applies). poetry reads the project's directory
# only, pipenv the Pipfile named by PIPENV_PIPFILE.
_BARRIER = {
    "pyproject.toml": '[project]\nname = "imagec-lock-staging"\nversion = "0"\n',
    "uv.toml": "# Ends uv's search for settings above the staged copy.\n",
}


@contextlib.contextmanager
def staged(files: Sequence[tuple[Path, str]], *, tool_config: bool = True) -> Iterator[Path]:
    """A temporary directory holding copies of ``files`` (path, name in the copy), read with
    imagec's bounded reader: the tools run there, so whatever they write stays out of the
    user's tree, and they see only the files named.

    The copy sits one level down, below files that end the tools' searches upwards: uv takes
    the first ``pyproject.toml`` above a project for its possible workspace root (whose
    ``uv.lock`` it then reads) and the nearest ``uv.toml`` (or ``[tool.uv]``) for its settings,
    and above imagec's own directory (mode 0700) is the temporary directory, writable by every
    user of the machine (``/tmp``)."""
    with tempfile.TemporaryDirectory(prefix="imagec-lock-") as tmp:
        for name, text in _BARRIER.items():
            (Path(tmp) / name).write_text(text, encoding="utf-8")
        work = Path(tmp) / "project"
        work.mkdir()
        for path, name in files:
            data = read_user_bytes(path, "lock file", limit=MAX_LOCK_BYTES)
            check_no_host_paths(data, name, tool_config=tool_config)
            (work / name).write_bytes(data)
        yield work


def run_tool(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``argv``, killed with its process group after
    ``timeout`` seconds; output past ``MAX_OUTPUT`` bytes is an error, not read."""
    full_env = {**os.environ, **QUIET_ENV, **(env or {})}
    name = Path(argv[0]).name
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # so a timeout ends the tool's children too
            )
        except OSError as exc:
            raise ToolError(f"cannot run `{name}`: {exc.strerror or exc}") from None
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise ToolError(f"`{name} {argv[1]}` took longer than {timeout:.0f} s") from None
        texts = []
        for stream in (out, err):
            stream.seek(0)
            data = stream.read(MAX_OUTPUT + 1)
            if len(data) > MAX_OUTPUT:
                raise ToolError(f"`{name} {argv[1]}` wrote more than {MAX_OUTPUT} bytes")
            texts.append(data.decode("utf-8", "replace"))
    return code, texts[0], texts[1]


def last_line(text: str) -> str:
    """The last line of a tool's message that says something, for a one-line error."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "(no message)"
    line = redact_credentials(lines[-1][:2000])  # ImagecError escapes and caps the message
    return line if len(line) <= MAX_MESSAGE_LINE else line[:MAX_MESSAGE_LINE] + "..."
