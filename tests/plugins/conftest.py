"""Fixtures for the plugin tests."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from support.fake_buildah import FakeBuildah
from support.plugins import BUILDAH_PLUGIN, REPO, THROWAWAYS, Throwaway, build_wheels, unpack
from support.venvs import Venv


@pytest.fixture(scope="session")
def throwaway_wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every throwaway plugin, built once per session (one pip call)."""
    root = tmp_path_factory.mktemp("throwaway")
    return build_wheels(THROWAWAYS, root / "src", root / "wheels")


@pytest.fixture
def site_with(throwaway_wheels: dict[str, Path], tmp_path: Path) -> Callable[..., Path]:
    """``site_with(ALPHA, BROKEN)``: a fresh site directory with those plugins installed."""

    def make(*plugins: Throwaway) -> Path:
        return unpack([throwaway_wheels[p.dist] for p in plugins], tmp_path / "site")

    return make


@pytest.fixture(scope="session")
def buildah_plugin() -> ModuleType:
    """The example buildah plugin, imported from its source folder (not installed here:
    installing it would add a backend to every other test in this environment)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(BUILDAH_PLUGIN))
        return importlib.import_module("imagec_buildah")


@pytest.fixture
def fake_buildah(tmp_path: Path) -> FakeBuildah:
    """A ``buildah`` on PATH that only records the argv each call receives."""
    return FakeBuildah.create(tmp_path / "fake-buildah")


@pytest.fixture(scope="session")
def plugin_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh virtual environment with imagec, imagec-containerfile and the example buildah
    plugin installed from their folders, as a user would: pip, no index."""
    venv = Venv.create(tmp_path_factory.mktemp("plugin-venv") / "venv")
    venv.install(REPO, REPO / "backends" / "containerfile", BUILDAH_PLUGIN)
    return venv
