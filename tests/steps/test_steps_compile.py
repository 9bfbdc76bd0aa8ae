"""Build steps, bases and the managed Python, compiled: where each step lands in the plan, that
the user's script reaches ``/bin/sh -c`` exactly as written (read back with BuildKit's parser,
every variable poisoned), that nothing breaks out into another instruction, and that the
generated files lint clean with hadolint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.adversarial import ALPHABET, PROPERTY, SNIPPETS
from support.containerfile_check import assert_round_trips, hadolint, read_back

from imagec.backend.containerfile import render
from imagec.errors import ImagecError
from imagec.plan.ir import Copy, Env, From, Origin, Plan, Run, User
from imagec.plan.python import UV_IMAGE
from imagec.project import load_project
from imagec.resolve import cuda


def compile_spec(tmp_path: Path, spec: dict, name: str = "imagec.json"):
    """The project of ``spec`` written as JSON (any string survives), with a tiny source."""
    root = tmp_path / "project"
    root.mkdir(exist_ok=True)
    (root / "app.py").write_text("print('hi')\n")
    path = root / name
    path.write_text(json.dumps({"copy_stack": False, **spec}))
    return load_project(str(path))


TAGS = ("STEP-A", "STEP-R", "STEP-S", "apt-get", "EXTERNALLY", "uv python", "/imagec/requirements/")


def kinds(plan) -> list[str]:
    """The plan as `kind:detail` words, to check the order of steps."""
    out = []
    for s in plan.steps:
        if isinstance(s, Run):
            text = " ".join(s.argv)
            tag = next(
                (t for t in TAGS if t in text),
                None,
            )
            out.append(f"run:{tag}" if tag else "run")
        elif isinstance(s, Copy):
            out.append(f"copy:{s.sources[0]}")
        else:
            out.append(s.kind)
    return out


def test_steps_land_at_their_named_points(tmp_path: Path) -> None:
    project = compile_spec(
        tmp_path,
        {
            "base_image": "python:3.11-slim",
            "apt_packages": ["jq"],
            "requirements": ["six"],
            "build_steps": [
                {"run": "echo STEP-S", "after": "source"},
                "echo STEP-R",
                {"run": "echo STEP-A", "after": "apt_packages"},
            ],
            "runtime_environment": {"MODE": "prod"},
        },
    )
    order = kinds(project.plan)
    # After apt-get and before the base-image check; after the last install; after the copy.
    assert order.index("run:apt-get") < order.index("run:STEP-A") < order.index("run:EXTERNALLY")
    installs = [i for i, k in enumerate(order) if k == "run:/imagec/requirements/"]
    assert installs and installs[-1] < order.index("run:STEP-R")
    assert order.index("run:STEP-R") < order.index("copy:src/") < order.index("run:STEP-S")
    # The run-time environment comes after every build step, so none of them sees it.
    env = next(
        i for i, s in enumerate(project.plan.steps) if s.origin.field == "runtime_environment"
    )
    assert order.index("run:STEP-S") < env
    assert project.plan.steps[env] == Env(project.plan.steps[env].origin, (("MODE", "prod"),))
    text = render(project.plan)
    assert_round_trips(project.plan, text)
    # The step says where it came from.
    assert "# build_steps[2] (imagec.json:1)\nRUN " in text


def test_a_step_runs_as_its_user_with_its_env_secrets_and_caches(tmp_path: Path) -> None:
    project = compile_spec(
        tmp_path,
        {
            "base_image": "python:3.11-slim",
            "user": "app",
            "secrets": [{"id": "hf", "env": "HF_TOKEN"}, {"id": "netrc", "kind": "netrc"}],
            "build_steps": [
                {
                    "run": "python fetch.py",
                    "user": "app",
                    "environment": {"HF_HOME": "/cache/hf"},
                    "secrets": ["hf", "netrc"],
                    "cache": ["/cache/hf"],
                }
            ],
        },
    )
    steps = list(project.plan.steps)
    at = next(i for i, s in enumerate(steps) if isinstance(s, Run) and "fetch.py" in s.argv[-1])
    # The image's user is created before the first step that runs as it, and only once.
    creating = [i for i, s in enumerate(steps) if isinstance(s, Run) and "useradd" in s.argv[-1]]
    assert len(creating) == 1 and creating[0] < at - 1
    assert steps[at - 1] == User(steps[at].origin, "app")
    assert steps[at + 1] == User(steps[at].origin, "root")
    run = steps[at]
    assert [(m.type, m.id, m.target) for m in run.mounts] == [
        ("secret", "hf", None),
        ("secret", "netrc", "/root/.netrc"),
        ("cache", None, "/cache/hf"),
    ]
    assert run.argv[0:2] == ("/bin/sh", "-c")
    assert 'HF_TOKEN="$(cat /run/secrets/hf)"; export HF_TOKEN' in run.argv[2]
    assert run.argv[3:] == (
        "imagec-step",
        "env",
        "HF_HOME=/cache/hf",
        "/bin/sh",
        "-c",
        "python fetch.py",
    )
    text = render(project.plan)
    assert_round_trips(project.plan, text)
    assert "hf" not in json.dumps([s for s in text.splitlines() if s.startswith("ENV")])


SCRIPTS = st.lists(
    st.one_of(st.text(ALPHABET + "\n\t", max_size=24), SNIPPETS), min_size=1, max_size=4
).map("".join)


@PROPERTY
@given(script=SCRIPTS, value=st.one_of(st.text(ALPHABET, max_size=16), SNIPPETS))
def test_hostile_scripts_reach_the_shell_exactly_as_written(
    tmp_path_factory: pytest.TempPathFactory, script: str, value: str
) -> None:
    if not script.strip():
        script = "true" + script
    tmp = tmp_path_factory.mktemp("hostile")
    try:
        project = compile_spec(
            tmp,
            {
                "base_image": "python:3.11-slim",
                "build_steps": [
                    {"run": script, "environment": {"V": value}},
                    {"run": script, "after": "source"},
                ],
            },
        )
    except ImagecError:
        return  # refused by the model (e.g. a credential-looking value): never written
    text = render(project.plan)
    assert_round_trips(project.plan, text)  # one instruction per step, every value exact
    runs = [r for r in read_back(text) if r[0] == "run" and r[1][-1] == script]
    assert len(runs) == 2
    assert runs[0][1] == ("env", f"V={value}", "/bin/sh", "-c", script)


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"run": "echo \x1b[2J"}, "control character"),
        ({"run": "echo \u202e"}, "right-to-left override"),
        ({"run": "   "}, "empty command"),
        ({"run": "curl https://u:hunter2@h.example/x"}, "password or token in a URL"),
        ({"run": "true", "secrets": ["nope"]}, "secret 'nope' is not declared"),
        ({"run": "true", "environment": {"API_TOKEN": "abc123"}}, "secret-looking name"),
        ({"run": "true", "cache": ["relative"]}, "invalid cache directory"),
        ({"run": "true", "after": "install"}, "apt_packages"),
        ({"run": "true", "user": "-x"}, "invalid user"),
    ],
)
def test_bad_steps_are_one_line_errors(tmp_path: Path, step: dict, message: str) -> None:
    with pytest.raises(ImagecError) as err:
        compile_spec(tmp_path, {"build_steps": [step]})
    text = str(err.value.format() if hasattr(err.value, "format") else err.value)
    assert message in text and "\n" not in text.strip()
    assert "hunter2" not in text


def test_base_check_follows_system_packages_and_says_what_is_wrong(tmp_path: Path) -> None:
    project = compile_spec(
        tmp_path,
        {
            "base_image": "localhost/imagec-test/nopython",
            "python_version": "3.11",
            "apt_packages": ["python3", "python3-pip"],
        },
    )
    order = kinds(project.plan)
    assert order.index("run:apt-get") < order.index("run:EXTERNALLY")
    check = next(s for s in project.plan.steps if s.origin.field == "base image check")
    script = check.argv[2]
    assert 'ln -s "$p" /usr/local/bin/python' in script  # python3 is enough
    assert "but python_version is 3.11" in script  # a different Python fails the build
    # Without python_version the base's Python is whatever it is.
    plain = compile_spec(tmp_path, {"base_image": "localhost/imagec-test/nopython"}, "b.json")
    check = next(s for s in plain.plan.steps if s.origin.field == "base image check")
    assert "python_version" not in check.argv[2]


def test_managed_python_comes_from_uv_before_the_check(tmp_path: Path) -> None:
    project = compile_spec(
        tmp_path,
        {"base_image": "debian:bookworm-slim", "python_version": "3.12", "managed_python": True},
    )
    steps = project.plan.steps
    copy = next(s for s in steps if isinstance(s, Copy) and s.from_image)
    assert (copy.from_image, copy.sources, copy.dest) == (UV_IMAGE, ("/uv",), "/usr/local/bin/uv")
    assert UV_IMAGE.endswith(":0.9.30")  # the uv the install steps use (compiler.UV_REQUIREMENT)
    order = kinds(project.plan)
    assert order.index("run:uv python") < order.index("run:EXTERNALLY")
    install = next(s for s in steps if isinstance(s, Run) and "uv python" in s.argv[-1])
    assert "uv python install --no-bin 3.12;" in install.argv[2]
    text = render(project.plan)
    assert 'COPY --from=ghcr.io/astral-sh/uv:0.9.30 ["/uv", "/usr/local/bin/uv"]' in text
    assert_round_trips(project.plan, text)
    # The plan's JSON keeps the copy's image, and plans without one keep their old shape.
    data = project.plan.to_dict()
    assert sum("from_image" in s for s in data["steps"]) == 1


def test_cuda_selects_the_runtime_image_and_says_its_distro(tmp_path: Path) -> None:
    project = compile_spec(tmp_path, {"cuda": "12.4", "cudnn": "9", "python_version": "3.11"})
    base = project.plan.steps[0]
    assert isinstance(base, From)
    assert base.image == "nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04"
    assert "ubuntu22.04" in base.origin.describe()
    assert any(isinstance(s, Copy) and s.from_image == UV_IMAGE for s in project.plan.steps)
    text = render(project.plan)
    assert text.count("FROM ") == 1 and "# cuda: nvidia/cuda:12.4.1-cudnn-runtime" in text


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"cuda": "12.3"},
            "no CUDA runtime image for CUDA 12.3; imagec knows: 11.8, 11.8 + cuDNN 8",
        ),
        ({"cuda": "12.4", "cudnn": "8"}, "no CUDA runtime image for CUDA 12.4 + cuDNN 8"),
        ({"cudnn": "9"}, "cudnn needs cuda"),
        ({"cuda": "12.4", "base_image": "ubuntu:22.04"}, "leave out base_image"),
        ({"cuda": "12"}, "invalid CUDA version"),
    ],
)
def test_unknown_cuda_combinations_list_the_known_ones(
    tmp_path: Path, spec: dict, message: str
) -> None:
    with pytest.raises(ImagecError, match=message.replace("+", r"\+")):
        compile_spec(tmp_path, spec)


def test_every_cuda_entry_is_an_official_runtime_tag() -> None:
    for text in cuda.known():
        version, _, cudnn = text.partition(" + cuDNN ")
        tag, distro = cuda._TAGS[(version, cudnn or None)]
        assert tag.startswith(version + ".") and tag.endswith(f"-runtime-{distro}")
        assert ("cudnn" in tag) == bool(cudnn)


def test_new_fields_lint_clean(tmp_path: Path) -> None:
    """hadolint (the repository's configuration) finds nothing in any of the new shapes."""
    files = []
    for i, spec in enumerate(
        [
            {
                "base_image": "localhost/imagec-test/nopython",
                "python_version": "3.11",
                "apt_packages": ["python3", "python3-pip"],
                "user": "app",
                "secrets": [{"id": "tok"}],
                "build_steps": [
                    {"run": 'echo "$X" > /tmp/x\nls -l /', "environment": {"X": "a b"}},
                    {"run": "cat /run/secrets/tok", "after": "apt_packages", "secrets": ["tok"]},
                    {"run": "id", "after": "source", "user": "app", "cache": ["/tmp/c"]},
                ],
                "runtime_environment": {"MODE": "prod"},
            },
            {"cuda": "12.4", "cudnn": "9", "python_version": "3.11"},
        ]
    ):
        project = compile_spec(tmp_path, spec, f"s{i}.json")
        path = tmp_path / f"Containerfile.{i}"
        path.write_text(render(project.plan))
        files.append(path)
    assert hadolint(files) == []


def test_a_credential_in_the_runtime_environment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImagecError, match="would be stored in the image") as err:
        compile_spec(tmp_path, {"runtime_environment": {"DB_PASSWORD": "hunter2"}})
    assert "hunter2" not in str(err.value)


