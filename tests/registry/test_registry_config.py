"""The stack's container_registry as read from the stack file, and the engine logins the
registry client reads (no engine needed)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from imagec.backend.registry import Login, login_for, parse
from imagec.errors import EngineError, SpecError
from imagec.resolve.stack import read_stack

STACK = """\
name: shared
components:
  orchestrator: {{flavor: local}}
  artifact_store: {{flavor: local}}
  container_registry:
    flavor: default
    config: {{uri: {uri}}}
"""


def stack_file(tmp_path: Path, uri: str) -> Path:
    path = tmp_path / "stack.yaml"
    path.write_text(STACK.format(uri=uri))
    return path


@pytest.mark.parametrize("uri", ["registry.example:5000/team", "localhost/a/b", "r.example/team/"])
def test_registry_uri_is_read(tmp_path, uri):
    assert read_stack(stack_file(tmp_path, uri)).registry_uri == uri.rstrip("/")


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (
            "'https://r.example/team'",
            "'https://r.example/team' has a scheme; write host[:port]/path",
        ),
        ("r.example:5000", "'r.example:5000' has no repository path"),
        ("team/app", "'team/app' is not host[:port]/path"),
        ("r.example/Team", "'r.example/Team' is not host[:port]/path"),
        ("'${REGISTRY}/team'", "the registry address is read when building"),
    ],
)
def test_bad_registry_uri_is_one_located_line(tmp_path, uri, message):
    path = stack_file(tmp_path, uri)
    with pytest.raises(SpecError) as info:
        read_stack(path)
    text = str(info.value)
    assert text.startswith(f"{path}:7:")
    assert "components.container_registry.config.uri: " in text
    assert message in text


def test_registry_without_uri_names_the_config(tmp_path):
    path = tmp_path / "stack.yaml"
    path.write_text(STACK.replace("    config: {{uri: {uri}}}\n", "    config: {{}}\n").format())
    with pytest.raises(SpecError, match="a container_registry needs 'uri: host"):
        read_stack(path)


def test_reference_names_a_registry_host_or_none():
    ref = parse("127.0.0.1:5000/team/app:0123abcd")
    assert ref is not None
    assert (ref.host, ref.path, ref.tag) == ("127.0.0.1:5000", "team/app", "0123abcd")
    assert parse("team/app:1") is None
    assert parse("python:3.11") is None


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_docker_login_from_docker_config(tmp_path, monkeypatch):
    (tmp_path / "config.json").write_text(
        json.dumps({"auths": {"r.example:5000": {"auth": _auth("ci", "s3:cret")}}})
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    login = login_for("r.example:5000", "docker")
    assert login == Login("ci", "s3:cret", str(tmp_path / "config.json"))
    assert login_for("other.example", "docker") is None


def test_podman_login_from_its_auth_file_then_a_credential_helper(tmp_path, monkeypatch):
    # A credential helper is a program speaking docker-credential-helpers' protocol.
    helper = tmp_path / "bin" / "docker-credential-imagectest"
    helper.parent.mkdir()
    helper.write_text(
        "#!/bin/sh\nread host\n"
        'if [ "$host" = helped.example ]; then\n'
        '  echo \'{"ServerURL":"helped.example","Username":"bot","Secret":"tok"}\'\n'
        "else echo 'credentials not found in native keychain'; exit 1; fi\n"
    )
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{helper.parent}{os.pathsep}{os.environ['PATH']}")
    auth = tmp_path / "auth.json"
    auth.write_text(
        json.dumps(
            {
                "auths": {"r.example": {"auth": _auth("u", "p")}},
                "credHelpers": {"helped.example": "imagectest"},
            }
        )
    )
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth))
    assert login_for("r.example", "podman") == Login("u", "p", str(auth))
    assert login_for("helped.example", "podman") == Login(
        "bot", "tok", "docker-credential-imagectest"
    )


def test_a_missing_helper_is_one_line(tmp_path, monkeypatch):
    auth = tmp_path / "auth.json"
    auth.write_text(json.dumps({"credsStore": "nosuchhelper"}))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth))
    with pytest.raises(EngineError, match="kept by docker-credential-nosuchhelper, which is not"):
        login_for("r.example", "podman")
