"""Requirements from several sources that pip could never install together: two pins no
version satisfies anywhere; within one source (one install step), two index URLs or hashed
beside unhashed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from imagec.errors import SpecError
from imagec.model.pep508 import Requirement, Specifier, canonicalize_name
from imagec.resolve.requirements.lines import Item, RequirementLine, requirement_line
from imagec.util.text import bare

if TYPE_CHECKING:
    from packaging.version import Version


def merge_sources(sources: Sequence[tuple[str, Sequence[Item]]]) -> list[RequirementLine]:
    """Label every line with its source and reject what pip could never install together.

    ``sources`` pairs a label (``"requirements"``, ``"integration 'pytorch'"``) with its lines.
    Compatible duplicates are kept; pip resolves them.
    """
    lines = [as_line(item, label) for label, items in sources for item in items]
    _check_versions(lines)
    # Each source is installed by its own step: an index or hash checking holds for its
    # source only (an index per source is how `torch --index-url .../cpu` is written).
    for label in dict.fromkeys(label for label, _ in sources):
        own = [line for line in lines if line.source == label]
        _check_index_urls(own)
        _check_hashes(own)
    return lines


def check_conflicts(sources: Sequence[tuple[str, Sequence[Item]]]) -> None:
    """``merge_sources`` for its checks only."""
    merge_sources(sources)


def as_line(item: Item, label: str) -> RequirementLine:
    if isinstance(item, RequirementLine):
        return replace(item, source=label)
    if isinstance(item, str):
        return requirement_line(item, source=label, field=label)
    # A parsed requirement (imagec's or packaging's): kept as its normal form.
    req = item if isinstance(item, Requirement) else Requirement(str(item))
    return RequirementLine(str(req), req, source=label)


def _check_versions(lines: list[RequirementLine]) -> None:
    by_name: dict[str, list[RequirementLine]] = {}
    for line in lines:
        if line.requirement is not None and not line.omitted:
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
        f"conflicting requirements for '{bare(name)}': '{bare(a.text)}' from {a.origin} "
        f"and '{bare(b.text)}' from {b.origin}; {why}",
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


_Bound = tuple["Version", bool]  # (version, inclusive)


def _empty(specs: list[Specifier]) -> bool:
    """Intersect the specifiers as intervals over public versions.

    Only bounds that hold for every matching version are used (``===``, wildcards and local
    labels are skipped), so an empty result is a proof; anything else is left to pip.
    """
    # PEP 440 ordering is packaging's; loaded only when one package is named twice.
    from packaging.version import InvalidVersion, Version

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
                f"two index URLs: '{bare(first.option.value)}' from {first.origin} and "  # type: ignore[union-attr]
                f"'{bare(line.option.value)}' from {line.origin}; pip uses one --index-url, "
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
        if line.installs and not line.hashes:
            raise SpecError(
                f"'{bare(line.text)}' from {line.origin} has no --hash, but {hashed.origin} "
                "turns on pip's hash checking, which needs a hash for every requirement",
                file=line.file,
                line=line.line,
            )
