"""Every requirement pip accepts is accepted: URLs without a name and per-line options, with
pip's own parser as the oracle, and the same credential and local-path checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from pip._internal.req.constructors import install_req_from_line
from support.cli import run_imagec
from support.pip_oracle import meaning

from imagec.errors import SpecError
from imagec.model.requirement import UrlRequirement
from imagec.resolve.requirements import (
    read_requirements_file,
    render_requirements_file,
    requirement_line,
)

H = "sha256:" + "ab" * 32

BARE = [
    "git+https://github.com/huggingface/diffusers",
    "git+https://github.com/huggingface/diffusers@v0.25.0#egg=diffusers",
    "git+ssh://git@github.com/org/repo.git@main",
    "https://host.example/x-1.0-py3-none-any.whl",
    "https://host.example/x-1.0.tar.gz#sha256=" + "cd" * 32,
    'https://host.example/x-1.0-py3-none-any.whl ; python_version >= "3.10"',
    "hg+https://hg.example/repo",
    "svn+https://svn.example/repo/trunk",
    "bzr+lp:project",
]


@pytest.mark.parametrize("text", BARE)
def test_a_list_entry_is_what_pip_reads(text: str) -> None:
    line = requirement_line(text, source="requirements")
    assert isinstance(line.unnamed, UrlRequirement) and line.requirement is None
    ours, pips = install_req_from_line(line.render()), install_req_from_line(text)
    assert (ours.link.url, str(ours.markers)) == (pips.link.url, str(pips.markers))


@pytest.mark.parametrize("text", BARE)
def test_a_file_line_means_the_same_to_pip(tmp_path: Path, text: str) -> None:
    user = tmp_path / "requirements.txt"
    user.write_text(f"foo==1\n{text}\n")
    out = tmp_path / "out.txt"
    out.write_text(render_requirements_file(read_requirements_file(user, root=tmp_path)))
    assert meaning(out) == meaning(user)


@pytest.mark.parametrize(
    "text",
    [
        f"https://host.example/x-1.0-py3-none-any.whl --hash={H}",
        "foo==1.0 --global-option=--no-user-cfg",
        f"git+https://github.com/org/repo#egg=repo --global-option build_ext --hash {H}",
    ],
)
def test_per_line_options_mean_the_same_to_pip(tmp_path: Path, text: str) -> None:
    user = tmp_path / "requirements.txt"
    user.write_text(text + "\n")
    out = tmp_path / "out.txt"
    out.write_text(render_requirements_file(read_requirements_file(user, root=tmp_path)))
    assert meaning(out) == meaning(user)


def test_config_settings_are_kept_per_line(tmp_path: Path) -> None:
    # pip reads `-C`/`--config-settings` per requirement since 23.1 (newer than the oracle).
    user = tmp_path / "requirements.txt"
    user.write_text(f"pygobject-stubs -C config=Gtk3\nfoo --config-settings='a=b' --hash {H}\n")
    rendered = render_requirements_file(read_requirements_file(user, root=tmp_path))
    assert rendered.splitlines()[2:] == [
        f"foo --config-settings=a=b --hash={H}",
        "pygobject-stubs --config-settings=config=Gtk3",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("file:///home/me/x-1.0-py3-none-any.whl", "points at a local file"),
        ("git+file:///home/me/repo", "points at a local file"),
        ("https://user:hunter2@host.example/x.whl", "contains a password or token"),
        ("git+https://ghp_" + "a" * 36 + "@github.com/org/repo", "contains a password or token"),
        ("https://host/x.whl ;python_version>'3'", "a URL ends at a space"),
        ("https://host/x.whl ; python_version >>> '3'", "invalid requirement"),
        ("gopher://host/x.whl", "is not a URL pip installs from"),
    ],
)
def test_the_same_checks_as_named_requirements(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        requirement_line(text, source="requirements")
    assert message in str(caught.value) and "hunter2" not in str(caught.value)
    user = tmp_path / "requirements.txt"
    user.write_text(text + "\n")
    with pytest.raises(SpecError) as caught:
        read_requirements_file(user, root=tmp_path)
    assert message in str(caught.value) and "hunter2" not in str(caught.value)


def test_an_unnamed_url_cannot_be_a_constraint(tmp_path: Path) -> None:
    (tmp_path / "c.txt").write_text("https://host.example/x-1.0-py3-none-any.whl\n")
    user = tmp_path / "requirements.txt"
    user.write_text("-c c.txt\nfoo\n")
    with pytest.raises(SpecError, match="names no package; pip needs 'NAME @ URL' there"):
        read_requirements_file(user, root=tmp_path)


def test_bare_urls_compile_from_a_spec_list_and_a_file(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("https://host.example/y-2.0-py3-none-any.whl\n")
    spec = tmp_path / "imagec.yaml"
    spec.write_text(
        "requirements:\n  - git+https://github.com/huggingface/diffusers\n  - -r requirements.txt\n"
    )
    result = run_imagec("ir", str(spec))
    assert result.returncode == 0, result.stderr
    assert "\\ngit+https://github.com/huggingface/diffusers\\n" in result.stdout
    assert "\\nhttps://host.example/y-2.0-py3-none-any.whl\\n" in result.stdout
