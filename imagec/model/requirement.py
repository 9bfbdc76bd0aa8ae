"""The one requirement checker: pip's grammar (PEP 508, read by ``imagec.model.pep508`` as
``packaging`` reads it), what an image can install, and credentials that must not be baked in.
The spec model validates ``requirements`` entries with it, and resolution checks requirement
files' lines with it."""

from __future__ import annotations

import re
from pathlib import Path

from imagec.errors import SpecError
from imagec.model.pep508 import InvalidRequirement, Marker, Requirement
from imagec.util.records import Record, mark_frozen, record
from imagec.util.secrets import SECRET_HINT, has_literal_credentials
from imagec.util.text import bare, show

_ARCHIVE_SUFFIXES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# pip's requirements-file option; a spec's list entry and a requirements file's line both
# name another file with it (read by `requirements_file_of` and `split_option`).
REQUIREMENT_OPTION = frozenset({"-r", "--requirement"})

# The schemes pip installs a bare URL from (pip's ``is_url``: http, https, ftp and its VCS
# schemes); ``file`` and ``VCS+file`` name this machine's files, which the build cannot see.
_VCS = ("git", "hg", "svn", "bzr")
_REMOTE_VCS = {
    "git": ("http", "https", "ssh", "git"),
    "hg": ("http", "https", "ssh", "static-http"),
    "svn": ("ssh", "http", "https", "svn"),
    "bzr": ("http", "https", "ssh", "sftp", "ftp", "lp"),
}
URL_SCHEMES = frozenset(
    {"http", "https", "ftp"}
    | {f"{vcs}+{transport}" for vcs, transports in _REMOTE_VCS.items() for transport in transports}
)
_LOCAL_SCHEMES = frozenset({"file", *(f"{vcs}+file" for vcs in _VCS)})


@record
class UrlRequirement(Record):
    """A requirement pip installs from a URL that names no project, as pip reads it
    (``pip._internal.req.constructors.parse_req_from_line``): ``URL`` or ``URL ; marker``
    (a URL's marker follows ``"; "``), e.g. ``git+https://github.com/huggingface/diffusers``
    or ``https://host/x-1.0-py3-none-any.whl``; pip finds the name when it installs."""

    url: str
    marker: Marker | None = None
    text: str = ""  # as written: pip keeps the line's text, so a rewrite keeps it too

    def __str__(self) -> str:
        if self.text:
            return self.text
        return self.url if self.marker is None else f"{self.url} ; {self.marker}"

    @property
    def name(self) -> str | None:
        """The project the URL names, when it says so as pip reads it: an ``#egg=NAME``
        fragment, or a wheel's or sdist's file name; else None (pip learns it by building)."""
        fragment = self.url.partition("#")[2]
        for param in fragment.split("&"):
            key, _, value = param.partition("=")
            if key == "egg" and value:
                return value.split("[", 1)[0]
        filename = self.url.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        # Loaded here: packaging's file-name readers bring its platform tags (and logging,
        # subprocess, sysconfig), which a compile without such a URL never needs.
        from packaging.utils import (
            InvalidSdistFilename,
            InvalidWheelFilename,
            parse_sdist_filename,
            parse_wheel_filename,
        )

        try:
            if filename.endswith(".whl"):
                return str(parse_wheel_filename(filename)[0])
            return str(parse_sdist_filename(filename)[0])
        except (InvalidWheelFilename, InvalidSdistFilename):
            return None


mark_frozen(UrlRequirement)


def _url_requirement(text, fail, file, line, field) -> UrlRequirement:
    url, sep, marker_text = text.partition("; ")
    url = url.strip()
    scheme = url.split(":", 1)[0].lower()
    if scheme in _LOCAL_SCHEMES:
        raise fail(f"'{bare(text)}' points at a local file; {_LOCAL_HINT}")
    if scheme not in URL_SCHEMES or url.rstrip("/").endswith(":"):
        known = "http(s), ftp, git+https, git+ssh, hg+https, svn+https, bzr+https, ..."
        raise fail(f"'{bare(text)}' is not a URL pip installs from (schemes: {known})")
    if re.search(r"\s", url):
        raise fail(
            f"invalid requirement {show(text)}: a URL ends at a space; write a marker after '; '"
        )
    marker = None
    if sep:
        try:
            marker = Marker(marker_text.strip())
        except InvalidRequirement as e:
            reason, _ = _explain(str(e))
            raise fail(f"invalid requirement '{bare(text)}': {reason}") from None
    option = next((w for w in str(marker or "").split(" ") if w.startswith("-")), None)
    if option is not None:
        raise fail(
            f"invalid requirement {show(text)}: pip would read {show(option)} in it as an option"
        )
    check_credentials(url, file, line, field)
    return UrlRequirement(url, marker, text)


