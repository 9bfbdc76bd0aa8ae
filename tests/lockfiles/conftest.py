"""A real index on loopback serving each lock format's probe wheels, for the session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from support.package_index import PackageIndex

from lockfiles.projects import write_probes

# Names of this session's own: engine stores outlive a session.
RUN_ID = uuid.uuid4().hex[:8]
KINDS = ("uv", "poetry", "pipenv", "pylock", "pyproject")


@pytest.fixture(scope="session")
def probes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PackageIndex, dict]]:
    """The index (user ``ci``, password ``secret``) and each format's probe names."""
    wheels = tmp_path_factory.mktemp("lock-wheels")
    names = {kind: write_probes(wheels, kind, RUN_ID) for kind in KINDS}
    with PackageIndex(wheels, user="ci", password="secret") as index:
        yield index, names
