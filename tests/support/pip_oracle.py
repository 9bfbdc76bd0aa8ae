"""pip's own requirements-file parser as the oracle: what a requirements file means to pip.

``meaning(path)`` parses a file with ``pip._internal.req.req_file`` (the pip installed with
the tests), follows local ``-r``/``-c`` includes as pip does, and returns what pip would act
on: the requirements (normalized by ``packaging``, with their hashes, editable and constraint
flags) and the global options, as sets, since imagec orders and de-duplicates lines."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from pip._internal.network.session import PipSession
from pip._internal.req.req_file import RequirementsFileParser, get_line_parser

# Option destinations that change what pip installs or where it looks.
_DESTS = (
    "index_url", "extra_index_urls", "no_index", "find_links", "trusted_hosts", "prefer_binary",
    "require_hashes", "pre", "editables", "hashes", "format_control", "features_enabled",
    "global_options", "config_settings",
)  # fmt: skip


@dataclass(frozen=True)
class Meaning:
    requirements: frozenset[tuple[str, bool, bool, tuple[str, ...]]]
    options: frozenset[tuple[str, str]]
    includes: frozenset[tuple[str, str]]  # (-r or -c, URL) left for pip to fetch


def _normal(text: str) -> str:
    try:
        return str(Requirement(text))
    except InvalidRequirement:
        return text


def meaning(path: Path) -> Meaning:
    session = PipSession()
    parser = RequirementsFileParser(session, get_line_parser(None))
    reqs: set = set()
    options: set = set()
    includes: set = set()

    def walk(filename: str, constraint: bool) -> None:
        for line in parser._parse_file(filename, constraint):
            opts = line.opts
            nested = opts.requirements or opts.constraints
            if not line.is_requirement and nested:
                target = nested[0]
                kind = "-r" if opts.requirements else "-c"
                if "://" in target:
                    includes.add((kind, target))
                else:
                    walk(os.path.join(os.path.dirname(filename), target), kind == "-c")
                continue
            if line.is_requirement:
                hashes = tuple(
                    f"{alg}:{h}" for alg, hs in sorted((opts.hashes or {}).items()) for h in hs
                )
                reqs.add((_normal(line.requirement), line.is_editable, line.constraint, hashes))
                continue
            for dest in _DESTS:
                value = getattr(opts, dest, None)
                if value in (None, False, [], {}):
                    continue
                if dest == "format_control":
                    if value.no_binary or value.only_binary:
                        options.add((dest, repr(sorted(value.no_binary))
                                     + repr(sorted(value.only_binary))))  # fmt: skip
                    continue
                for item in value if isinstance(value, list) else [value]:
                    options.add((dest, str(item)))

    walk(str(path), False)
    return Meaning(frozenset(reqs), frozenset(options), frozenset(includes))
