"""The active stack: selection, validation, secrets, what goes into the image."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from imagec.errors import SpecError
from imagec.resolve.integrations import default_registry
from imagec.resolve.source_root import find_repository
from imagec.resolve.stack import (
    CONFIG_DIR_ENV_VAR,
    IMAGE_CONFIG_DIR,
    IMAGE_STACK_PATH,
    init_repository,
    is_secret_key,
    load_stack,
    read_stack,
    resolve_env_refs,
)

MLFLOW_STACK = """
name: training
components:
  orchestrator: {flavor: kubernetes, config: {namespace: ml}}
  artifact_store: {flavor: s3, config: {path: "s3://bucket/prefix"}}
  experiment_tracker:
    flavor: mlflow
    config:
      tracking_uri: "http://${MLFLOW_HOST}:5000"
      tracking_token: "${MLFLOW_TOKEN}"
      token_uri: "https://auth.example.com/token"
      max_tokens: 100
"""


@pytest.fixture(autouse=True)
def no_stack_env(monkeypatch):
    monkeypatch.delenv("IMAGEC_STACK", raising=False)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def stack_error(text: str, tmp_path: Path) -> str:
    path = write(tmp_path / "stack.yaml", text)
    with pytest.raises(SpecError) as info:
        read_stack(path)
    return str(info.value)


def test_image_constants():
    assert (IMAGE_CONFIG_DIR, IMAGE_STACK_PATH, CONFIG_DIR_ENV_VAR) == (
        "/etc/imagec",
        "/etc/imagec/stack.yaml",
        "IMAGEC_CONFIG_DIR",
    )


def test_init_creates_the_default_stack_and_never_overwrites(tmp_path):
    marker = init_repository(tmp_path)
    assert marker == tmp_path / ".imagec"
    stack = load_stack(tmp_path)
    assert stack is not None
    assert stack.name == "default"
    assert {k: c.flavor for k, c in stack.components.items()} == {
        "orchestrator": "local",
        "artifact_store": "local",
    }
    stack_file = tmp_path / ".imagec" / "stack.yaml"
    stack_file.write_text(stack_file.read_text() + "# edited\n")
    with pytest.raises(SpecError) as info:
        init_repository(tmp_path)
    assert str(info.value) == (
        f"{marker}: already initialized; not touching the existing directory"
    )
    assert stack_file.read_text().endswith("# edited\n")


def test_init_errors(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(SpecError) as info:
        init_repository(tmp_path / "file")
    assert str(info.value) == f"{tmp_path / 'file'}: not a directory"
    (tmp_path / ".imagec").write_text("not a directory")
    with pytest.raises(SpecError) as info:
        init_repository(tmp_path)
    assert str(info.value) == f"{tmp_path / '.imagec'}: exists and is not a directory"


def test_find_repository(tmp_path):
    init_repository(tmp_path)
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert find_repository(tmp_path / "a" / "b") == tmp_path


def test_no_repository_and_no_selection_means_no_stack(tmp_path):
    assert load_stack(None) is None
    (tmp_path / ".imagec").mkdir()
    assert load_stack(tmp_path) is None


def test_selection_by_flag_env_and_path(tmp_path, monkeypatch):
    init_repository(tmp_path)
    write(tmp_path / ".imagec" / "stacks" / "training.yaml", MLFLOW_STACK)
    other = write(tmp_path / "elsewhere" / "prod.yml", MLFLOW_STACK.replace("training", "prod"))
    assert load_stack(tmp_path, "training").name == "training"  # type: ignore[union-attr]
    assert load_stack(tmp_path, "default").name == "default"  # type: ignore[union-attr]
    assert load_stack(None, str(other)).name == "prod"  # type: ignore[union-attr]
    monkeypatch.setenv("IMAGEC_STACK", "training")
    assert load_stack(tmp_path).name == "training"  # type: ignore[union-attr]
    # The flag wins over the environment.
    assert load_stack(tmp_path, "default").name == "default"  # type: ignore[union-attr]


def test_unknown_stack_name(tmp_path, monkeypatch):
    init_repository(tmp_path)
    write(tmp_path / ".imagec" / "stacks" / "training.yaml", MLFLOW_STACK)
    stacks = tmp_path / ".imagec" / "stacks"
    with pytest.raises(SpecError) as info:
        load_stack(tmp_path, "trainig")
    assert str(info.value) == (
        f"{stacks}: no stack named 'trainig' (from --stack) (did you mean 'training'?)"
    )
    monkeypatch.setenv("IMAGEC_STACK", "prod")
    with pytest.raises(SpecError) as info:
        load_stack(tmp_path)
    assert str(info.value) == (
        f"{stacks}: no stack named 'prod' (from IMAGEC_STACK); stacks: default, training"
    )


def test_stack_name_without_repository():
    with pytest.raises(SpecError) as info:
        load_stack(None, "prod")
    assert str(info.value) == (
        "stack 'prod' (from --stack) is looked up in .imagec/stacks/, but there is no imagec "
        "repository here; run 'imagec init' or give a stack file path"
    )


def test_missing_stack_path(tmp_path):
    with pytest.raises(SpecError) as info:
        load_stack(None, str(tmp_path / "nope.yaml"))
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: stack file not found (from --stack)"


def test_detected_integrations(tmp_path):
    stack = read_stack(write(tmp_path / "s.yaml", MLFLOW_STACK))
    assert stack.required_integrations(default_registry()) == ["kubernetes", "mlflow", "s3"]
    assert stack.env_vars() == ["MLFLOW_HOST", "MLFLOW_TOKEN"]


def test_render_for_image_keeps_references_and_is_deterministic(tmp_path):
    stack = read_stack(write(tmp_path / "s.yaml", MLFLOW_STACK))
    rendered = stack.render_for_image()
    assert rendered == read_stack(write(tmp_path / "t.yaml", MLFLOW_STACK)).render_for_image()
    text = rendered.decode()
    assert text.startswith(
        "# imagec stack 'training'. ${VAR} references are resolved from the\n"
        "# container's environment at run time.\n"
    )
    data = yaml.safe_load(text)
    assert data["components"]["experiment_tracker"]["config"]["tracking_token"] == "${MLFLOW_TOKEN}"
    assert data["components"]["orchestrator"] == {
        "flavor": "kubernetes",
        "config": {"namespace": "ml"},
    }
    assert str(tmp_path) not in text


def test_resolve_env_refs_at_run_time():
    config = {"uri": "http://${HOST}:5000", "token": "${TOKEN}", "n": 3, "l": ["${HOST}"]}
    env = {"HOST": "mlflow", "TOKEN": "t0k"}
    assert resolve_env_refs(config, env) == {
        "uri": "http://mlflow:5000",
        "token": "t0k",
        "n": 3,
        "l": ["mlflow"],
    }
    with pytest.raises(SpecError) as info:
        resolve_env_refs("${MISSING}", {})
    assert str(info.value) == "environment variable MISSING is not set (the stack refers to it)"


def test_literal_secret_is_refused_with_file_line_and_key(tmp_path):
    message = stack_error(
        """
        name: s
        components:
          orchestrator: {flavor: local}
          artifact_store: {flavor: local}
          experiment_tracker:
            flavor: mlflow
            config:
              tracking_uri: http://mlflow:5000
              tracking_token: abc123supersecret
        """,
        tmp_path,
    )
    assert message == (
        f"{tmp_path / 'stack.yaml'}:9:23: components.experiment_tracker.config.tracking_token: "
        "'tracking_token' holds a literal secret, and the stack file is copied into the image; "
        "write '${MLFLOW_TRACKING_TOKEN}' and set MLFLOW_TRACKING_TOKEN in the container's "
        "environment"
    )
    assert "abc123supersecret" not in message


def test_secret_nested_under_a_secret_key(tmp_path):
    message = stack_error(
        """
        name: s
        components:
          orchestrator: {flavor: local}
          artifact_store:
            flavor: azure
            config:
              credentials: {account_name: acct, account_key: "${AZ_KEY}", sas: "sv=2022&sig=x"}
        """,
        tmp_path,
    )
    assert message == (
        f"{tmp_path / 'stack.yaml'}:7:35: "
        "components.artifact_store.config.credentials.account_name: 'account_name' holds a "
        "literal secret, and the stack file is copied into the image; write "
        "'${AZURE_ACCOUNT_NAME}' and set AZURE_ACCOUNT_NAME in the container's environment"
    )


def test_password_in_a_url(tmp_path):
    message = stack_error(
        """
        name: s
        components:
          orchestrator: {flavor: local}
          artifact_store: {flavor: local}
          experiment_tracker: {flavor: mlflow, config: {tracking_uri: "http://u:pw@mlflow:5000"}}
        """,
        tmp_path,
    )
    assert message == (
        f"{tmp_path / 'stack.yaml'}:5:63: components.experiment_tracker.config.tracking_uri: "
        "the value holds a password or token in a URL, and the stack file is copied into the "
        "image; write the secret part as ${VAR}"
    )


def test_malformed_env_reference(tmp_path):
    message = stack_error(
        """
        name: s
        components:
          orchestrator: {flavor: local}
          artifact_store: {flavor: local, config: {path: "${HOME DIR}/x"}}
        """,
        tmp_path,
    )
    assert message == (
        f"{tmp_path / 'stack.yaml'}:4:50: components.artifact_store.config.path: malformed "
        "environment reference; write ${NAME} (letters, digits, '_')"
    )


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("api_key", True),
        ("apiKey", True),
        ("tracking_token", True),
        ("client_secret", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("credentials", True),
        ("private_key", True),
        ("key", True),
        ("token_uri", False),
        ("key_prefix", False),
        ("credentials_file", False),
        ("aws_access_key_id", False),
        ("keyspace", False),
        ("tracking_uri", False),
        ("monkey", False),
    ],
)
def test_is_secret_key(key, secret):
    assert is_secret_key(key) is secret


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "stack file is empty"),
        ("- a\n- b\n", "1:1: expected a mapping with 'name' and 'components'"),
        (
            "name: s\ncomponents: [\n",
            "3:1: invalid YAML: "
            + (
                "did not find expected node content"
                if yaml.__with_libyaml__
                else "expected ',' or ']', but got '<stream end>'"
            ),
        ),
        (
            "name: s\ncomponent: {}\n",
            "2:1: component: unknown field (did you mean 'components'?)",
        ),
        ("components: {}\n", "1:1: name: field required"),
        ("name: 3\ncomponents: {}\n", "1:7: name: input should be a valid string"),
        (
            "name: s\ncomponents:\n  orchestrator: {flavor: Local}\n",
            "3:26: components.orchestrator.flavor: 'Local' must be lowercase letters, digits, "
            "'.', '_' and '-'",
        ),
        (
            "name: s\ncomponents:\n  orchestrator: {flavour: local}\n",
            "3:18: components.orchestrator.flavour: unknown field (did you mean 'flavor'?)",
        ),
        (
            "name: s\ncomponents:\n  orchestrator: {flavor: local}\n"
            "  artifact_stor: {flavor: s3}\n",
            "4:3: components: unknown component type 'artifact_stor' (did you mean "
            "'artifact_store'?)",
        ),
        (
            "name: s\ncomponents:\n  orchestrator: {flavor: local}\n",
            "2:1: components: stack 's' has no artifact_store",
        ),
        (
            "name: s\nname: t\ncomponents: {}\n",
            "2:1: duplicate key 'name' (first on line 1)",
        ),
    ],
)
def test_validation_errors(tmp_path, text, message):
    path = tmp_path / "stack.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        read_stack(path)
    expected = f"{path}:{message}" if message[0].isdigit() else f"{path}: {message}"
    assert str(info.value) == expected
