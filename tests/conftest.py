"""Fixtures for real container engines, shared by every test directory.

* ``podman_engine`` / ``docker_engine`` (session): a private ``podman system service`` or
  ``dockerd`` on a unix socket, with its own image store; yields an ``Engine``.
* ``engine`` (session): each of the two in turn (test ids ``[podman]`` and ``[docker]``).
* ``podman_images`` / ``docker_images`` / ``engine_images`` (session): the Debian base images
  on that engine; yields ``BaseImages`` (their tags).
* ``image_tags`` (function): unique scratch tags, whose images are removed after the test.

When an engine stops, its store is cleared down to the base images; anything a test left
there is reported at the end of the run, and an image a test tagged but did not remove fails
the run. Helpers live in ``tests/support/``; ``docs/engines.md`` has the details.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from support.baseimages import BaseImages, base_images, ensure_base_images
from support.containers import ImageTags
from support.engines import ENGINE_KINDS, Engine, start_docker, start_podman
from support.leftovers import Leftovers, clear_store, image_ids

_LEFTOVERS: list[Leftovers] = []


@contextlib.contextmanager
def _checked_store(engine: Engine) -> Iterator[Engine]:
    """Clear the store down to the base images when the engine stops; note what was left."""
    earlier = image_ids(engine)
    try:
        yield engine
    finally:
        images = base_images(engine)
        keep = (images.python, images.nopip, images.nopython)
        _LEFTOVERS.append(clear_store(engine, keep, earlier))


@pytest.fixture(scope="session")
def podman_engine() -> Iterator[Engine]:
    """A private ``podman system service`` on a temporary unix socket."""
    with start_podman() as engine, _checked_store(engine):
        yield engine


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[Engine]:
    """A private ``dockerd`` on a temporary unix socket."""
    with start_docker() as engine, _checked_store(engine):
        yield engine


@pytest.fixture(scope="session", params=ENGINE_KINDS)
def engine(request: pytest.FixtureRequest) -> Engine:
    """Each engine in turn (test ids ``[podman]`` and ``[docker]``)."""
    return request.getfixturevalue(f"{request.param}_engine")


@pytest.fixture(scope="session")
def podman_images(podman_engine: Engine) -> BaseImages:
    return ensure_base_images(podman_engine)


@pytest.fixture(scope="session")
def docker_images(docker_engine: Engine) -> BaseImages:
    return ensure_base_images(docker_engine)


@pytest.fixture(scope="session")
def engine_images(engine: Engine, request: pytest.FixtureRequest) -> BaseImages:
    """The base images on the current ``engine``."""
    return request.getfixturevalue(f"{engine.kind}_images")


@pytest.fixture
def image_tags() -> Iterator[ImageTags]:
    """``image_tags.new(engine)`` gives a unique tag; its image is removed after the test."""
    tags = ImageTags()
    try:
        yield tags
    finally:
        tags.cleanup()


@pytest.hookimpl(trylast=True)  # after the session's fixtures are torn down
def pytest_sessionfinish(session: pytest.Session) -> None:
    if any(found.tagged or found.stuck for found in _LEFTOVERS) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    found = [f for f in _LEFTOVERS if f]
    if not found:
        return
    terminalreporter.section("engine stores: left by the tests, now removed")
    for leftovers in found:
        terminalreporter.line(leftovers.describe())
    if any(f.tagged or f.stuck for f in found):
        terminalreporter.line(
            "FAILED: a test tagged an image and did not remove it (use image_tags, "
            "builds.remember or Engine.keep_until_stop), or an image could not be removed",
            red=True,
        )
