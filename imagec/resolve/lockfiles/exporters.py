"""One exporter per lock format, each driving the format's own tool (packaging's PEP 751
reader for ``pylock.toml``), turning the lock into the text of a hash-pinned requirements
file. Each checks first that the lock still matches its ``pyproject.toml`` where the tool can
tell, and says which tool to install when it is missing."""

from __future__ import annotations

import os
import platform
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from imagec.resolve.lockfiles.tools import (
    MAX_LOCK_BYTES,
    RESOLVE_TIMEOUT,
    ToolError,
    find_tool,
    last_line,
    run_tool,
    staged,
)
from imagec.util.fsutil import read_user_bytes
from imagec.util.secrets import ENV_REF, redact_credentials

# `linux/amd64` (the spec's platform) -> the target triple uv resolves for.
_UV_PLATFORMS = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}


@dataclass(frozen=True)
class Request:
    """One ``lock_files`` entry with what its export needs to know about the image."""

    path: Path  # the lock file, absolute
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    python_version: str = "3.11"
    platform: str | None = None  # the spec's `os/arch[/variant]`
    # For resolving a pyproject.toml: the spec's literal index URLs and find-links.
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()


def kind_of(path: Path) -> str:
    """The format, from the file name (the spec model allows only these names)."""
    name = path.name
    if name.startswith("pylock.") and name.endswith(".toml"):
        return "pylock"
    return {
        "uv.lock": "uv",
        "poetry.lock": "poetry",
        "Pipfile.lock": "pipenv",
        "pyproject.toml": "pyproject",
    }[name]


def export(request: Request) -> str:
    """The requirements text the lock pins (``NAME==VERSION ; MARKER --hash=...`` lines)."""
    return EXPORTERS[kind_of(request.path)](request)


def _companion(lock: Path, name: str) -> Path:
    """The file a lock is made from (``pyproject.toml``, ``Pipfile``), which must be beside it."""
    path = lock.parent / name
    if not path.is_file():
        raise ToolError(f"needs its {name} beside it ({path} is not a file)")
    return path


def _checked(
    code: int, err: str, what: str, stale: re.Pattern[str], fix: str, made_from: str
) -> None:
    """A lock out of date with the file it was made from is an error, never used."""
    if code == 0:
        return
    if stale.search(err):
        raise ToolError(f"out of date with its {made_from}; run `{fix}` (`{what}` says so)")
    raise ToolError(f"`{what}` failed: {last_line(err)}")


# uv's words for a stale lock: literals only, as tool output echoes the user's files
# (`lockfile .* out of date` was quadratic in a line of many `lockfile `).
UV_STALE = re.compile(r"needs to be updated|out of date|is not up-to-date", re.I)
# uv's words when resolving would need a build (dynamic metadata, an sdist-only package).
NO_BUILD = re.compile(r"Building source distributions is disabled|marked as `--no-build`")
NEEDS_BUILD = (
    "resolving it needs a package built (dynamic metadata or a source-only distribution), "
    "and compiling runs no project or package code; list the dependencies statically or "
    "name a lock file"
)


def _run(argv: list[str], work: Path, **kw: object) -> str:
    code, out, err = run_tool(argv, cwd=work, **kw)  # type: ignore[arg-type]
    if code != 0 and NO_BUILD.search(err):
        raise ToolError(NEEDS_BUILD)
    if code != 0:
        shown = " ".join(Path(argv[0]).name if i == 0 else a for i, a in enumerate(argv[:3]))
        raise ToolError(f"`{shown}` failed: {last_line(err or out)}")
    return out


def _flags(flag: str, values: tuple[str, ...]) -> list[str]:
    return [part for value in values for part in (flag, value)]


