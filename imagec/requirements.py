"""pip requirements: read lines and files as pip does, merge sources, render one file.

Requirements come from a pipeline's ``requirements`` list or file, from integrations and from
the stack. They are checked here, before any build, so a typo or two pins that can never both
hold is reported with its file and line instead of as a resolver failure minutes into a build.

Requirement files support what makes sense inside an image:

* ``-r``/``--requirement`` and ``-c``/``--constraint`` with a local path are read recursively
  (relative to the including file); with a URL they are kept for pip to fetch.
* ``--index-url``, ``--extra-index-url``, ``--no-index``, ``--find-links`` (URL only),
  ``--trusted-host``, ``--no-binary``, ``--only-binary``, ``--prefer-binary``,
  ``--require-hashes`` and ``--pre`` are kept as global options; ``--hash`` per requirement.
* ``-e``/``--editable``, local paths and archives, bare URLs (write ``NAME @ URL``) and
  passwords or tokens written into URLs are errors: none of them works in a clean image
  without leaking or missing files.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import Specifier
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from imagec.errors import SpecError
from imagec.suggest import did_you_mean

CONSTRAINTS_FILENAME = "constraints.txt"
"""Name the rendered requirements file uses for its constraints file (``-c constraints.txt``)."""

# pip's rule: '#' starts a comment at the line start or after whitespace, so URL fragments
# such as ``#egg=name`` or ``#sha256=...`` survive.
_COMMENT = re.compile(r"(^|\s+)#.*$")
_ARCHIVE_SUFFIXES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/@?#]*)@")
_ENV_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")

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


@dataclass(frozen=True)
class PipOption:
    """A global pip option kept in the rendered file: ``--index-url URL``, ``--pre``."""

    name: str
    value: str | None = None

    def render(self) -> str:
        return self.name if self.value is None else f"{self.name} {self.value}"


@dataclass(frozen=True)
class RequirementLine:
    """One requirement or option, with where it was written."""

    text: str  # as written, without comment, continuation backslashes or per-line options
    requirement: Requirement | None = None
    option: PipOption | None = None
    file: Path | None = None
    line: int | None = None
    source: str = ""  # label for messages and the rendered header: "integration 'pytorch'"
    constraint: bool = False  # from a -c file: limits versions, installs nothing
    hashes: tuple[str, ...] = ()

    @property
    def origin(self) -> str:
        """``requirements (reqs.txt:3)``: the source label and, when known, the file and line."""
        if self.file is None:
            return self.source or "<unknown>"
        place = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{self.source} ({place})" if self.source else place

    def render(self) -> str:
        if self.option is not None:
            return self.option.render()
        return " ".join([str(self.requirement), *(f"--hash={h}" for h in self.hashes)])


Item = RequirementLine | Requirement | str
Ref = tuple[str | Path, int | None, int | None]
"""Where a requirements file was named: ``(file, line, column)``."""


def parse_requirement(
    text: str,
    *,
    file: str | Path | None = None,
    line: int | None = None,
    column: int | None = None,
    field: str | None = None,
) -> Requirement:
    """Parse one PEP 508 requirement, rejecting what pip could not install inside an image."""
    return _requirement(text.strip(), file, line, column, field)


def requirement_line(
    text: str,
    *,
    source: str,
    file: str | Path | None = None,
    line: int | None = None,
    column: int | None = None,
    field: str | None = None,
) -> RequirementLine:
    """A requirement from a spec list (not a file): ``"torch==2.1"``; options are not allowed."""
    stripped = text.strip()
    if stripped.startswith("-"):
        raise SpecError(
            f"'{stripped}' is a pip option; put options in a requirements file",
            file=file,
            line=line,
            column=column,
            field=field,
        )
    req = _requirement(stripped, file, line, column, field)
    where = Path(file) if file is not None else None
    return RequirementLine(stripped, req, file=where, line=line, source=source)


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


def merge_sources(sources: Sequence[tuple[str, Sequence[Item]]]) -> list[RequirementLine]:
    """Label every line with its source and reject what pip could never install together.

    ``sources`` pairs a label (``"requirements"``, ``"integration 'pytorch'"``) with its lines.
    Compatible duplicates are kept; pip resolves them.
    """
    lines = [_as_line(item, label) for label, items in sources for item in items]
    _check_versions(lines)
    _check_index_urls(lines)
    _check_hashes(lines)
    return lines


def check_conflicts(sources: Sequence[tuple[str, Sequence[Item]]]) -> None:
    """``merge_sources`` for its checks only."""
    merge_sources(sources)


def render_requirements_file(
    lines: Sequence[Item], *, header: str | None = None, constraints: str = CONSTRAINTS_FILENAME
) -> str:
    """The file pip installs from: options first, then one requirement per line by name.

    The header comment names ``header``, or else the sources of the lines. Constraint lines
    are left out; when there are any, the file refers to ``constraints`` next to it (see
    ``render_constraints_file``).
    """
    items = [
        _as_line(item, "") if not isinstance(item, RequirementLine) else item for item in lines
    ]
    body = _unique(line.render() for line in items if line.option is not None)
    if any(line.constraint for line in items if line.requirement is not None):
        body.append(f"-c {constraints}")
    body += _sorted_requirements([line for line in items if not line.constraint])
    return _with_header(items, body, header)


def render_constraints_file(
    lines: Sequence[RequirementLine], *, header: str | None = None
) -> str | None:
    """The ``constraints.txt`` that the rendered requirements refer to, or None if not needed."""
    constraints = [line for line in lines if line.constraint and line.requirement is not None]
    if not constraints:
        return None
    return _with_header(lines, _sorted_requirements(constraints), header)


# --- reading -----------------------------------------------------------------------------


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
    def fail(message: str, line: int | None = None) -> SpecError:
        if ref is not None and line is None:
            file, ref_line, ref_column = ref
            return SpecError(f"{message}: {path}", file=file, line=ref_line, column=ref_column)
        return SpecError(message, file=path, line=line)

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise fail("requirements file not found") from None
    except IsADirectoryError:
        raise fail("is a directory, not a requirements file") from None
    except OSError as e:
        raise fail(f"cannot read requirements file: {e.strerror}") from None
    if b"\0" in data:
        raise fail("is a binary file, not a requirements file")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise fail(f"is not UTF-8 text (byte 0x{data[e.start]:02x})", line) from None


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
    if not _URL.match(value):
        what = "a local directory" if name == "--find-links" else "not a URL"
        raise SpecError(
            f"{name} '{value}' is {what}; the image build can only reach URLs",
            file=file,
            line=number,
        )
    _check_credentials(value, file, number, None)


def _include(
    name: str, target: str, at: tuple[Path, int], *, constraint: bool, seen: tuple[Path, ...]
) -> list[RequirementLine]:
    file, number = at
    short = _INCLUDE_OPTIONS[name]
    if _URL.match(target) and not target.startswith("file:"):
        _check_credentials(target, file, number, None)
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
    req = _requirement(spec, file, number, column, None)
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


def _requirement(
    text: str,
    file: str | Path | None,
    line: int | None,
    column: int | None,
    field: str | None,
) -> Requirement:
    def fail(message: str, offset: int | None = None) -> SpecError:
        col = column + offset if column is not None and offset is not None else column
        return SpecError(message, file=file, line=line, column=col, field=field)

    looks_like_url = bool(_URL.match(text)) or text.startswith(("git+", "hg+", "svn+", "bzr+"))
    if looks_like_url:
        raise fail(f"'{text}' is a bare URL; write it as 'NAME @ URL' so pip knows the name")
    if _is_local_path(text):
        raise fail(f"'{text}' is a local path, which the image build cannot see; {_LOCAL_HINT}")
    try:
        req = Requirement(text)
    except InvalidRequirement as e:
        reason, offset = _explain(str(e))
        if "=" in text and not re.search(r"[=<>!~]=|[<>]", text):
            reason += "; pin a version with '=='"
        raise fail(f"invalid requirement '{text}': {reason}", offset) from None
    if req.url is not None:
        if req.url.startswith("file:"):
            raise fail(f"'{text}' points at a local file; {_LOCAL_HINT}")
        _check_credentials(req.url, file, line, field)
    return req


_LOCAL_HINT = "publish the package to an index or refer to it by URL"


def _is_local_path(text: str) -> bool:
    # pip's rule: a path has a separator or starts with '.', or names an archive file.
    head = re.split(r"[\s;@<>=!~\[]", text, maxsplit=1)[0]
    return (
        text.startswith((".", "/", "~"))
        or "/" in head
        or "\\" in head
        or head.lower().endswith(_ARCHIVE_SUFFIXES)
    )


def _explain(message: str) -> tuple[str, int | None]:
    """packaging's message is ``reason\\n    text\\n    ~~~^``: the reason and caret offset."""
    lines = message.splitlines()
    if len(lines) >= 3 and "^" in lines[-1]:
        return lines[0], max(lines[-1].index("^") - 4, 0)
    return lines[0] if lines else message, None


