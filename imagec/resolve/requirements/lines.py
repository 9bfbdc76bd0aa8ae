"""One requirement line: pip's grammar (PEP 508 via ``packaging``), what an image can
install, and credentials that must not be baked in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from imagec.errors import SpecError

_ARCHIVE_SUFFIXES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/@?#]*)@")
_ENV_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")


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
    return checked_requirement(text.strip(), file, line, column, field)


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
    req = checked_requirement(stripped, file, line, column, field)
    where = Path(file) if file is not None else None
    return RequirementLine(stripped, req, file=where, line=line, source=source)


def checked_requirement(
    text: str,
    file: str | Path | None,
    line: int | None,
    column: int | None,
    field: str | None,
) -> Requirement:
    def fail(message: str, offset: int | None = None) -> SpecError:
        col = column + offset if column is not None and offset is not None else column
        return SpecError(message, file=file, line=line, column=col, field=field)

    looks_like_url = bool(URL.match(text)) or text.startswith(("git+", "hg+", "svn+", "bzr+"))
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
        check_credentials(req.url, file, line, field)
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


def check_credentials(
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
