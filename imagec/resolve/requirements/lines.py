"""One requirement line with where it was written; the grammar check itself is the model's
(``imagec.model.requirement``), the one checker every requirement goes through."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from imagec.errors import SpecError
from imagec.model.pep508 import Requirement
from imagec.model.requirement import UrlRequirement, checked_requirement
from imagec.util.records import Record, mark_frozen, record
from imagec.util.text import bare


@record
class PipOption(Record):
    """A global pip option kept in the rendered file: ``--index-url URL``, ``--pre``."""

    name: str
    value: str | None = None

    def render(self) -> str:
        # pip splits option lines with shlex: a value with a space or a quote would split
        # differently. Values are checked to hold none (files.py); quoting is the backstop.
        if self.value is None:
            return self.name
        plain = re.fullmatch(r"[^\s'\"\\]+", self.value) is not None
        return f"{self.name} {self.value if plain else shlex.quote(self.value)}"


@record
class RequirementLine(Record):
    """One requirement or option, with where it was written."""

    text: str  # as written, without comment, continuation backslashes or per-line options
    requirement: Requirement | None = None
    # A URL without a project name (``git+https://host/repo``); pip learns the name.
    unnamed: UrlRequirement | None = None
    option: PipOption | None = None
    file: Path | None = None
    line: int | None = None
    source: str = ""  # label for messages and the rendered header: "integration 'pytorch'"
    constraint: bool = False  # from a -c file: limits versions, installs nothing
    hashes: tuple[str, ...] = ()
    # Other per-requirement options pip allows in a file, each one token as rendered:
    # ``--config-settings=key=value``, ``--global-option=--no-user-cfg``.
    line_options: tuple[str, ...] = ()
    # Provenance shown as a comment above the line: why a default gave way to a user's pin.
    note: str = ""
    # A default left out because a user source installs the package: only its note is written.
    omitted: bool = False

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
        hashes = (f"--hash={h}" for h in self.hashes)
        req = self.unnamed if self.unnamed is not None else self.requirement
        return " ".join([str(req), *self.line_options, *hashes])

    @property
    def installs(self) -> bool:
        """Does the line install something (a requirement, not an option, constraint or a
        default left to the user's source)?"""
        named = self.requirement is not None or self.unnamed is not None
        return named and not (self.constraint or self.omitted)


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
) -> Requirement | UrlRequirement:
    """Parse one requirement (PEP 508, or a URL without a name), rejecting what pip could not
    install inside an image."""
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
            f"'{bare(stripped)}' is a pip option; put options in a requirements file",
            file=file,
            line=line,
            column=column,
            field=field,
        )
    req = checked_requirement(stripped, file, line, column, field)
    where = Path(file) if file is not None else None
    if isinstance(req, UrlRequirement):
        return RequirementLine(stripped, unnamed=req, file=where, line=line, source=source)
    return RequirementLine(stripped, req, file=where, line=line, source=source)


mark_frozen(PipOption, RequirementLine)