def has_literal_credentials(url: str) -> bool:
    """Does ``url`` carry a password or token in plain text? ``${VAR}`` in its place is fine;
    a user name alone is fine for ssh (``git+ssh://git@host``) but is a token for http."""
    m = _USERINFO.match(url)
    if m is None:
        return False
    scheme, userinfo = m.groups()
    user, colon, password = userinfo.partition(":")
    secret = password if colon else ("" if "ssh" in scheme.lower() else user)
    return bool(secret) and not _ENV_REF.match(secret)


def _check_credentials(
    url: str, file: str | Path | None, line: int | None, field: str | None
) -> None:
    if has_literal_credentials(url):
        raise SpecError(
            f"'{_redact(url)}' contains a password or token, which would be stored in the "
            "image; write it as ${VAR} and provide VAR to the build as a secret",
            file=file,
            line=line,
            field=field,
        )


def _redact(url: str) -> str:
    # Error messages end up in logs; never repeat the secret itself.
    return _USERINFO.sub(lambda m: f"{m.group(1)}://***@", url, count=1)


# --- merging -----------------------------------------------------------------------------


def _as_line(item: Item, label: str) -> RequirementLine:
    if isinstance(item, RequirementLine):
        return replace(item, source=label)
    if isinstance(item, Requirement):
        return RequirementLine(str(item), item, source=label)
    return requirement_line(item, source=label, field=label)


