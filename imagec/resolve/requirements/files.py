"""Reading requirements files as pip does: comments, continuations, options, and local
``-r``/``-c`` includes followed recursively."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

from imagec.errors import SpecError
from imagec.model.requirement import URL, check_credentials, checked_requirement
from imagec.resolve.requirements.lines import PipOption, Ref, RequirementLine
from imagec.util.fsutil import read_user_text
from imagec.util.suggest import did_you_mean

# pip's rule: '#' starts a comment at the line start or after whitespace, so URL fragments
# such as ``#egg=name`` or ``#sha256=...`` survive.
_COMMENT = re.compile(r"(^|\s+)#.*$")


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
) -> list[RequirementLine]:
    """Read a pip requirements file, following local ``-r``/``-c`` includes.

    A relative ``path`` resolves against ``base_dir``. When the file cannot be read and
    ``origin`` says where it was named (``(file, line, column)``), the error points there.
    """
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    return _read_file(path, constraint=False, seen=(), ref=origin)


def _read_file(
    path: Path, *, constraint: bool, seen: tuple[Path, ...], ref: Ref | None
) -> list[RequirementLine]:
    text = _read_text(path, ref)
    key = path.resolve()
    seen = (*seen, key)
    out: list[RequirementLine] = []
    for number, raw, single in _logical_lines(text):
        logical = _COMMENT.sub("", raw).strip()
        if not logical:
            continue
        at = (path, number)
        if logical.startswith("-"):
            out += _option_line(logical, at, constraint=constraint, seen=seen)
        else:
            column = raw.index(logical) + 1 if single and logical in raw else None
            out.append(_requirement_line(logical, at, column, constraint))
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
    """Yield ``(first line number, joined text, single physical line)`` as pip joins them.

    A trailing backslash continues a line; a comment line ends a continuation.
    """
    parts: list[str] = []
    first = 0
    for number, line in enumerate(text.splitlines(), start=1):
        is_comment = _COMMENT.match(line) is not None
        if line.endswith("\\") and not is_comment:
            if not parts:
                first = number
            parts.append(line[:-1])
            continue
        if parts:
            yield first, "".join(parts) + ("" if is_comment else line), False
            parts = []
        else:
            yield number, line, True
    if parts:
        yield first, "".join(parts), False


def _option_line(
    text: str, at: tuple[Path, int], *, constraint: bool, seen: tuple[Path, ...]
) -> list[RequirementLine]:
    file, number = at
    try:
        tokens = shlex.split(text)
    except ValueError as e:
        raise SpecError(f"cannot split '{text}': {e}", file=file, line=number) from None
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
        if name in _INCLUDE_OPTIONS and value is not None:
            out += _include(name, value, at, constraint=constraint, seen=seen)
        else:
            _check_option_value(name, value, file, number)
            option = PipOption(name, value)
            out.append(
                RequirementLine(text, option=option, file=file, line=number, source=str(file))
            )
    return out


def _split_option(token: str, file: Path, number: int) -> tuple[str, str | None]:
    if token.startswith("--"):
        name, eq, value = token.partition("=")
    elif token.startswith("-") and len(token) > 1:
        name = _SHORT.get(token[:2], token[:2])
        value, eq = token[2:], token[2:]
    else:
        raise SpecError(f"unexpected '{token}' after pip options", file=file, line=number)
    if name in _REFUSED_OPTIONS:
        shown = token if token.startswith("--") else token[:2]
        raise SpecError(f"'{shown}': {_REFUSED_OPTIONS[name][1]}", file=file, line=number)
    if name not in _GLOBAL_OPTIONS and name not in _INCLUDE_OPTIONS:
        hint = did_you_mean(name, _ALL_OPTIONS)
        raise SpecError(f"unsupported pip option '{name}'{hint}", file=file, line=number)
    return name, (value if eq else None)


def _check_option_value(name: str, value: str | None, file: Path, number: int) -> None:
    if value is None or name not in ("--index-url", "--extra-index-url", "--find-links"):
        return
    if not URL.match(value):
        what = "a local directory" if name == "--find-links" else "not a URL"
        raise SpecError(
            f"{name} '{value}' is {what}; the image build can only reach URLs",
            file=file,
            line=number,
        )
    check_credentials(value, file, number, None)


def _include(
    name: str, target: str, at: tuple[Path, int], *, constraint: bool, seen: tuple[Path, ...]
) -> list[RequirementLine]:
    file, number = at
    short = _INCLUDE_OPTIONS[name]
    if URL.match(target) and not target.startswith("file:"):
        check_credentials(target, file, number, None)
        option = PipOption(name, target)
        text = f"{short} {target}"
        return [RequirementLine(text, option=option, file=file, line=number, source=str(file))]
    path = file.parent / target
    if path.resolve() in seen:
        chain = " -> ".join(p.name for p in (*seen, path.resolve()))
        raise SpecError(f"'{short} {target}' includes itself ({chain})", file=file, line=number)
    return _read_file(
        path, constraint=constraint or name == "--constraint", seen=seen, ref=(file, number, None)
    )


def _requirement_line(
    text: str, at: tuple[Path, int], column: int | None, constraint: bool
) -> RequirementLine:
    file, number = at
    spec, hashes = _split_requirement_options(text, file, number)
    req = checked_requirement(spec, file, number, column, None)
    return RequirementLine(
        spec,
        req,
        file=file,
        line=number,
        source=str(file),
        constraint=constraint,
        hashes=hashes,
    )


def _split_requirement_options(text: str, file: Path, number: int) -> tuple[str, tuple[str, ...]]:
    """``pkg==1.0 --hash=sha256:...``: pip's rule, options start at the first '-' token."""
    tokens = text.split(" ")
    first = next((i for i, t in enumerate(tokens) if t.startswith("-")), len(tokens))
    spec, rest = " ".join(tokens[:first]).strip(), tokens[first:]
    hashes: list[str] = []
    options = shlex.split(" ".join(rest))
    i = 0
    while i < len(options):
        name, eq, value = options[i].partition("=")
        if name != "--hash":
            raise SpecError(
                f"per-requirement option '{name}' is not supported (only --hash is)",
                file=file,
                line=number,
            )
        if not eq:
            i += 1
            value = options[i] if i < len(options) else ""
        if not re.fullmatch(r"[a-z0-9]+:[0-9a-fA-F]+", value):
            message = f"--hash '{value}' is not 'algorithm:hexdigest'"
            raise SpecError(message, file=file, line=number)
        hashes.append(value)
        i += 1
    return spec, tuple(hashes)
