"""Class 2: credentials never reach the image.

A password or token written into the spec (index URLs, find-links URLs, installer arguments,
``NAME @ URL`` requirements with a token in the URL or its query) or into a requirements file
is refused with a located one-line message that says how to pass it as a build secret. After
``imagec export`` no byte of the secret is anywhere in the output directory, on stdout or on
stderr; ``${VAR}`` in place of the secret exports, and the variable's value, even when set in
imagec's own environment, is never written."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.hostile import imagec, refused
from support.timeout import time_limit_fixture

_limit = time_limit_fixture(120)

SECRET = "s3cr3tT0kenZq81"
HINT = (
    r"pass it as a build secret: declare it in `secrets`, write \$\{NAME\} in its place, and run "
    r"`imagec build SPEC --secret id=NAME,env=VAR`"
)

SPECS = [
    (f"index_url: https://user:{SECRET}@pypi.example/simple\n", "1:12: index_url"),
    (f"index_url: https://{SECRET}@pypi.example/simple\n", "1:12: index_url"),
    (
        f"extra_index_urls: ['https://u:{SECRET}@x.example/simple']\n",
        r"1:20: extra_index_urls\[0\]",
    ),
    (f"find_links: ['https://u:{SECRET}@x.example/links/']\n", r"1:14: find_links\[0\]"),
    (
        f"installer_args: ['--extra-index-url=https://u:{SECRET}@x.example/simple']\n",
        r"1:18: installer_args\[0\]",
    ),
    (
        f"installer_args: ['--index-url', 'https://x.example/simple?access_token={SECRET}']\n",
        r"1:33: installer_args\[1\]",
    ),
    (
        f"requirements: ['pkg @ https://x.example/pkg-1.tar.gz?access_token={SECRET}']\n",
        r"1:16: requirements\[0\]",
    ),
    (
        f"requirements: ['pkg @ git+https://{SECRET}@github.com/o/pkg.git']\n",
        r"1:16: requirements\[0\]",
    ),
    (
        f"requirements: ['pkg @ https://u:{SECRET}@files.example/pkg-1.whl']\n",
        r"1:16: requirements\[0\]",
    ),
]  # fmt: skip


def _no_secret_anywhere(root: Path, *texts: str) -> None:
    for text in texts:
        assert SECRET not in text
    for path in root.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("spec, where", SPECS)
def test_credentials_in_the_spec_are_refused(tmp_path: Path, spec: str, where: str) -> None:
    (tmp_path / "imagec.yaml").write_text(spec)
    result = imagec("export", "imagec.yaml", "-o", "out", cwd=tmp_path)
    refused(result, rf"imagec\.yaml:{where}: .*which would be stored in the image; {HINT}")
    assert not (tmp_path / "out").exists()
    _no_secret_anywhere(tmp_path / "out", result.stdout, result.stderr)


FILES = [
    f"--index-url https://u:{SECRET}@pypi.example/simple\nfoo\n",
    f"--extra-index-url https://{SECRET}@pypi.example/simple\nfoo\n",
    f"-f https://x.example/links?token={SECRET}\nfoo\n",
    f"pkg @ https://x.example/pkg-1.tar.gz?api_key={SECRET}\n",
    f"-r https://u:{SECRET}@x.example/base.txt\n",
    f'--trusted-host "pypi.org --index-url https://u:{SECRET}@evil.example/simple"\n',
]


@pytest.mark.parametrize("text", FILES)
def test_credentials_in_requirements_files_are_refused(tmp_path: Path, text: str) -> None:
    (tmp_path / "requirements.txt").write_text(text)
    (tmp_path / "imagec.yaml").write_text("requirements: requirements.txt\n")
    result = imagec("export", "imagec.yaml", "-o", "out", cwd=tmp_path)
    refused(result, r"requirements\.txt:1: .*")
    assert not (tmp_path / "out").exists()
    _no_secret_anywhere(tmp_path / "out", result.stdout, result.stderr)


def test_env_references_export_without_the_value(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "--extra-index-url https://u:${PIP_TOKEN}@x.example/simple\nfoo\n"
    )
    (tmp_path / "imagec.yaml").write_text("requirements: requirements.txt\ncopy_source: false\n")
    result = imagec("export", "imagec.yaml", "-o", "out", cwd=tmp_path, env={"PIP_TOKEN": SECRET})
    assert result.returncode == 0, result.stderr
    written = b"".join(p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert b"${PIP_TOKEN}" in written
    _no_secret_anywhere(tmp_path / "out", result.stdout, result.stderr)
