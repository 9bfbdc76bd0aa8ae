"""A planted .imagec/ in a parent directory does not take over the build (CVE-2022-24765 rules)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imagec.resolve.source_root import CEILING_ENV_VAR, REPO_MARKER, find_repository


def test_marker_owned_by_another_user_is_ignored_with_a_warning(tmp_path: Path, capsys) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give the marker another owner")
    (tmp_path / REPO_MARKER).mkdir()
    os.chown(tmp_path / REPO_MARKER, 4242, 4242)
    (tmp_path / "proj").mkdir()
    assert find_repository(tmp_path / "proj") is None
    assert f"ignoring {tmp_path / REPO_MARKER}: owned by uid 4242" in capsys.readouterr().err


def test_ceiling_stops_the_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / REPO_MARKER).mkdir()
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert find_repository(tmp_path / "a" / "b") == tmp_path
    monkeypatch.setenv(CEILING_ENV_VAR, f"relative:{tmp_path / 'a'}")
    assert find_repository(tmp_path / "a" / "b") is None
    # The start directory itself is always looked at, as git does.
    (tmp_path / "a" / REPO_MARKER).mkdir()
    assert find_repository(tmp_path / "a") == tmp_path / "a"
