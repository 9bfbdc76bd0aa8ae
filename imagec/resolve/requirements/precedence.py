"""The user's pins win over integration defaults.

An integration's requirements (``torch>=2.0,<3`` for ``pytorch``) are loose defaults. Where a
user source (the ``requirements`` list or a requirements file) names the same package with a
version specifier or a URL, the integration's line gives way, and the rendered file says so in
a comment above the package, so ``imagec ir`` shows why::

    # torch: 'torch==1.12.0' from requirements replaces the default 'torch<3,>=2.0' of
    # integration 'pytorch'
    torch==1.12.0

The user's line takes the default's place (keeping the default's extras) so the integration's
other packages are resolved against the user's pin in the same install. When the user's line
needs what only its own install step has (per-line options or hashes, or an index, find-links
or ``--no-index`` in its file), the default is dropped instead, and the user's step installs
the package with those options; the note then says it is left to that source.

Two user sources that contradict each other are still an error (``conflicts.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from imagec.model.pep508 import Requirement, canonicalize_name
from imagec.resolve.requirements.lines import RequirementLine
from imagec.util.text import show

# Options in a user's source that change where or how its packages are found: a pin from such
# a source is only installable by that source's own step.
_SOURCE_BOUND = frozenset({"--index-url", "--extra-index-url", "--find-links", "--no-index"})

Group = tuple[str, Sequence[RequirementLine]]
"""A source's label (``requirements``, ``reqs.txt``) and its lines."""


def user_pins(groups: Sequence[Group]) -> dict[str, list[tuple[str, RequirementLine, bool]]]:
    """Canonical name -> ``(label, line, bound)`` for every user line that pins a package
    (a version specifier or a URL); ``bound``: only its own step can install it."""
    pins: dict[str, list[tuple[str, RequirementLine, bool]]] = {}
    for label, lines in groups:
        bound_source = any(ln.option and ln.option.name in _SOURCE_BOUND for ln in lines)
        for line in lines:
            req = line.requirement or _named(line)
            if req is None or line.constraint or line.omitted or not (req.specifier or req.url):
                continue
            bound = bound_source or bool(line.hashes) or bool(line.line_options)
            pins.setdefault(canonicalize_name(req.name), []).append((label, line, bound))
    return pins


def apply_user_pins(
    defaults: Sequence[RequirementLine], pins: dict[str, list[tuple[str, RequirementLine, bool]]]
) -> list[RequirementLine]:
    """``defaults`` (an integration layer's lines) with every package the user pins replaced
    by the user's lines, or dropped (leaving a note) when only the user's step can install it."""
    out: list[RequirementLine] = []
    for line in defaults:
        req = line.requirement
        found = pins.get(canonicalize_name(req.name)) if req is not None else None
        if req is None or line.constraint or line.omitted or not found:
            out.append(line)
            continue
        users = " and ".join(f"{show(u.text)} from {_place(label, u)}" for label, u, _ in found)
        default = f"the default {show(str(req))} of {line.source}"
        if any(bound for _, _, bound in found):
            note = f"{req.name}: left to {users}, which installs it; {default} is not installed"
            out.append(replace(line, omitted=True, note=note))
            continue
        for n, (_, user, _) in enumerate(found):
            pinned = Requirement(str(user.requirement or _named(user)))
            pinned.extras = set(pinned.extras) | set(req.extras)
            note = f"{req.name}: {users} replaces {default}" if n == 0 else ""
            out.append(replace(line, text=str(pinned), requirement=pinned, note=note))
    return out


def _place(label: str, line: RequirementLine) -> str:
    """Where the user wrote the pin, without this machine's paths (the text is in the plan,
    whose digest must not depend on where the project lies): ``reqs.txt:3`` or the label."""
    if line.file is not None and line.line is not None and label != "requirements":
        return f"{label} ({line.file.name}:{line.line})"
    return label


def _named(line: RequirementLine) -> Requirement | None:
    """A URL written without a name, as ``NAME @ URL`` when the URL says the name (``#egg=``,
    a wheel's or sdist's file name): it pins that package like any other URL."""
    unnamed = line.unnamed
    if unnamed is None or unnamed.name is None:
        return None
    marker = f" ; {unnamed.marker}" if unnamed.marker is not None else ""
    try:
        return Requirement(f"{unnamed.name} @ {unnamed.url}{marker}")
    except ValueError:
        return None