def _check_versions(lines: list[RequirementLine]) -> None:
    by_name: dict[str, list[RequirementLine]] = {}
    for line in lines:
        if line.requirement is not None:
            by_name.setdefault(canonicalize_name(line.requirement.name), []).append(line)
    for name, group in by_name.items():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if _incompatible(a.requirement, b.requirement):  # type: ignore[arg-type]
                    raise _conflict(name, a, b, "no version satisfies both")


def _conflict(name: str, a: RequirementLine, b: RequirementLine, why: str) -> SpecError:
    # Point at the line the user is most likely to edit: the first one that has a file.
    at = a if a.file is not None else b
    return SpecError(
        f"conflicting requirements for '{name}': '{a.text}' from {a.origin} "
        f"and '{b.text}' from {b.origin}; {why}",
        file=at.file,
        line=at.line,
    )


def _incompatible(a: Requirement, b: Requirement) -> bool:
    """True only when provably no version satisfies both (markers must match to compare)."""
    if str(a.marker or "") != str(b.marker or ""):
        return False
    if a.url is not None or b.url is not None:
        return a.url is not None and b.url is not None and a.url != b.url
    return _empty([*a.specifier, *b.specifier])


_Bound = tuple[Version, bool]  # (version, inclusive)


def _empty(specs: list[Specifier]) -> bool:
    """Intersect the specifiers as intervals over public versions.

    Only bounds that hold for every matching version are used (``===``, wildcards and local
    labels are skipped), so an empty result is a proof; anything else is left to pip.
    """
    low: _Bound | None = None
    high: _Bound | None = None
    for spec in specs:
        op, text = spec.operator, spec.version
        if op in ("===", "!=") or text.endswith(".*") or "+" in text:
            continue
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        if op in (">=", "~=", "==", ">"):
            low = _tighter(low, (version, op != ">"), lower=True)
        if op in ("<=", "==", "<"):
            high = _tighter(high, (version, op != "<"), lower=False)
    if low is None or high is None:
        return False
    if low[0] != high[0]:
        return low[0] > high[0]
    if not (low[1] and high[1]):
        return True
    # Exactly one public version is left; a `!=` that excludes it empties the set.
    return any(s.operator == "!=" and not s.contains(low[0], prereleases=True) for s in specs)


def _tighter(current: _Bound | None, new: _Bound, *, lower: bool) -> _Bound:
    if current is None:
        return new
    if new[0] == current[0]:
        return (new[0], new[1] and current[1])
    return new if (new[0] > current[0]) == lower else current


def _check_index_urls(lines: list[RequirementLine]) -> None:
    first: RequirementLine | None = None
    for line in lines:
        if line.option is None or line.option.name != "--index-url":
            continue
        if first is None:
            first = line
        elif line.option.value != first.option.value:  # type: ignore[union-attr]
            at = first if first.file is not None else line
            raise SpecError(
                f"two index URLs: '{first.option.value}' from {first.origin} and "  # type: ignore[union-attr]
                f"'{line.option.value}' from {line.origin}; pip uses one --index-url, "
                "add the other with --extra-index-url",
                file=at.file,
                line=at.line,
            )


def _check_hashes(lines: list[RequirementLine]) -> None:
    """pip checks hashes for every requirement or for none."""
    hashed = next((line for line in lines if line.hashes), None)
    if hashed is None:
        hashed = next(
            (ln for ln in lines if ln.option and ln.option.name == "--require-hashes"), None
        )
    if hashed is None:
        return
    for line in lines:
        if line.requirement is not None and not line.constraint and not line.hashes:
            raise SpecError(
                f"'{line.text}' from {line.origin} has no --hash, but {hashed.origin} "
                "turns on pip's hash checking, which needs a hash for every requirement",
                file=line.file,
                line=line.line,
            )


# --- rendering ---------------------------------------------------------------------------


def _sorted_requirements(lines: list[RequirementLine]) -> list[str]:
    reqs = [line for line in lines if line.requirement is not None]
    # Stable sort: lines for the same package keep their merge order.
    reqs.sort(key=lambda line: canonicalize_name(line.requirement.name))  # type: ignore[union-attr]
    return _unique(line.render() for line in reqs)


def _unique(items: Iterator[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _with_header(lines: Sequence[RequirementLine], body: list[str], header: str | None) -> str:
    if header is None:
        header = ", ".join(_unique(line.source for line in lines if line.source)) or "none"
    return "\n".join(["# Generated by imagec; do not edit.", f"# Source: {header}", *body]) + "\n"