@pytest.mark.parametrize("name", ("containerfile", "docker", "podman"))
def test_every_builtin_backend_writes_a_copy_from_an_image(name: str, capsys) -> None:
    from imagec.plugins import get_plugins

    at = Origin("managed_python", "imagec.yaml", 2)
    plan = Plan(
        steps=(
            From(at, "debian:bookworm-slim"),
            Copy(at, ("/uv",), "/usr/local/bin/uv", from_image=UV_IMAGE),
            Copy(at, ("/uv",), "/bin/$HOME dir/", from_image=UV_IMAGE),
        )
    )
    backend = get_plugins().backend(name).from_options({}, unsupported="error")
    text = backend.render(plan)
    assert f'COPY --from={UV_IMAGE} ["/uv", "/usr/local/bin/uv"]' in text.splitlines()
    assert_round_trips(plan, text)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("image", ["-x", "a b", "img --chown=0", "x\ny"])
def test_a_copy_from_an_image_that_cannot_be_written_is_refused(image: str) -> None:
    at = Origin("managed_python", "imagec.yaml", 2)
    plan = Plan(steps=(From(at, "debian"), Copy(at, ("/uv",), "/uv", from_image=image)))
    with pytest.raises(ImagecError, match="invalid image reference"):
        render(plan)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"skip_build": True, "build_steps": ["true"]}, "needs a build"),
        ({"skip_build": True, "managed_python": True}, "needs a build"),
        ({"skip_build": True, "runtime_environment": {"A": "1"}}, "needs a build"),
    ],
)
def test_nothing_that_needs_a_build_is_ignored_by_skip_build(
    tmp_path: Path, spec: dict, message: str
) -> None:
    with pytest.raises(ImagecError, match=message):
        compile_spec(tmp_path, {"base_image": "python:3.11-slim", **spec})


def test_cuda_and_a_parent_dockerfile_are_refused(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / "project/Dockerfile").write_text("FROM scratch\n")
    with pytest.raises(ImagecError, match=r"remove cuda|leave out dockerfile"):
        compile_spec(tmp_path, {"cuda": "12.4", "dockerfile": "Dockerfile"})
