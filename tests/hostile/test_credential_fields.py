"""Class 2b: a credential in any free-text field of the spec never reaches the image.

Every field whose value is written into the image or its metadata (ENV, ARG, LABEL, a RUN's
argv, a parent build's `--build-arg`, build.json) either refuses a token with one located line
or leaves no byte of it in the export, on stdout or on stderr. The fields are listed here one
by one; a new free-text field belongs in this table."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.hostile import imagec
from support.timeout import time_limit_fixture

_limit = time_limit_fixture(120)

TOKEN = "ghp_" + "Zq81s3cr3t" * 4  # a GitHub token's shape: the detector knows it

# (spec, field the refusal names)
FIELDS = [
    (f"environment: {{X: {TOKEN}}}\n", "environment.X"),
    (f"runtime_environment: {{X: {TOKEN}}}\n", "runtime_environment.X"),
    (f"build_args: {{X: {TOKEN}}}\n", "build_args.X"),
    (f"labels: {{org.example.x: {TOKEN}}}\n", "labels.org.example.x"),
    ("labels: {org.example.api-token: abcdef123}\n", "labels.org.example.api-token"),
    (
        f"dockerfile: {{path: Dockerfile, build_args: {{X: {TOKEN}}}}}\n",
        "dockerfile.build_args.X",
    ),
    (
        "dockerfile: {path: Dockerfile, build_args: {GH_TOKEN: abcdef123}}\n",
        "dockerfile.build_args.GH_TOKEN",
    ),
    (f"build_steps: [{{run: echo, environment: {{X: {TOKEN}}}}}]\n", r"build_steps[0]"),
    (f"build_steps: ['curl -H \"Authorization: {TOKEN}\" x']\n", "build_steps[0]"),
    (f"command: ['run', '--token', '{TOKEN}']\n", "command"),
    (f"entrypoint: 'run --token {TOKEN}'\n", "entrypoint"),
    (f"secrets: [{{id: x, description: 'like {TOKEN}'}}]\n", "secrets[0]"),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    root.mkdir()
    (root / "app.py").write_text("print('hi')\n")
    (root / "Dockerfile").write_text("FROM python:3.11-slim\nARG X\nARG GH_TOKEN\n")
    return root


@pytest.mark.parametrize("spec, field", FIELDS, ids=[f for _, f in FIELDS])
def test_a_token_is_refused_or_goes_nowhere(project: Path, spec: str, field: str) -> None:
    (project / "imagec.yaml").write_text(spec)
    out = project.parent / "out"
    result = imagec("export", "imagec.yaml", "-o", out, cwd=project)
    secret = TOKEN if TOKEN in spec else "abcdef123"
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    if result.returncode == 2:
        (line,) = result.stderr.splitlines()
        assert line.startswith("imagec.yaml:1"), line
        assert f": {field}" in line, line
        assert secret not in line
        assert not out.exists()
        return
    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout + result.stderr
    for path in out.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
