"""Class 13: nothing is silently accepted. Duplicate keys in JSON specs are refused like YAML
and TOML duplicates; a requirement whose marker pip would cut is refused; labels under
``dev.imagec.*`` and an ``IMAGEC_CONFIG_DIR`` of the user's, which imagec sets itself, are
refused instead of overridden."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.hostile import imagec, refused
from support.timeout import time_limit_fixture

_limit = time_limit_fixture(60)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            '{"base_image": "python:3.11-slim",\n "base_image": "evil.example/backdoor:1"}\n',
            r"2:2: duplicate key 'base_image' \(first on line 1\)",
        ),
        ('{"labels": {"a": "1", "a": "2"}}', r"1:23: duplicate key 'a' \(first on line 1\)"),
        (
            '{"labels": {"team": "x"}, "environment": {"A": "1", "\\u0041": "2"}}',
            r"1:53: duplicate key 'A' \(first on line 1\)",
        ),
        (
            '{"user": "app",\n\n "user": "root"}',
            r"3:2: duplicate key 'user' \(first on line 1\)",
        ),
    ],
)
def test_json_duplicate_keys_are_refused(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "imagec.json").write_text(text)
    refused(imagec("validate", "imagec.json", cwd=tmp_path), rf"imagec\.json:{message}")


@pytest.mark.parametrize(
    "text, message",
    [
        ("base_image: python:3.11-slim\nbase_image: evil.example/x:1\n", r"imagec\.yaml:2:1: .*"),
    ],
)
def test_yaml_duplicates_still_refused(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "imagec.yaml").write_text(text)
    refused(imagec("validate", "imagec.yaml", cwd=tmp_path), message)


@pytest.mark.parametrize(
    "requirement, option",
    [
        ('foo; python_version == " --pre"', '--pre"'),
        ("foo; platform_release == 'a -e b'", "-e"),
        ('foo; os_name == "x --index-url=https://evil.example/simple"', "--index-url=https"),
    ],
)
def test_markers_pip_cannot_read_are_refused(tmp_path: Path, requirement: str, option: str) -> None:
    (tmp_path / "imagec.yaml").write_text(
        f"requirements:\n  - '{requirement.replace(chr(39), chr(39) * 2)}'\n"
    )
    line = refused(
        imagec("validate", "imagec.yaml", cwd=tmp_path),
        r"imagec\.yaml:2:5: requirements\[0\]: invalid requirement .*: pip would read .* in it "
        r"as an option",
    )
    assert option.split("=")[0] in line


@pytest.mark.parametrize("key", ["dev.imagec.version", "dev.imagec.content-hash", "Dev.Imagec.x"])
def test_reserved_labels_are_refused(tmp_path: Path, key: str) -> None:
    (tmp_path / "imagec.yaml").write_text(f"labels:\n  {key}: mine\n")
    refused(
        imagec("validate", "imagec.yaml", cwd=tmp_path),
        rf"imagec\.yaml:2:3: labels\.{key}: label '{key}' is under dev\.imagec\.\*, which imagec "
        r"sets itself",
    )


def test_reserved_environment_is_refused(tmp_path: Path) -> None:
    (tmp_path / "imagec.yaml").write_text("environment:\n  IMAGEC_CONFIG_DIR: /tmp/evil\n")
    refused(
        imagec("validate", "imagec.yaml", cwd=tmp_path),
        r"imagec\.yaml:2:3: environment\.IMAGEC_CONFIG_DIR: IMAGEC_CONFIG_DIR is set by imagec .*",
    )


def test_other_labels_and_environment_are_kept(tmp_path: Path) -> None:
    (tmp_path / "imagec.yaml").write_text(
        "labels:\n  dev.imagecx.team: a\n  org.example.imagec: b\n"
        "environment:\n  IMAGEC_STACK_NOTE: c\n"
    )
    result = imagec("validate", "imagec.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