def split_option(token: str) -> tuple[str, str | None]:
    """A pip option token as optparse reads it: (name, value given in the token or None).

    ``--name=VALUE`` -> (``--name``, VALUE); ``-xVALUE`` -> (``-x``, VALUE); ``--name`` and
    ``-x`` -> (name, None): the value is then the next token. ``token`` starts with ``-``.
    """
    if token.startswith("--"):
        name, eq, value = token.partition("=")
        return name, value if eq else None
    return token[:2], token[2:] or None


def requirements_file_of(value: str) -> str | None:
    """The path of a ``-r PATH`` list entry (a requirements file among the list), else None;
    ``""`` when the option names no file. pip's spellings: ``-r PATH``, ``-rPATH``,
    ``--requirement PATH``, ``--requirement=PATH``; the rest of the entry is the path."""
    token, _, rest = value.partition(" ")
    if not token.startswith("-"):
        return None
    name, attached = split_option(token)
    if name not in REQUIREMENT_OPTION:
        return None
    return (rest if attached is None else f"{attached} {rest}").strip()


def editable_of(value: str) -> str | None:
    """The path of a ``-e PATH`` (``--editable``) list entry, else None: only ``-e .``-style
    entries naming the source root are meaningful in an image (``install_project``)."""
    token, _, rest = value.strip().partition(" ")
    if not token.startswith("-"):
        return None
    name, attached = split_option(token)
    if name not in ("-e", "--editable"):
        return None
    return (rest if attached is None else f"{attached} {rest}").strip()


def checked_requirement(
    text: str,
    file: str | Path | None,
    line: int | None,
    column: int | None,
    field: str | None,
) -> Requirement | UrlRequirement:
    """``text`` as pip reads a requirement: ``NAME[extras] SPEC ; marker``, ``NAME @ URL``, or
    a URL without a name (``UrlRequirement``); refused when an image build could not install it
    (a local path, a ``file:`` URL) or it would store a credential in the image."""

    def fail(message: str, offset: int | None = None) -> SpecError:
        col = column + offset if column is not None and offset is not None else column
        return SpecError(message, file=file, line=line, column=col, field=field)

    looks_like_url = bool(URL.match(text)) or text.startswith(("git+", "hg+", "svn+", "bzr+"))
    if looks_like_url:
        return _url_requirement(text, fail, file, line, field)
    if _is_local_path(text):
        raise fail(
            f"'{bare(text)}' is a local path, which the image build cannot see; {_LOCAL_HINT}"
        )
    try:
        req = Requirement(text)
    except InvalidRequirement as e:
        reason, offset = _explain(str(e))
        if "=" in text and not re.search(r"[=<>!~]=|[<>]", text):
            reason += "; pin a version with '=='"
        raise fail(f"invalid requirement '{bare(text)}': {reason}", offset) from None
    # The requirement is written as one line of a requirements file, where pip takes the first
    # ' '-separated word starting with '-' as the start of options: a marker string such as
    # `python_version == " --pre"` would be cut there and not parse.
    option = next((w for w in str(req).split(" ")[1:] if w.startswith("-")), None)
    if option is not None:
        raise fail(
            f"invalid requirement {show(text)}: pip would read {show(option)} in it as an option"
        )
    if req.url is not None:
        if req.url.startswith("file:"):
            raise fail(f"'{bare(text)}' points at a local file; {_LOCAL_HINT}")
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


def check_credentials(
    url: str, file: str | Path | None, line: int | None, field: str | None
) -> None:
    if has_literal_credentials(url):
        raise SpecError(
            f"'{bare(url)}' contains a password or token, which would be stored in "
            f"the image; {SECRET_HINT}",
            file=file,
            line=line,
            field=field,
        )