def _uv_lock(request: Request) -> str:
    uv = find_tool("uv", "uv.lock")
    pyproject = _companion(request.path, "pyproject.toml")
    with staged([(pyproject, "pyproject.toml"), (request.path, "uv.lock")]) as work:
        # --no-build: compiling never runs code from the project or its dependencies (a
        # project with dynamic metadata would need its build backend run to be checked).
        check = [uv, "lock", "--check", "--offline", "--no-build"]
        code, _, err = run_tool(check, cwd=work)
        local = re.search(r"not found at: file://" + re.escape(str(work)) + r"/(\S*)", err)
        local = local or re.search(r"@ directory\+(\S+?)` can't be installed because", err)
        if code != 0 and local:
            # Only the lock and pyproject.toml are read; a package from a local directory
            # could not be installed from an index in the image anyway.
            raise ToolError(
                f"depends on the local directory {local.group(1)!r}; a lock's packages must "
                "come from an index or a URL"
            )
        _checked(code, err, "uv lock --check", UV_STALE, "uv lock", "pyproject.toml")
        argv = [uv, "export", "--frozen", "--offline", "--format", "requirements.txt"]
        # The project itself is not a requirement (installing it is its own switch); the
        # development group is left out unless named.
        argv += ["--no-header", "--no-annotate", "--no-emit-project", "--no-default-groups"]
        argv += _flags("--extra", request.extras) + _flags("--group", request.groups)
        return _run(argv, work)


def _poetry_lock(request: Request) -> str:
    poetry = find_tool("poetry", "poetry.lock")
    pyproject = _companion(request.path, "pyproject.toml")
    with staged([(pyproject, "pyproject.toml"), (request.path, "poetry.lock")]) as work:
        # `poetry export` refuses a lock whose content hash no longer matches pyproject.toml
        # (what `poetry check --lock` checks, without also wanting the README and packages
        # that pyproject.toml names, which are not copied).
        argv = [poetry, "--no-interaction", "--no-ansi", "--directory", str(work)]
        argv += ["export", "--format", "requirements.txt", "--without-urls"]
        argv += _flags("--extras", request.extras) + _flags("--with", request.groups)
        code, out, err = run_tool(argv, cwd=work)
        if code != 0 and re.search(r"command \W*export\W* (is not defined|does not exist)", err):
            raise ToolError(
                "poetry.lock needs poetry's export command; install it "
                "(`pip install poetry-plugin-export`)"
            )
        stale = re.compile(r"changed significantly since poetry\.lock|run `poetry lock`", re.I)
        _checked(code, err + out, "poetry export", stale, "poetry lock", "pyproject.toml")
        return out


def _pipfile_lock(request: Request) -> str:
    pipenv = find_tool("pipenv", "Pipfile.lock")
    if request.extras:
        raise ToolError("Pipfile.lock has no extras; name Pipfile categories in `groups`")
    pipfile = _companion(request.path, "Pipfile")
    with staged([(pipfile, "Pipfile"), (request.path, "Pipfile.lock")]) as work:
        env = {"PIPENV_PIPFILE": str(work / "Pipfile"), "WORKON_HOME": str(work.parent / "venvs")}
        code, out, err = run_tool([pipenv, "verify"], cwd=work, env=env)
        stale = re.compile(r"out-of-date|out of date|pipenv lock", re.I)
        _checked(code, err + out, "pipenv verify", stale, "pipenv lock", "Pipfile")
        argv = [pipenv, "requirements", "--hash", "--exclude-index"]
        if request.groups:
            argv += ["--categories", " ".join(["packages", *request.groups])]
        return _run(argv, work, env=env)


def _uv_platform(spec_platform: str | None) -> str:
    arch = spec_platform.split("/")[1] if spec_platform else platform.machine()
    return f"{_UV_PLATFORMS.get(arch.lower(), arch)}-unknown-linux-gnu"


# A pyproject.toml without a lock is resolved against an index at compile time: the machine
# compiling (a CI runner, for a pull request) would contact whatever the spec names. Only the
# one running imagec may allow that, never the spec: `--resolve-online` sets this.
ONLINE_ENV_VAR = "IMAGEC_RESOLVE_ONLINE"


