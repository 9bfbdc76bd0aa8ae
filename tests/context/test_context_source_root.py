"""Choosing the source root."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagec.errors import SpecError
from imagec.resolve.source_root import REPO_MARKER, detect_source_root


def test_explicit_setting_wins(tmp_path: Path) -> None:
    (tmp_path / REPO_MARKER).mkdir()
    (tmp_path / "spec" / "src").mkdir(parents=True)
    root = detect_source_root(tmp_path / "spec", explicit="src")
    assert root.path == tmp_path / "spec" / "src"
    assert root.rule == "source_root in the spec"


def test_explicit_absolute_path_and_custom_label(tmp_path: Path) -> None:
    root = detect_source_root(tmp_path / "x", explicit=tmp_path, explicit_label="--source-root")
    assert (root.path, root.rule) == (tmp_path, "--source-root")


def test_nearest_repository_marker(tmp_path: Path) -> None:
    (tmp_path / REPO_MARKER).mkdir()
    (tmp_path / "inner" / REPO_MARKER).mkdir(parents=True)
    start = tmp_path / "inner" / "pipelines" / "train"
    start.mkdir(parents=True)
    root = detect_source_root(start)
    assert root.path == tmp_path / "inner"
    assert root.rule == f"imagec repository at {tmp_path / 'inner'} ({REPO_MARKER}/)"


def test_marker_must_be_a_directory(tmp_path: Path) -> None:
    (tmp_path / REPO_MARKER).write_text("")
    start = tmp_path / "a"
    start.mkdir()
    root = detect_source_root(start, start_label="directory of the Python file")
    assert (root.path, root.rule) == (start, "directory of the Python file")


def test_start_directory_by_default(tmp_path: Path) -> None:
    root = detect_source_root(tmp_path)
    assert (root.path, root.rule) == (tmp_path, "directory of the spec file")


def test_explicit_root_must_exist_and_be_a_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(SpecError, match="does not exist") as info:
        detect_source_root(tmp_path, explicit="missing", error_file=tmp_path / "spec.yaml")
    assert info.value.file == str(tmp_path / "spec.yaml")
    assert info.value.field == "source_root"
    with pytest.raises(SpecError, match="is not a directory"):
        detect_source_root(tmp_path, explicit="file")
