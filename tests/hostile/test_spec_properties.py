"""Random valid specs, adversarial strings included, compile to Containerfiles that BuildKit
parses into exactly the planned instructions, with every value read back unchanged; and any
value holding a character no Containerfile line may hold is refused, naming field and value.
"""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from support.adversarial import FORBIDDEN, PROPERTY, TEXT
from support.containerfile_check import (
    assert_round_trips,
    decode,
    hadolint,
)

from imagec.backend.containerfile import render
from imagec.errors import SpecError
from imagec.model.spec import Spec
from imagec.model.validate import validate_spec
from imagec.plan.compiler import plan
from imagec.plan.ir import Origin, Plan
from imagec.resolve.inputs import Inputs, RequirementsSource
from imagec.spec.document import Document

BASE_IMAGES = [
    None,
    "python:3.11-slim",
    "python",
    "python:latest",
    "docker.io/library/python:3.12",
    "registry.local:5000/team/base:v1.2.3",
    "[::1]:5000/team/base",
    "ghcr.io/org/img@sha256:" + "a" * 64,
    "localhost/base:x_y-z.1",
]
PLATFORMS = [None, "linux/amd64", "linux/arm64", "linux/arm/v7"]
REQUIREMENTS = ["numpy>=1.26", "requests[socks]==2.31.0", "torch; sys_platform == 'linux'"]


# Grammars built from plain text draws (st.from_regex is several times slower to generate).
def _word(first: str, rest: str, max_size: int) -> st.SearchStrategy[str]:
    return st.builds(str.__add__, st.sampled_from(first), st.text(rest, max_size=max_size))


LOWER = "abcdefghijklmnopqrstuvwxyz"
env_names = _word("A_Zz", "AZaz09_", 12)
label_keys = _word("az09AZ", "az09AZ._/-", 16)
apt = st.builds(
    lambda name, arch, version: name + arch + version,
    _word("a0", "az09+.-", 10).filter(lambda n: len(n) > 1),
    st.sampled_from(["", ":amd64", ":arm64", ":all"]),
    st.sampled_from(["", "=1", "=1:2.3-4", "=12.2.0-14", "=2.36-9+deb12u4", "=1.0~rc1"]),
)
users = st.sampled_from([None, "app", "1000", "1000:1000", "app:staff", "root", "_svc-1", "0:0"])
workdirs = st.builds(str.__add__, st.just("/"), st.text("Aaz09._@+/-", max_size=20))
urls = st.builds(
    lambda host, path: f"https://{host}.example/{path}",
    st.text(LOWER, min_size=1, max_size=8),
    st.text(LOWER + "AZ09._~%/?=&+-", max_size=20),
)
commands = st.none() | st.lists(TEXT, max_size=4) | TEXT.filter(lambda s: s.strip())


# hadolint reads the argv of an exec-form RUN as a shell command and lints it, so for the lint
# test installer arguments are options as people write them; random ones are checked above.
REALISTIC_INSTALLER_ARGS = st.lists(
    st.sampled_from(
        ["--pre", "--prefer-binary", "--only-binary=:all:", "--no-compile", "--timeout=60"]
    ),
    max_size=3,
)
# hadolint's parser cannot read a registry given as an IPv6 address (BuildKit can).
LINTABLE_BASE_IMAGES = [b for b in BASE_IMAGES if not (b or "").startswith("[")]


@st.composite
def specs(draw: st.DrawFn, lintable: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "environment": draw(st.dictionaries(env_names, TEXT, max_size=4)),
        "labels": draw(st.dictionaries(label_keys, TEXT, max_size=3)),
        "build_args": draw(st.dictionaries(env_names, TEXT, max_size=2)),
        "apt_packages": draw(st.lists(apt, max_size=3, unique=True)),
        "installer_args": draw(
            REALISTIC_INSTALLER_ARGS if lintable else st.lists(TEXT, max_size=3)
        ),
        "extra_index_urls": draw(st.lists(urls, max_size=2)),
        "requirements": draw(st.lists(st.sampled_from(REQUIREMENTS), max_size=2, unique=True)),
        "installer": draw(st.sampled_from(["pip", "uv"])),
        "copy_source": draw(st.booleans()),
        "install_imagec": draw(st.booleans()),
    }
    for key, strategy in [
        ("base_image", st.sampled_from(LINTABLE_BASE_IMAGES if lintable else BASE_IMAGES)),
        ("platform", st.sampled_from(PLATFORMS)),
        ("user", users),
        ("workdir", st.none() | workdirs),
        ("entrypoint", commands),
        ("command", commands),
        ("index_url", st.none() | urls),
    ]:
        value = draw(strategy)
        if value is not None:
            spec[key] = value
    return spec


def _compile(data: dict[str, Any]) -> tuple[Spec, Plan, str]:
    doc = Document(path=Path("imagec.yaml"), data=data)
    spec = validate_spec(doc)
    requirements = tuple(
        RequirementsSource("1-list.txt", Origin("requirements"), "".join(f"{r}\n" for r in reqs))
        for reqs in [spec.requirements]
        if reqs and isinstance(reqs, list)
    )
    inputs = Inputs(
        source_root=Path("/nonexistent/source") if spec.copy_source else None,
        ignore_file=None,
        requirements=requirements,
        apt_packages=tuple(spec.apt_packages),
        runtime="index",  # the wheel of this checkout is not needed to check the lowering
    )
    the_plan = plan(spec, doc, inputs)
    return spec, the_plan, render(the_plan)


