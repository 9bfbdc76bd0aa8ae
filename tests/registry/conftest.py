"""A registry for the session (TLS from a test CA, htpasswd) and both engines trusting it and
logged in to it with their own login files: ``registry``, ``logins`` (kind -> the environment
variables that make docker / podman, and imagec, use that engine's login)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.engines import Engine
from support.registry import RunningRegistry, TestCA, login, start_registry, trusted


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="session")
def registry(
    tmp_path_factory: pytest.TempPathFactory, test_ca: TestCA
) -> Iterator[RunningRegistry]:
    with start_registry(tmp_path_factory.mktemp("registry"), test_ca) as running:
        yield running


@contextlib.contextmanager
def _logged_in(engine: Engine, registry: RunningRegistry, directory: Path) -> Iterator[dict]:
    with trusted(engine.kind, registry.host, registry.ca_cert):
        yield login(engine, registry, directory)


@pytest.fixture(scope="session")
def docker_login(
    docker_engine: Engine, registry: RunningRegistry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """``DOCKER_CONFIG`` of a ``docker login`` to the registry (dockerd trusts its CA)."""
    with _logged_in(docker_engine, registry, tmp_path_factory.mktemp("docker-config")) as env:
        yield env


@pytest.fixture(scope="session")
def podman_login(
    podman_engine: Engine, registry: RunningRegistry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """``REGISTRY_AUTH_FILE`` of a ``podman login`` to the registry (podman trusts its CA)."""
    with _logged_in(podman_engine, registry, tmp_path_factory.mktemp("podman-auth")) as env:
        yield env
