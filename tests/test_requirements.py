"""pip requirements: parsing, files, conflicts, rendering."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from imagec.cli import main
from imagec.errors import SpecError
from imagec.model.validate import validate_spec
from imagec.resolve.requirements import (
    PipOption,
    check_conflicts,
    merge_sources,
    parse_requirement,
    read_requirements_file,
    render_constraints_file,
    render_requirements_file,
    requirement_line,
)
from imagec.spec.document import Document


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def read_error(path: Path, **kwargs) -> str:
    with pytest.raises(SpecError) as info:
        read_requirements_file(path, **kwargs)
    return str(info.value)


def merge_error(sources) -> str:
    with pytest.raises(SpecError) as info:
        merge_sources(sources)
    return str(info.value)


# --- single requirements ---------------------------------------------------------------------


def test_parse_requirement():
    req = parse_requirement(' Torch[cuda] >=2.0,<3 ; python_version >= "3.10"')
    assert (req.name, str(req.specifier), str(req.marker)) == (
        "Torch",
        "<3,>=2.0",
        'python_version >= "3.10"',
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "torch==1.12.0 foo",
            "p.py:7:15: requirements[0]: invalid requirement 'torch==1.12.0 foo': Expected "
            "comma (within version specifier), semicolon (after version specifier) or end",
        ),
        (
            "torch=1.0",
            "p.py:7:6: requirements[0]: invalid requirement 'torch=1.0': Expected semicolon "
            "(after name with no version specifier) or end; pin a version with '=='",
        ),
        (
            "-e .",
            "p.py:7:1: requirements[0]: '-e .' is a pip option; put options in a requirements file",
        ),
        (
            "./libs/featurizer",
            "p.py:7:1: requirements[0]: './libs/featurizer' is a local path, which the image "
            "build cannot see; publish the package to an index or refer to it by URL",
        ),
        (
            "dist/pkg-1.0-py3-none-any.whl",
            "p.py:7:1: requirements[0]: 'dist/pkg-1.0-py3-none-any.whl' is a local path, which "
            "the image build cannot see; publish the package to an index or refer to it by URL",
        ),
        (
            "git+file:///home/me/repo",
            "p.py:7:1: requirements[0]: 'git+file:///home/me/repo' points at a local file; "
            "publish the package to an index or refer to it by URL",
        ),
        (
            "gopher://host/pkg-1.0.tar.gz",
            "p.py:7:1: requirements[0]: 'gopher://host/pkg-1.0.tar.gz' is not a URL pip installs "
            "from (schemes: http(s), ftp, git+https, git+ssh, hg+https, svn+https, bzr+https, ...)",
        ),
        (
            "https://u:hunter2@host/x-1.0-py3-none-any.whl",
            "p.py:7: requirements[0]: 'https://***@host/x-1.0-py3-none-any.whl' contains a "
            "password or token, which would be stored in the image; pass it as a build secret: "
            "declare it in `secrets`, write ${NAME} in its place, and run "
            "`imagec build SPEC --secret id=NAME,env=VAR`",
        ),
        (
            "pkg @ file:///home/me/pkg",
            "p.py:7:1: requirements[0]: 'pkg @ file:///home/me/pkg' points at a local file; "
            "publish the package to an index or refer to it by URL",
        ),
        (
            "pkg @ https://user:hunter2@pypi.example.com/pkg.whl",
            "p.py:7: requirements[0]: 'https://***@pypi.example.com/pkg.whl' contains a "
            "password or token, which would be stored in the image; pass it as a build secret: "
            "declare it in `secrets`, write ${NAME} in its place, and run "
            "`imagec build SPEC --secret id=NAME,env=VAR`",
        ),
    ],
)
def test_requirement_line_errors(text, message):
    with pytest.raises(SpecError) as info:
        requirement_line(
            text, source="requirements", file="p.py", line=7, column=1, field="requirements[0]"
        )
    assert str(info.value) == message


def test_urls_with_environment_references_and_ssh_users_are_fine():
    requirement_line("pkg @ https://__token__:${PKG_TOKEN}@pypi.example.com/p.whl", source="s")
    requirement_line("pkg @ git+ssh://git@github.com/org/pkg.git@v1.0", source="s")


# --- files -----------------------------------------------------------------------------------


def test_read_file_comments_continuations_includes_and_options(tmp_path):
    base = write(
        tmp_path / "reqs" / "base.txt",
        """
        numpy>=1.26  # comment after whitespace
        """,
    )
    write(tmp_path / "reqs" / "constraints.txt", "urllib3<2\n")
    main = write(
        tmp_path / "reqs" / "main.txt",
        """
        # leading comment
        --index-url https://pypi.example.com/simple
        --extra-index-url=https://download.pytorch.org/whl/cpu

        -r base.txt
        -c constraints.txt
        --pre
        torch>=2.0,\\
            <3
        pkg @ https://host/pkg-1.0.tar.gz#sha256=abc
        requests==2.31.0 --hash=sha256:942c5a758f98d7910e0bb1b2a8e8b27cbd83c0db
        """,
    )
    lines = read_requirements_file(Path("reqs/main.txt"), base_dir=tmp_path)
    summary = [
        (line.line, line.text, line.file.name if line.file else None, line.constraint)
        for line in lines
    ]
    assert summary == [
        (2, "--index-url https://pypi.example.com/simple", "main.txt", False),
        (3, "--extra-index-url=https://download.pytorch.org/whl/cpu", "main.txt", False),
        (1, "numpy>=1.26", "base.txt", False),
        (1, "urllib3<2", "constraints.txt", True),
        (7, "--pre", "main.txt", False),
        (8, "torch>=2.0,    <3", "main.txt", False),
        (10, "pkg @ https://host/pkg-1.0.tar.gz#sha256=abc", "main.txt", False),
        (11, "requests==2.31.0", "main.txt", False),
    ]
    assert lines[0].option == PipOption("--index-url", "https://pypi.example.com/simple")
    assert lines[2].file == base
    assert str(lines[5].requirement) == "torch<3,>=2.0"
    assert lines[7].hashes == ("sha256:942c5a758f98d7910e0bb1b2a8e8b27cbd83c0db",)
    assert main.exists()


def test_continuation_ended_by_a_comment_line(tmp_path):
    path = write(tmp_path / "r.txt", "pandas>=2 \\\n# a comment\nscipy\n")
    assert [(line.line, line.text) for line in read_requirements_file(path)] == [
        (1, "pandas>=2"),
        (3, "scipy"),
    ]


def test_remote_includes_are_kept_for_pip(tmp_path):
    path = write(tmp_path / "r.txt", "-c https://example.com/constraints-3.11.txt\n")
    (line,) = read_requirements_file(path)
    assert line.option == PipOption("--constraint", "https://example.com/constraints-3.11.txt")
    assert line.render() == "--constraint https://example.com/constraints-3.11.txt"


def test_bad_line_names_file_line_and_column(tmp_path):
    path = write(tmp_path / "r.txt", "pandas\n\n  torch==1.12.0 foo  # why\n")
    assert read_error(path) == (
        f"{path}:3:17: invalid requirement 'torch==1.12.0 foo': Expected comma (within version "
        "specifier), semicolon (after version specifier) or end"
    )


def test_bad_line_in_an_included_file(tmp_path):
    write(tmp_path / "a.txt", "-r sub/b.txt\n")
    b = write(tmp_path / "sub" / "b.txt", "ok\nnot a requirement!\n")
    assert read_error(tmp_path / "a.txt") == (
        f"{b}:2:5: invalid requirement 'not a requirement!': Expected semicolon (after name "
        "with no version specifier) or end"
    )


def test_missing_file(tmp_path):
    path = tmp_path / "requirements.txt"
    assert read_error(path) == f"{path}: requirements file not found"
    assert read_error(path, origin=("pipeline.py", 5, 24)) == (
        f"pipeline.py:5:24: requirements file not found: {path}"
    )


def test_missing_included_file_points_at_the_include(tmp_path):
    path = write(tmp_path / "r.txt", "x\n-r missing.txt\n")
    assert read_error(path) == (
        f"{path}:2: requirements file not found: {tmp_path / 'missing.txt'}"
    )


def test_include_cycle(tmp_path):
    write(tmp_path / "a.txt", "-r b.txt\n")
    b = write(tmp_path / "b.txt", "x\n--requirement=a.txt\n")
    assert read_error(tmp_path / "a.txt") == (
        f"{b}:2: '-r a.txt' includes itself (a.txt -> b.txt -> a.txt)"
    )


def test_directory_binary_and_undecodable_files(tmp_path):
    assert read_error(tmp_path) == f"{tmp_path}: is a directory, expected a requirements file"
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"torch\n\x00\x01")
    assert read_error(binary) == f"{binary}: requirements file is binary, expected UTF-8 text"
    latin = tmp_path / "l.txt"
    latin.write_bytes(b"torch\n# caf\xe9\n")
    assert read_error(latin) == f"{latin}:2: requirements file is not valid UTF-8"


def test_unreadable_file(tmp_path):
    import os

    path = write(tmp_path / "r.txt", "torch\n")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user that ignores file permissions")
        assert read_error(path) == f"{path}: cannot read requirements file: Permission denied"
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "-e .",
            "'-e': editable installs need the project's source tree in the image; list the "
            "package by name or as 'NAME @ URL'",
        ),
        (
            "--editable=git+https://github.com/org/repo#egg=repo",
            "'--editable=git+https://github.com/org/repo#egg=repo': editable installs need the "
            "project's source tree in the image; list the package by name or as 'NAME @ URL'",
        ),
        (
            "--indx-url https://x",
            "unsupported pip option '--indx-url' (did you mean '--index-url'?)",
        ),
        ("--index-url", "option '--index-url' needs a value"),
        ("--pre=yes", "option '--pre' takes no value"),
        (
            "--find-links ./wheels",
            "--find-links './wheels' is a local directory; the image build can only reach URLs",
        ),
        (
            "-i https://me:s3cret@pypi.example.com/simple",
            "'https://***@pypi.example.com/simple' contains a password or token, which would be "
            "stored in the image; pass it as a build secret: declare it in `secrets`, write "
            "${NAME} in its place, and run `imagec build SPEC --secret id=NAME,env=VAR`",
        ),
        (
            "torch --no-deps",
            "per-requirement option '--no-deps' is not one pip reads in a file (--hash, "
            "--global-option, --config-settings)",
        ),
        (
            "torch --install-option=--x",
            "per-requirement option '--install-option': pip 23.1 removed it; use --config-settings",
        ),
        ("torch -C novalue", "--config-settings 'novalue' is not 'KEY=VALUE'"),
        (
            "torch --global-option 'a b'",
            "--global-option value 'a b' holds ' '; pip would not read it back as one value",
        ),
        ("torch --hash=abc", "--hash 'abc' is not 'algorithm:hexdigest'"),
        ("--pre 'unclosed", "cannot split '--pre 'unclosed': No closing quotation"),
    ],
)
def test_option_errors(tmp_path, line, message):
    path = write(tmp_path / "r.txt", f"ok\n{line}\n")
    assert read_error(path) == f"{path}:2: {message}"


# --- merging ---------------------------------------------------------------------------------


def test_pin_conflicts_with_an_integration_range(tmp_path):
    path = write(tmp_path / "requirements.txt", "pandas\ntorch==1.12.0\n")
    sources = [
        ("requirements", read_requirements_file(path)),
        ("integration 'pytorch'", ["torch>=2.0,<3"]),
    ]
    assert merge_error(sources) == (
        f"{path}:2: conflicting requirements for 'torch': 'torch==1.12.0' from requirements "
        f"({path}:2) and 'torch>=2.0,<3' from integration 'pytorch'; no version satisfies both"
    )


def test_two_different_pins_from_decorator_lines():
    a = requirement_line("Torch==1.12.0", source="requirements", file="p.py", line=4)
    b = requirement_line("torch==1.13.1", source="requirements", file="p.py", line=5)
    with pytest.raises(SpecError) as info:
        check_conflicts([("requirements", [a, b])])
    assert str(info.value) == (
        "p.py:4: conflicting requirements for 'torch': 'Torch==1.12.0' from requirements "
        "(p.py:4) and 'torch==1.13.1' from requirements (p.py:5); no version satisfies both"
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("numpy<2", "numpy>=2.0"),
        ("numpy<=1.26", "numpy>1.26"),
        ("numpy==1.26.4", "numpy!=1.26.4"),
        ("numpy==1.26.4", "numpy~=2.0"),
        ("pkg @ https://a/pkg.whl", "pkg @ https://b/pkg.whl"),
    ],
)
def test_incompatible(a, b):
    name = a.split("<")[0].split("=")[0].split(" ")[0]
    assert merge_error([("one", [a]), ("two", [b])]) == (
        f"conflicting requirements for '{name}': '{a}' from one and '{b}' from two; "
        "no version satisfies both"
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("torch>=2.0,<3", "torch==2.1.2"),
        ("torch==2.1.2", "torch==2.1.2+cpu"),
        ("numpy>=1.26", "numpy<=1.26"),
        ("numpy<2.0", "numpy>=2.0rc1"),  # pre-release subtleties are left to pip
        ('numpy==1.26; python_version < "3.12"', 'numpy==2.0; python_version >= "3.12"'),
        ("numpy==1.*", "numpy==2.*"),  # wildcards are left to pip
        ("pkg @ https://a/pkg.whl", "pkg>=1"),
        ("pandas", "Pandas[parquet]>=2"),
    ],
)
def test_compatible_or_undecided_duplicates_are_kept(a, b):
    lines = merge_sources([("one", [a]), ("two", [Requirement(b)])])
    assert [(line.source, line.text) for line in lines] == [
        ("one", a),
        ("two", str(Requirement(b))),
    ]


def test_two_index_urls_in_one_source(tmp_path):
    a = write(tmp_path / "a.txt", "-i https://one.example.com/simple\n-r b.txt\n")
    b = write(tmp_path / "b.txt", "--index-url https://two.example.com/simple\n")
    sources = [("first", read_requirements_file(a))]
    assert merge_error(sources) == (
        f"{a}:1: two index URLs: 'https://one.example.com/simple' from first ({a}:1) and "
        f"'https://two.example.com/simple' from first ({b}:1); pip uses one --index-url, "
        "add the other with --extra-index-url"
    )


def test_an_index_per_source(tmp_path):
    """Each source is its own install step, so each may have its own index."""
    a = write(tmp_path / "a.txt", "-i https://download.pytorch.org/whl/cpu\ntorch\n")
    b = write(tmp_path / "b.txt", "--index-url https://two.example.com/simple\npandas\n")
    sources = [("first", read_requirements_file(a)), ("second", read_requirements_file(b))]
    lines = merge_sources(sources)
    first = render_requirements_file([ln for ln in lines if ln.source == "first"])
    assert "--index-url https://download.pytorch.org/whl/cpu\ntorch\n" in first


def test_hash_checking_needs_every_requirement_of_its_source_hashed(tmp_path):
    path = write(tmp_path / "r.txt", "requests==2.31.0 --hash=sha256:abc123\npandas\n")
    sources = [("locked", read_requirements_file(path)), ("integration 'pytorch'", ["torch>=2"])]
    assert merge_error(sources) == (
        f"{path}:2: 'pandas' from locked ({path}:2) has no --hash, but locked ({path}:1) turns "
        "on pip's hash checking, which needs a hash for every requirement"
    )
    # Another source is another install step, with hash checking of its own.
    merge_sources([("locked", sources[0][1][:1]), sources[1]])


def test_bad_string_in_a_source_names_the_source():
    assert merge_error([("integration 'x'", ["torch>>2"])]) == (
        "integration 'x': invalid requirement 'torch>>2': Expected semicolon (after name "
        "with no version specifier) or end"
    )


# --- rendering -------------------------------------------------------------------------------


def test_render_sorted_deterministic_with_header(tmp_path):
    path = write(
        tmp_path / "r.txt",
        """
        --extra-index-url https://download.pytorch.org/whl/cpu
        Torch>=2.0,<3
        pandas>=2
        -c c.txt
        """,
    )
    write(tmp_path / "c.txt", "urllib3<2\n")
    lines = merge_sources(
        [
            ("requirements", read_requirements_file(path)),
            ("integration 'sklearn'", ["scikit-learn>=1.3,<2"]),
            ("integration 'pytorch'", ["torch>=2.0,<3", "pandas>=2"]),
        ]
    )
    text = render_requirements_file(lines)
    assert text == (
        "# Generated by imagec; do not edit.\n"
        "# Source: requirements, integration 'sklearn', integration 'pytorch'\n"
        "--extra-index-url https://download.pytorch.org/whl/cpu\n"
        "-c constraints.txt\n"
        "pandas>=2\n"
        "scikit-learn<2,>=1.3\n"
        "Torch<3,>=2.0\n"
        "torch<3,>=2.0\n"
    )
    assert render_requirements_file(list(reversed(lines))).splitlines()[4:] == [
        "pandas>=2",
        "scikit-learn<2,>=1.3",
        "torch<3,>=2.0",
        "Torch<3,>=2.0",
    ]
    assert render_constraints_file(lines) == (
        "# Generated by imagec; do not edit.\n"
        "# Source: requirements, integration 'sklearn', integration 'pytorch'\n"
        "urllib3<2\n"
    )


def test_render_plain_requirements_with_a_header():
    reqs = [Requirement("b>=1"), Requirement("A==2")]
    assert render_requirements_file(reqs, header="integrations: pytorch") == (
        "# Generated by imagec; do not edit.\n# Source: integrations: pytorch\nA==2\nb>=1\n"
    )
    assert render_constraints_file([]) is None


def test_all_three_sources_of_a_pipeline_file(tmp_path):
    """Decorator requirements file + its integrations + the stack's integrations."""
    from imagec.resolve.integrations import default_registry
    from imagec.resolve.stack import read_stack
    from imagec.spec.pysource import extract

    fixtures = Path(__file__).parent / "fixtures" / "python"
    doc = extract(fixtures / "combined.py", "train")
    registry = default_registry()
    stack = read_stack(
        write(
            tmp_path / "stack.yaml",
            """
            name: s
            components:
              orchestrator: {flavor: local}
              artifact_store: {flavor: s3, config: {path: "s3://bucket/runs"}}
            """,
        )
    )
    line, column = doc.where(("requirements",))
    sources = [
        (
            "requirements",
            read_requirements_file(
                Path(doc.data["requirements"]),
                base_dir=doc.directory,
                origin=(doc.path, line, column),
            ),
        ),
        *(
            (f"integration '{name}'", list(registry.get(name).requirements))
            for name in doc.data["required_integrations"]
        ),
        *(
            (f"stack integration '{name}'", list(registry.get(name).requirements))
            for name in stack.required_integrations(registry)
        ),
    ]
    assert render_requirements_file(merge_sources(sources)) == (
        "# Generated by imagec; do not edit.\n"
        "# Source: requirements, integration 'pytorch', integration 'evidently', "
        "stack integration 's3'\n"
        "evidently<0.5,>=0.4.16\n"
        "pandas<3,>=2.0\n"
        "s3fs>=2023.12.0\n"
        "scikit-learn>=1.3\n"
        "torch<3,>=2.0\n"
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("pkg @ file:///x", "points at a local file"),
        ("git+file:///x", "points at a local file"),
        ("pkg @ https://user:hunter2@example.com/pkg.whl", "contains a password or token"),
        ("./local/pkg", "is a local path"),
    ],
)
def test_the_model_validates_requirements_with_the_one_checker(tmp_path, capsys, entry, message):
    spec = tmp_path / "imagec.yaml"
    spec.write_text(f"requirements:\n  - {entry!r}\n")
    with pytest.raises(SpecError) as info:
        validate_spec(Document(path=spec, data={"requirements": [entry]}))
    assert message in str(info.value) and "hunter2" not in str(info.value)
    assert main(["validate", str(spec)]) == 2
    assert message in capsys.readouterr().err