def _argv(value: str | list[str]) -> tuple[str, ...]:
    return ("/bin/sh", "-c", value) if isinstance(value, str) else tuple(value)


def _check_spec_values(spec: Spec, text: str) -> None:
    """What the image gets is what the spec says, read from the Containerfile."""
    import dockerfile

    got = [decode(c) for c in dockerfile.parse_string(text)]
    by_kind: dict[str, list[tuple]] = {}
    for item in got:
        by_kind.setdefault(item[0], []).append(item)

    assert by_kind["from"] == [("from", spec.effective_base_image, spec.platform)]
    assert [a[1:] for a in by_kind.get("arg", [])] == list(spec.build_args.items())
    envs = [pair for e in by_kind["env"] for pair in e[1]]
    for name, value in spec.environment.items():
        assert (name, value) in envs
    labels = dict(pair for label in by_kind["label"] for pair in label[1])
    for key, value in spec.labels.items():
        assert labels[key] == value
    assert by_kind["workdir"] == [("workdir", spec.workdir)]
    if spec.user:
        assert by_kind["user"] == [("user", spec.user)]
    else:
        assert "user" not in by_kind
    if spec.entrypoint is not None:
        assert by_kind["entrypoint"] == [("entrypoint", _argv(spec.entrypoint))]
    if spec.command is not None:
        assert by_kind["cmd"] == [("cmd", _argv(spec.command))]

    runs = [r[1] for r in by_kind["run"]]
    for argv in runs:
        n = len(spec.installer_args)
        if len(argv) > n + 1 and argv[-n - 2] == "-r":
            # A requirements install: `-r FILE`, then the spec's installer options in order.
            assert list(argv[len(argv) - n :]) == list(spec.installer_args)
            options = list(argv[argv.index("install") + 1 : -n - 2])
            if spec.index_url:
                assert options[options.index("--index-url") + 1] == spec.index_url
        if argv[:2] == ("/bin/sh", "-c") and "apt-get install" in argv[2]:
            words = shlex.split(argv[2])  # POSIX sh word splitting of the apt script
            start = words.index("--no-install-recommends") + 1
            assert words[start : words.index("&&", start)] == list(spec.apt_packages)
        if argv[:2] == ("/bin/sh", "-c") and "useradd" in argv[2]:
            name = (spec.user or "").split(":")[0]
            assert shlex.split(argv[2])[:3] == ["id", "-u", name]


@settings(PROPERTY, max_examples=3000)
@given(specs())
def test_random_specs_compile_to_exact_containerfiles(data: dict[str, Any]) -> None:
    spec, the_plan, text = _compile(data)
    assert_round_trips(the_plan, text)
    _check_spec_values(spec, text)


@settings(PROPERTY, max_examples=150)
@given(specs(lintable=True))
def test_generated_containerfiles_pass_hadolint(data: dict[str, Any]) -> None:
    _, _, text = _compile(data)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Containerfile"
        path.write_text(text, encoding="utf-8")
        assert hadolint([path]) == []


# Where a forbidden character can go, as (field, spec fragment built around it).
def _placements(value: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("environment.A", {"environment": {"A": value}}),
        ("labels.team", {"labels": {"team": value}}),
        ("build_args.SHA", {"build_args": {"SHA": value}}),
        ("entrypoint[1]", {"entrypoint": ["python", value]}),
        ("command", {"command": value}),
        ("installer_args[0]", {"installer_args": [value]}),
        ("requirements[0]", {"requirements": [value]}),
        ("required_integrations[0]", {"required_integrations": [value]}),
        ("source_root", {"source_root": value}),
        ("find_links[0]", {"find_links": [value]}),
        ("index_url", {"index_url": value}),
        ("base_image", {"base_image": value}),
        ("platform", {"platform": value}),
        ("image_name", {"image_name": value}),
        ("user", {"user": value}),
        ("workdir", {"workdir": value}),
        ("apt_packages[0]", {"apt_packages": [value]}),
    ]


@settings(PROPERTY, max_examples=300)
@given(
    prefix=st.sampled_from(["", "python", "https://pypi.org/simple", "/app", "linux/amd64"]),
    bad=FORBIDDEN,
    suffix=st.sampled_from(["", "RUN id", " ", "x", "\\"]),
)
def test_forbidden_characters_are_refused_naming_field_and_value(
    prefix: str, bad: str, suffix: str
) -> None:
    value = prefix + bad + suffix
    for field, data in _placements(value):
        try:
            validate_spec(Document(path=Path("imagec.yaml"), data=data))
        except SpecError as err:
            assert err.field == field, (field, str(err))
            assert "\n" not in str(err) and "\r" not in str(err)
            assert repr(bad)[1:-1] in err.message or "invalid" in err.message, str(err)
        else:
            raise AssertionError(f"{field}={value!r} was accepted")