def online_allowed(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get(ONLINE_ENV_VAR, "").strip().lower() in ("1", "true", "yes")


def _pyproject(request: Request) -> str:
    if not online_allowed():
        literal = request.index_url and not ENV_REF.search(request.index_url)
        where = request.index_url if literal else "uv's configured index"
        raise ToolError(
            f"resolving it contacts {redact_credentials(where)} at compile time, which only the "
            f"command line allows (--resolve-online or {ONLINE_ENV_VAR}=1); or name a lock "
            "file instead (uv.lock, made by `uv lock`)"
        )
    uv = find_tool("uv", "pyproject.toml")
    with staged([(request.path, "pyproject.toml")], tool_config=False) as work:
        argv = [uv, "pip", "compile", "pyproject.toml", "--generate-hashes", "--no-header"]
        # Nothing is built on the host (no project or sdist code runs at compile time), and
        # uv settings in the reviewed file ([tool.uv]: find-links, indexes) are not obeyed.
        argv += ["--no-build", "--no-config"]
        argv += ["--no-annotate", "--python-version", request.python_version]
        argv += ["--python-platform", _uv_platform(request.platform)]
        argv += _flags("--extra", request.extras) + _flags("--group", request.groups)
        # URLs that need a build secret are not known here: uv's own settings apply then.
        if request.index_url and not ENV_REF.search(request.index_url):
            argv += ["--index-url", request.index_url]
        literal = tuple(u for u in request.extra_index_urls if not ENV_REF.search(u))
        argv += _flags("--extra-index-url", literal) + _flags("--find-links", request.find_links)
        return _run(argv, work, timeout=RESOLVE_TIMEOUT)


def _pylock(request: Request) -> str:
    # PEP 751's reader is packaging's (pypa), not a parser of imagec's own; loaded here, as
    # only pylock.toml needs it.
    try:
        from packaging.pylock import Pylock, PylockUnsupportedVersionError, PylockValidationError
    except ImportError:
        raise ToolError(
            "pylock.toml needs packaging 25.1 or later (`pip install -U packaging`)"
        ) from None
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if request.extras or request.groups:
        raise ToolError("extras and groups of a pylock.toml are not supported; lock without them")
    try:
        data = tomllib.loads(
            read_user_bytes(request.path, "lock file", limit=MAX_LOCK_BYTES).decode("utf-8")
        )
        lock = Pylock.from_dict(data)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ToolError(f"not valid TOML: {exc}") from None
    except RecursionError:
        raise ToolError("nested too deeply to read") from None
    except (PylockValidationError, PylockUnsupportedVersionError) as exc:
        raise ToolError(f"not a valid PEP 751 lock: {exc}") from None
    if lock.requires_python is not None:
        try:
            fits = request.python_version + ".0" in SpecifierSet(str(lock.requires_python))
        except InvalidSpecifier:
            fits = True
        if not fits:
            raise ToolError(
                f"requires Python {lock.requires_python}; the image has Python "
                f"{request.python_version}"
            )
    lines = []
    for package in lock.packages:
        marker = str(package.marker) if package.marker is not None else ""
        if re.search(r"\b(extras|dependency_groups)\b", marker):
            raise ToolError(
                f"package {package.name}: markers on extras or dependency groups are not "
                "supported; lock without them"
            )
        hashes: list[str] = []
        for dist in [*(package.wheels or ()), *([package.sdist] if package.sdist else [])]:
            hashes += [f"{algorithm}:{digest}" for algorithm, digest in dist.hashes.items()]
        if package.version is None or not hashes:
            raise ToolError(
                f"package {package.name} is not from an index (a VCS, directory or archive "
                "source); only index packages with hashes are exported"
            )
        line = f"{package.name}=={package.version}"
        if marker:
            line += f" ; {marker}"
        lines.append(" ".join([line, *(f"--hash={h}" for h in sorted(set(hashes)))]))
    return "\n".join(lines) + "\n"


EXPORTERS: dict[str, Callable[[Request], str]] = {
    "uv": _uv_lock,
    "poetry": _poetry_lock,
    "pipenv": _pipfile_lock,
    "pyproject": _pyproject,
    "pylock": _pylock,
}
