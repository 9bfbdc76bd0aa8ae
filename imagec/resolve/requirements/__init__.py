"""pip requirements: read lines and files as pip does, merge sources, render one file.

Requirements come from a pipeline's ``requirements`` list or file, from integrations and from
the stack. They are checked here, before any build, so a typo or two pins that can never both
hold is reported with its file and line instead of as a resolver failure minutes into a build.

Requirement files support what makes sense inside an image:

* ``-r``/``--requirement`` and ``-c``/``--constraint`` with a local path are read recursively
  (relative to the including file); with a URL they are kept for pip to fetch.
* ``--index-url``, ``--extra-index-url``, ``--no-index``, ``--find-links`` (URL only),
  ``--trusted-host``, ``--no-binary``, ``--only-binary``, ``--prefer-binary``,
  ``--require-hashes`` and ``--pre`` are kept as options of that source: each source is its
  own install step, so a file with its own ``--index-url`` is an index for just its packages.
* Per requirement: ``--hash``, ``--global-option`` and ``--config-settings``/``-C``.
* URLs without a name (``git+https://github.com/org/repo``, ``https://host/x-1.0-py3-none-any.whl``)
  are kept as pip reads them; pip learns the name when it installs.
* ``-e``/``--editable``, local paths and archives, ``file:`` URLs and passwords or tokens
  written into URLs are errors: none of them works in a clean image without leaking or
  missing files.
"""

from imagec.resolve.requirements.conflicts import check_conflicts, merge_sources
from imagec.resolve.requirements.files import read_requirements_file
from imagec.resolve.requirements.lines import (
    Item,
    PipOption,
    Ref,
    RequirementLine,
    parse_requirement,
    requirement_line,
)
from imagec.resolve.requirements.render import (
    CONSTRAINTS_FILENAME,
    render_constraints_file,
    render_requirements_file,
)

__all__ = [
    "CONSTRAINTS_FILENAME",
    "Item",
    "PipOption",
    "Ref",
    "RequirementLine",
    "check_conflicts",
    "merge_sources",
    "parse_requirement",
    "read_requirements_file",
    "render_constraints_file",
    "render_requirements_file",
    "requirement_line",
]
