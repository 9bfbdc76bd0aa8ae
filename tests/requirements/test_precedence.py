"""The user's pins win over integration defaults; two user sources that contradict each
other are still an error naming both places."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from support.cli import run_imagec

from imagec.errors import SpecError
from imagec.integrations.integration import Integration
from imagec.model.validate import validate_spec
from imagec.resolve.integrations.registry import IntegrationRegistry
from imagec.resolve.requirement_layers import requirement_layers
from imagec.spec.document import Document

SEED = """\
from imagec import pipeline
from imagec.integrations.constants import EVIDENTLY, PYTORCH


@pipeline(required_integrations=[PYTORCH, EVIDENTLY], requirements=["torch==1.12.0", "torchvision"])
def train():
    pass
"""


def plan_files(spec: Path) -> dict[str, str]:
    result = run_imagec("ir", str(spec))
    assert result.returncode == 0, result.stderr
    files = json.loads(result.stdout)["files"]
    return {f["path"].rsplit("/", 1)[1]: f["content"] for f in files if "requirements" in f["path"]}


def installed(text: str) -> list[Requirement]:
    return [Requirement(ln) for ln in text.splitlines() if ln and not ln.startswith(("#", "-"))]


def test_the_seed_example_compiles_and_installs_the_users_pin(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(SEED)
    files = plan_files(tmp_path / "train.py")
    torch = [r for text in files.values() for r in installed(text) if r.name == "torch"]
    assert torch and {str(r) for r in torch} == {"torch==1.12.0"}
    integrations = next(text for name, text in files.items() if "integrations" in name)
    # The provenance of the replaced default is in the plan (`imagec ir` shows it).
    assert (
        "# torch: 'torch==1.12.0' from requirements replaces the default 'torch<3,>=2.0' of "
        "integration 'pytorch'\ntorch==1.12.0\n"
    ) in integrations
    assert "evidently<0.5,>=0.4.16" in integrations
    assert run_imagec("compile", str(tmp_path / "train.py")).returncode == 0


def test_a_pin_from_a_file_with_its_own_index_is_left_to_that_file(tmp_path: Path) -> None:
    (tmp_path / "cpu.txt").write_text(
        "--index-url https://download.pytorch.org/whl/cpu\ntorch==2.1.2+cpu\n"
    )
    spec = tmp_path / "imagec.yaml"
    spec.write_text("required_integrations: [pytorch]\nrequirements: cpu.txt\n")
    files = plan_files(spec)
    integrations = next(text for name, text in files.items() if "integrations" in name)
    assert installed(integrations) == []
    assert "# torch: left to 'torch==2.1.2+cpu' from cpu.txt (cpu.txt:2), which installs it" in (
        integrations
    )
    assert "torch==2.1.2+cpu" in files[next(n for n in files if n.endswith("-file.txt"))]


def test_extras_of_the_default_are_kept_with_the_users_pin(tmp_path: Path) -> None:
    registry = IntegrationRegistry()
    registry.add(Integration("ml", ("ray[tune]>=2",)), owner="test")
    spec = tmp_path / "imagec.yaml"
    doc = Document(spec, {"required_integrations": ["ml"], "requirements": ["ray==2.9.0"]})
    sources, _, _ = requirement_layers(doc, validate_spec(doc), registry, None, tmp_path)
    assert "\nray[tune]==2.9.0\n" in sources[0].content


def test_two_user_sources_that_contradict_each_other_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "reqs.txt").write_text("pandas\ntorch==1.13.1\n")
    spec = tmp_path / "imagec.yaml"
    spec.write_text(
        "required_integrations: [pytorch]\nrequirements:\n  - torch==1.12.0\n  - -r reqs.txt\n"
    )
    result = run_imagec("compile", str(spec))
    assert result.returncode == 2
    error = result.stderr.strip().splitlines()[-1]
    assert "conflicting requirements for 'torch'" in error
    assert f"'torch==1.13.1' from reqs.txt ({tmp_path / 'reqs.txt'}:2)" in error
    assert "'torch==1.12.0' from requirements" in error


def test_an_unpinned_user_line_keeps_the_default(tmp_path: Path) -> None:
    spec = tmp_path / "imagec.yaml"
    spec.write_text("required_integrations: [pytorch]\nrequirements: [torch]\n")
    files = plan_files(spec)
    integrations = next(text for name, text in files.items() if "integrations" in name)
    assert "torch<3,>=2.0" in installed_texts(integrations)


def installed_texts(text: str) -> list[str]:
    return [str(r) for r in installed(text)]


# --- property: for random integration defaults and user pins, the pins are installed -------

NAMES = ["alpha", "Beta_pkg", "gamma", "delta.x", "eps"]
VERSION = st.tuples(st.integers(0, 9), st.integers(0, 20)).map(lambda t: f"{t[0]}.{t[1]}")
DEFAULT = st.one_of(
    st.just(""),
    VERSION.map(lambda v: f">={v}"),
    st.tuples(VERSION, st.integers(10, 12)).map(lambda t: f">={t[0]},<{t[1]}"),
    VERSION.map(lambda v: f"=={v}"),
)
INTEGRATIONS = st.lists(
    st.dictionaries(st.sampled_from(NAMES), DEFAULT, min_size=1, max_size=4),
    min_size=1,
    max_size=3,
)
PINS = st.dictionaries(
    st.sampled_from(NAMES),
    st.one_of(VERSION.map(lambda v: f"=={v}"), VERSION.map(lambda v: f"~={v}")),
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(integrations=INTEGRATIONS, pins=PINS, as_file=st.booleans())
def test_the_users_pins_are_what_the_plan_installs(integrations, pins, as_file, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prop")
    registry = IntegrationRegistry()
    names = []
    for i, defaults in enumerate(integrations):
        # One integration never names a package twice (the built-ins do not).
        unique = {canonicalize_name(n): f"{n}{spec}" for n, spec in defaults.items()}
        registry.add(Integration(f"i{i}", tuple(unique.values())), owner="test")
        names.append(f"i{i}")
    lines = [f"{name.upper()}{spec}" for name, spec in pins.items()]
    data: dict = {"required_integrations": names}
    if as_file:
        (tmp / "requirements.txt").write_text(textwrap.dedent("\n".join(lines)) + "\n")
        data["requirements"] = "requirements.txt"
    else:
        data["requirements"] = lines
    doc = Document(tmp / "imagec.yaml", data)
    try:
        sources, _, _ = requirement_layers(doc, validate_spec(doc), registry, None, tmp)
    except SpecError as exc:
        # Only integrations contradicting each other on a package the user leaves alone.
        name = str(exc).split("'")[1]
        assert canonicalize_name(name) not in {canonicalize_name(p) for p in pins}
        return
    wanted = {canonicalize_name(n): spec for n, spec in pins.items()}
    for source in sources:
        for req in installed(source.content):
            key = canonicalize_name(req.name)
            if key in wanted:
                assert str(req.specifier) == str(Requirement(f"x{wanted[key]}").specifier)
    last = {canonicalize_name(r.name): r for r in installed(sources[-1].content)}
    assert {k: str(last[k].specifier) for k in wanted} == {
        k: str(Requirement(f"x{v}").specifier) for k, v in wanted.items()
    }


def test_a_url_that_names_its_project_pins_it(tmp_path: Path) -> None:
    """A wheel URL or an #egg= fragment says the name: it replaces the default like any pin;
    a VCS URL without one leaves the default (pip learns the name only when it builds)."""
    registry = IntegrationRegistry()
    registry.add(Integration("ml", ("x>=2", "diffusers>=0.20")), owner="test")
    wheel = "https://files.example/x-1.0-py3-none-any.whl"
    vcs = "git+https://github.com/huggingface/diffusers"
    doc = Document(
        tmp_path / "imagec.yaml", {"required_integrations": ["ml"], "requirements": [wheel, vcs]}
    )
    sources, _, _ = requirement_layers(doc, validate_spec(doc), registry, None, tmp_path)
    defaults = sources[0].content
    assert f"\nx@ {wheel}\n" in defaults or f"\nx @ {wheel}\n" in defaults
    assert "\ndiffusers>=0.20\n" in defaults
    assert sources[1].content.splitlines()[2:] == [wheel, vcs]
