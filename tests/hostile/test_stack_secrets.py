"""Class 3: stack secrets get past no check, and only the active stack reaches an image.

Detection errs on the side of refusing: any value under a key that looks secret, whatever its
type; any user info in any URL-like string; ``Authorization`` values and token shapes; binary
values, which no check can read. ``${VAR}`` is the way out. ``.imagec/`` (inactive stacks
included) is never part of the source copy."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.hostile import imagec, refused
from support.timeout import time_limit_fixture

_limit = time_limit_fixture(120)

SECRET = "8675309123"
TOKEN = "sk-" + "Q" * 24


def _stack(config: str) -> str:
    return (
        "name: s\ncomponents:\n  orchestrator: {flavor: local}\n  artifact_store: {flavor: local}\n"
        f"  experiment_tracker:\n    flavor: mlflow\n    config:\n{config}"
    )


LOC = r"components\.experiment_tracker\.config"
SECRET_KEY = r"holds a literal secret, and the stack file is copied into the image; write .*"
IN_VALUE = r"the value holds .*, and the stack file is copied into the image; write the secret .*"

CASES = [
    (f"      password: {SECRET}\n", rf"8:17: {LOC}\.password: 'password' {SECRET_KEY}"),
    (f"      password: {SECRET}.5\n", rf"8:17: {LOC}\.password: 'password' {SECRET_KEY}"),
    ("      token: !!binary c2VjcmV0\n", rf"8:14: {LOC}\.token: binary \(!!binary\) .*"),
    ("      note: !!binary c2VjcmV0\n", rf"8:13: {LOC}\.note: binary \(!!binary\) .*"),
    (f"      passWord: {SECRET}\n", rf"8:17: {LOC}\.passWord: 'passWord' {SECRET_KEY}"),
    ("      db_pass: hunter2\n", rf"8:16: {LOC}\.db_pass: 'db_pass' {SECRET_KEY}"),
    ("      auth_header: xyz\n", rf"8:20: {LOC}\.auth_header: 'auth_header' {SECRET_KEY}"),
    (
        f"      headers: {{Authorization: 'Bearer {TOKEN}'}}\n",
        rf"8:32: {LOC}\.headers\.Authorization: 'Authorization' {SECRET_KEY}",
    ),
    (f"      extra: 'Bearer {TOKEN}'\n", rf"8:14: {LOC}\.extra: {IN_VALUE}"),
    (f"      openai: {TOKEN}\n", rf"8:15: {LOC}\.openai: {IN_VALUE}"),
    (
        "      db: 'jdbc:postgresql://app:TOKEN@db/x'\n",
        rf"8:11: {LOC}\.db: {IN_VALUE}",
    ),
    ("      db: '   https://app:TOKEN@db/x'\n", rf"8:11: {LOC}\.db: {IN_VALUE}"),
    ("      opts: 'mirror=https://u:p@mirror.example/'\n", rf"8:13: {LOC}\.opts: {IN_VALUE}"),
    ("      endpoint: 'https://api.example/v1?api_key=abc123'\n", rf"8:17: {LOC}\.endpoint: .*"),
    ("      list: ['ok', 'redis://:p4ss@cache:6379/0']\n", rf"8:20: {LOC}\.list\[1\]: {IN_VALUE}"),
    ("      'https://u:p@h': 1\n", rf"8:7: {LOC}: a key holds a password or token; .*"),
]


@pytest.mark.parametrize("config, message", CASES)
def test_stack_secrets_are_refused(tmp_path: Path, config: str, message: str) -> None:
    (tmp_path / ".imagec").mkdir()
    (tmp_path / ".imagec" / "stack.yaml").write_text(_stack(config))
    (tmp_path / "imagec.yaml").write_text("copy_source: false\n")
    result = imagec("export", "imagec.yaml", "-o", "out", cwd=tmp_path)
    line = refused(result, rf"\.imagec/stack\.yaml:{message}|.*/\.imagec/stack\.yaml:{message}")
    for secret in (SECRET, TOKEN, "hunter2", "p4ss", "abc123", "c2VjcmV0"):
        assert secret not in line
    assert not (tmp_path / "out").exists()


FINE = [
    "      password: ${MLFLOW_PASSWORD}\n",
    "      tracking_uri: 'https://${USER}:${PASS}@mlflow.example'\n",
    "      token_uri: https://auth.example/token\n",
    "      max_tokens: 4096\n      use_token: true\n      password: null\n",
    "      git: 'git+ssh://git@github.com/o/r.git'\n",
]


@pytest.mark.parametrize("config", FINE)
def test_references_and_harmless_values_pass(tmp_path: Path, config: str) -> None:
    (tmp_path / ".imagec").mkdir()
    (tmp_path / ".imagec" / "stack.yaml").write_text(_stack(config))
    (tmp_path / "imagec.yaml").write_text("copy_source: false\n")
    result = imagec("export", "imagec.yaml", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_only_the_active_stack_reaches_the_export(tmp_path: Path) -> None:
    out = tmp_path / "out"
    tmp_path = tmp_path / "project"
    marker = tmp_path / ".imagec"
    (marker / "stacks").mkdir(parents=True)
    (marker / "stack.yaml").write_text(_stack("      tracking_uri: http://mlflow:5000\n"))
    (marker / "stacks" / "prod.yaml").write_text(
        _stack("      tracking_uri: http://prod-only-host.internal:5000\n").replace(
            "name: s", "name: prod"
        )
    )
    (marker / "notes.txt").write_text("inactive-marker-content\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    (tmp_path / "imagec.yaml").write_text("requirements: []\n")
    result = imagec("export", "imagec.yaml", "-o", out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = [p.relative_to(out).as_posix() for p in out.rglob("*")]
    assert "src/app.py" in names
    assert not [n for n in names if ".imagec" in n.split("/")], names
    written = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert b"prod-only-host" not in written
    assert b"inactive-marker-content" not in written
    assert b"http://mlflow:5000" in written  # the active stack, rendered


def test_nested_marker_is_left_out_too(tmp_path: Path) -> None:
    out = tmp_path / "out"
    tmp_path = tmp_path / "project"
    (tmp_path / ".imagec").mkdir(parents=True)
    (tmp_path / "sub" / ".imagec").mkdir(parents=True)
    (tmp_path / "sub" / ".imagec" / "stack.yaml").write_text("nested-marker-content\n")
    (tmp_path / "sub" / "kept.py").write_text("x = 1\n")
    (tmp_path / "imagec.yaml").write_text("requirements: []\n")
    result = imagec("export", "imagec.yaml", "-o", out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = [p.relative_to(out).as_posix() for p in out.rglob("*")]
    assert "src/sub/kept.py" in names
    assert not [n for n in names if ".imagec" in n.split("/")], names
