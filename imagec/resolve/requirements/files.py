"""Reading requirements files as pip does: comments, continuations, options, and local
``-r``/``-c`` includes followed recursively."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

from imagec.errors import SpecError
from imagec.model.requirement import (
    URL,
    UrlRequirement,
    check_credentials,
    checked_requirement,
    split_option,
)
from imagec.resolve.requirements.lines import PipOption, Ref, RequirementLine
from imagec.util.fsutil import read_user_text
from imagec.util.secrets import SECRET_HINT, is_env_ref, is_secret_key
from imagec.util.suggest import did_you_mean
from imagec.util.text import UNSAFE, bare, show

# A chain of `-r` includes deeper than this is refused: real projects nest two or three.
MAX_INCLUDE_DEPTH = 32

# pip's rule: '#' starts a comment at the line start or after whitespace, so URL fragments
# such as ``#egg=name`` or ``#sha256=...`` survive.
# pip's comment rule, `(^|\s+)#.*$`, cut at the first `#` that starts the line or follows
# whitespace. Not as that regex: it is quadratic in a line of blanks (each start rescans them).
_COMMENT_START = re.compile(r"(?:^|(?<=\s))#")


def _uncommented(line: str) -> str:
    """``line`` without its comment and the blanks before it (what pip's regex removes)."""
    m = _COMMENT_START.search(line)
    return line if m is None else line[: m.start()].rstrip()


# Global options kept in the rendered file: long name -> (short name, takes a value).
_GLOBAL_OPTIONS: dict[str, tuple[str | None, bool]] = {
    "--index-url": ("-i", True),
    "--extra-index-url": (None, True),
    "--no-index": (None, False),
    "--find-links": ("-f", True),
    "--trusted-host": (None, True),
    "--no-binary": (None, True),
    "--only-binary": (None, True),
    "--prefer-binary": (None, False),
    "--require-hashes": (None, False),
    "--pre": (None, False),
}
_INCLUDE_OPTIONS = {"--requirement": "-r", "--constraint": "-c"}
_REFUSED_OPTIONS = {
    "--editable": (
        "-e",
        "editable installs need the project's source tree in the image; list the package by "
        "name or as 'NAME @ URL'",
    ),
    "--use-feature": (None, "pip feature flags are not supported in requirements files here"),
}
_SHORT = {short: long for long, (short, _) in _GLOBAL_OPTIONS.items() if short}
_SHORT |= {short: long for long, short in _INCLUDE_OPTIONS.items()}
_SHORT |= {short: long for long, (short, _) in _REFUSED_OPTIONS.items() if short}
_ALL_OPTIONS = [*_GLOBAL_OPTIONS, *_INCLUDE_OPTIONS, *_REFUSED_OPTIONS, *_SHORT]


def read_requirements_file(
    path: Path,
    *,
    base_dir: Path | None = None,
    origin: Ref | None = None,
    root: Path | None = None,
) -> list[RequirementLine]:
    """Read a pip requirements file, following local ``-r``/``-c`` includes.

    A relative ``path`` resolves against ``base_dir``. When the file cannot be read and
    ``origin`` says where it was named (``(file, line, column)``), the error points there.

    Paths that may leave the source root ``root``: the file named here (the user named it),
    if it is named like a requirements file. Its includes must stay inside ``root`` (or,
    for a file outside it, inside that file's own directory).
    """
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    top = path.resolve()
    source_root = root.resolve() if root is not None else None
    if source_root is not None and top.is_relative_to(source_root):
        include_root = source_root
    else:
        if source_root is not None and not looks_like_requirements_file(path):
            file, line, column = origin if origin is not None else (path, None, None)
            raise SpecError(
                f"{show(str(path))} is outside the source root and not named like a "
                "requirements file (*.txt, *.in, requirements*, constraints*); not reading it",
                file=file,
                line=line,
                column=column,
            )
        include_root = top.parent
    return _read_file(
        path,
        constraint=False,
        seen=(),
        ref=origin,
        include_root=include_root,
        project=source_root,
    )


def looks_like_requirements_file(path: Path) -> bool:
    """Named like a requirements file, through any symlink: only such files have their lines
    repeated in messages, so naming ``/etc/shadow`` never prints a line of it."""
    for name in {path.name, path.resolve().name}:
        lower = name.lower()
        if not (
            lower.endswith((".txt", ".in")) or "requirements" in lower or "constraints" in lower
        ):
            return False
    return True


def _read_file(
    path: Path,
    *,
    constraint: bool,
    seen: tuple[Path, ...],
    ref: Ref | None,
    include_root: Path,
    project: Path | None = None,
) -> list[RequirementLine]:
    text = _read_text(path, ref)
    key = path.resolve()
    seen = (*seen, key)
    echo = looks_like_requirements_file(path)
    out: list[RequirementLine] = []
    for number, raw, single in _logical_lines(text):
        logical = _uncommented(raw).strip()
        if not logical:
            continue
        at = (path, number)
        try:
            if logical.startswith("-") and _is_project(logical, path, project):
                # `-e .`: the project itself, installed after the source copy (install_project).
                option = PipOption("--editable", ".")
                out.append(RequirementLine(logical, option=option, file=path, line=number))
            elif logical.startswith("-"):
                out += _option_line(
                    logical,
                    at,
                    constraint=constraint,
                    seen=seen,
                    include_root=include_root,
                    project=project,
                )
            else:
                column = raw.index(logical) + 1 if single and logical in raw else None
                out.append(_requirement_line(logical, at, column, constraint))
        except SpecError as exc:
            if echo or exc.file != str(path):
                raise
            # Not a requirements file by its name: say where, never what the line holds.
            raise SpecError(
                "not a valid requirements line (content not shown: the file is not named "
                "like a requirements file)",
                file=path,
                line=number,
            ) from None
    return out


def _read_text(path: Path, ref: Ref | None) -> str:
    """The file's text; when it cannot be read and ``ref`` says where it was named (the spec,
    or the including file), the error points there."""
    try:
        return read_user_text(path, "requirements file")
    except SpecError as exc:
        if ref is None or exc.line is not None:
            raise
        file, line, column = ref
        raise SpecError(f"{exc.message}: {path}", file=file, line=line, column=column) from None


def _logical_lines(text: str) -> Iterator[tuple[int, str, bool]]:
    """Yield ``(first line number, joined text, single physical line)`` as pip joins them
    (``pip._internal.req.req_file.join_lines``): a trailing backslash continues a line, and
    pip strips every backslash at either end of a continued line; a comment line ends a
    continuation."""
    parts: list[str] = []
    first = 0
    for number, line in enumerate(text.splitlines(), start=1):
        is_comment = line.lstrip().startswith("#")
        if line.endswith("\\") and not is_comment:
            if not parts:
                first = number
            parts.append(line.strip("\\"))
            continue
        if parts:
            yield first, "".join(parts) + (" " + line if is_comment else line), False
            parts = []
        else:
            yield number, line, True
    if parts:
        yield first, "".join(parts), False


def _option_line(
    text: str,
    at: tuple[Path, int],
    *,
    constraint: bool,
    seen: tuple[Path, ...],
    include_root: Path,
    project: Path | None = None,
) -> list[RequirementLine]:
    file, number = at
    try:
        tokens = shlex.split(text)
    except ValueError as e:
        raise SpecError(f"cannot split '{bare(text)}': {e}", file=file, line=number) from None
    out: list[RequirementLine] = []
    i = 0
    while i < len(tokens):
        name, value = _split_option(tokens[i], file, number)
        takes_value = name in _INCLUDE_OPTIONS or _GLOBAL_OPTIONS.get(name, (None, False))[1]
        if takes_value and value is None:
            i += 1
            if i == len(tokens):
                raise SpecError(f"option '{name}' needs a value", file=file, line=number)
            value = tokens[i]
        elif not takes_value and value is not None:
            raise SpecError(f"option '{name}' takes no value", file=file, line=number)
        i += 1
        # Values kept in the rendered file must read back as one value; a local include's
        # path is read here and never rendered.
        if name not in _INCLUDE_OPTIONS or (value is not None and URL.match(value)):
            _check_value_characters(name, value, file, number)
        if name in _INCLUDE_OPTIONS and value is not None:
            out += _include(
                name,
                value,
                at,
                constraint=constraint,
                seen=seen,
                include_root=include_root,
                project=project,
            )
        else:
            _check_option_value(name, value, file, number)
            option = PipOption(name, value)
            out.append(
                RequirementLine(text, option=option, file=file, line=number, source=str(file))
            )
    return out


def _is_project(text: str, file: Path, project: Path | None) -> bool:
    """Is ``text`` ``-e PATH`` (``--editable PATH``) naming the source root ``project``?"""
    if project is None:
        return False
    try:
        tokens = shlex.split(text)
    except ValueError:
        return False
    if len(tokens) == 2 and tokens[0] in ("-e", "--editable"):
        value = tokens[1]
    elif len(tokens) == 1 and tokens[0].startswith(("--editable=", "-e")):
        value = tokens[0].removeprefix("--editable=").removeprefix("-e")
    else:
        return False
    if not value or URL.match(value) or value.startswith(("git+", "hg+", "svn+", "bzr+")):
        return False
    return (file.parent / value).resolve() == project


def _split_option(token: str, file: Path, number: int) -> tuple[str, str | None]:
    if not token.startswith("-") or token == "-":
        raise SpecError(f"unexpected {show(token)} after pip options", file=file, line=number)
    name, value = split_option(token)
    name = _SHORT.get(name, name)
    if name in _REFUSED_OPTIONS:
        shown = token if token.startswith("--") else token[:2]
        raise SpecError(f"'{bare(shown)}': {_REFUSED_OPTIONS[name][1]}", file=file, line=number)
    if name not in _GLOBAL_OPTIONS and name not in _INCLUDE_OPTIONS:
        hint = did_you_mean(name, _ALL_OPTIONS)
        raise SpecError(f"unsupported pip option {show(name)}{hint}", file=file, line=number)
    return name, value


# What each option's value may hold. pip reads a rendered option line with shlex after cutting
# comments and joining continuations; values restricted to these characters mean the same to
# pip however they were quoted in the user's file, so a quoted value can never smuggle in a
# second option (`--trusted-host "x -e git+https://..."`).
_HOST = re.compile(r"[A-Za-z0-9._-]+(:[0-9]+)?|\[[0-9A-Fa-f:.]+\](:[0-9]+)?")
_FORMATS = re.compile(r":all:|:none:|[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*")


def _check_value_characters(name: str, value: str | None, file: Path, number: int) -> None:
    if value is None:
        return
    bad = re.search(r"[\s'\"\\]", value) or UNSAFE.search(value)
    if bad is not None or not value:
        what = "is empty" if not value else f"holds {show(bad.group())}"  # type: ignore[union-attr]
        raise SpecError(
            f"{name} value {show(value)} {what}; pip would not read it back as one value",
            file=file,
            line=number,
        )


def _check_option_value(name: str, value: str | None, file: Path, number: int) -> None:
    if value is None:
        return
    if name == "--trusted-host" and not _HOST.fullmatch(value):
        raise SpecError(
            f"--trusted-host {show(value)} is not a host name (HOST or HOST:PORT)",
            file=file,
            line=number,
        )
    if name in ("--no-binary", "--only-binary") and not _FORMATS.fullmatch(value):
        raise SpecError(
            f"{name} {show(value)} is not ':all:', ':none:' or package names separated by ','",
            file=file,
            line=number,
        )
    if name not in ("--index-url", "--extra-index-url", "--find-links"):
        return
    if not URL.match(value):
        what = "a local directory" if name == "--find-links" else "not a URL"
        raise SpecError(
            f"{name} {show(value)} is {what}; the image build can only reach URLs",
            file=file,
            line=number,
        )
    check_credentials(value, file, number, None)


def _check_keyed_secret(name: str, value: str, file: Path, number: int) -> None:
    """``--config-settings password=...``, ``--global-option=--token=...``: a value for a
    secret-looking key is kept in the image's requirements file like any other. The message
    names the key only: the value is the secret."""
    key, eq, secret = value.lstrip("-").partition("=")
    if eq and secret and is_secret_key(key) and not is_env_ref(secret):
        raise SpecError(
            f"{name} gives a value for the secret-looking name {bare(key)}, which would be "
            f"stored in the image; {SECRET_HINT}",
            file=file,
            line=number,
        )


def _include(
    name: str,
    target: str,
    at: tuple[Path, int],
    *,
    constraint: bool,
    seen: tuple[Path, ...],
    include_root: Path,
    project: Path | None = None,
) -> list[RequirementLine]:
    file, number = at
    short = _INCLUDE_OPTIONS[name]
    if target.lower().startswith("file:"):
        raise SpecError(
            f"'{short} {bare(target)}': name an included file by its path, not a file: URL",
            file=file,
            line=number,
        )
    if URL.match(target):
        check_credentials(target, file, number, None)
        option = PipOption(name, target)
        text = f"{short} {target}"
        return [RequirementLine(text, option=option, file=file, line=number, source=str(file))]
    if len(seen) >= MAX_INCLUDE_DEPTH:
        raise SpecError(
            f"'{short} {bare(target)}' nests requirements files more than {MAX_INCLUDE_DEPTH} deep",
            file=file,
            line=number,
        )
    path = file.parent / target
    resolved = path.resolve()
    if not resolved.is_relative_to(include_root):
        raise SpecError(
            f"'{short} {bare(target)}' is outside {include_root}; an included requirements "
            "file must be inside the source root (or, for a requirements file outside it, "
            "beside or below that file)",
            file=file,
            line=number,
        )
    if resolved in seen:
        chain = " -> ".join(p.name for p in (*seen, resolved))
        raise SpecError(
            f"'{short} {bare(target)}' includes itself ({chain})", file=file, line=number
        )
    return _read_file(
        path,
        constraint=constraint or name == "--constraint",
        seen=seen,
        ref=(file, number, None),
        include_root=include_root,
        project=project,
    )


def _requirement_line(
    text: str, at: tuple[Path, int], column: int | None, constraint: bool
) -> RequirementLine:
    file, number = at
    spec, hashes, options = _split_requirement_options(text, file, number)
    req = checked_requirement(spec, file, number, column, None)
    if isinstance(req, UrlRequirement):
        if constraint:
            raise SpecError(
                f"'{bare(spec)}' in a constraints file names no package; pip needs "
                "'NAME @ URL' there",
                file=file,
                line=number,
            )
        named: dict = {"unnamed": req}
    else:
        named = {"requirement": req}
    return RequirementLine(
        spec,
        **named,
        file=file,
        line=number,
        source=str(file),
        constraint=constraint,
        hashes=hashes,
        line_options=options,
    )


# Per-requirement options pip reads after a requirement in a file (its SUPPORTED_OPTIONS_REQ,
# plus ``--config-settings`` since pip 23.1): long name -> the short one.
PER_REQUIREMENT_OPTIONS = {"--hash": None, "--global-option": None, "--config-settings": "-C"}
_REMOVED_OPTIONS = {"--install-option": "pip 23.1 removed it; use --config-settings"}


def _split_requirement_options(
    text: str, file: Path, number: int
) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """``pkg==1.0 --hash=sha256:... -C key=value``: the requirement, its hashes and its other
    per-line options (each one ``--name=value`` token). pip's rule: options start at the first
    ' '-separated word starting with '-', and are split with shlex."""
    tokens = text.split(" ")
    first = next((i for i, t in enumerate(tokens) if t.startswith("-")), len(tokens))
    spec, rest = " ".join(tokens[:first]).strip(), tokens[first:]
    hashes: list[str] = []
    others: list[str] = []
    try:
        options = shlex.split(" ".join(rest))
    except ValueError as e:
        raise SpecError(f"cannot split '{bare(text)}': {e}", file=file, line=number) from None
    i = 0
    while i < len(options):
        token = options[i]
        if token.startswith("-C") and not token.startswith("--"):
            name, eq, value = "--config-settings", token[2:], token[2:]
        else:
            name, eq, value = token.partition("=")
        if name in _REMOVED_OPTIONS:
            message = f"per-requirement option {show(name)}: {_REMOVED_OPTIONS[name]}"
            raise SpecError(message, file=file, line=number)
        if name not in PER_REQUIREMENT_OPTIONS:
            known = ", ".join(PER_REQUIREMENT_OPTIONS)
            raise SpecError(
                f"per-requirement option {show(name)} is not one pip reads in a file ({known})",
                file=file,
                line=number,
            )
        if not eq:
            i += 1
            value = options[i] if i < len(options) else ""
        i += 1
        if name == "--hash":
            if not re.fullmatch(r"[a-z0-9]+:[0-9a-fA-F]+", value):
                message = f"--hash {show(value)} is not 'algorithm:hexdigest'"
                raise SpecError(message, file=file, line=number)
            hashes.append(value)
            continue
        _check_value_characters(name, value, file, number)
        if name == "--config-settings" and "=" not in value:
            raise SpecError(
                f"--config-settings {show(value)} is not 'KEY=VALUE'", file=file, line=number
            )
        check_credentials(value, file, number, None)
        _check_keyed_secret(name, value, file, number)
        others.append(f"{name}={value}")
    return spec, tuple(hashes), tuple(others)
