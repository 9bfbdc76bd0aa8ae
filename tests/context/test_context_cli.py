"""`imagec context ROOT --list [--file F] [--dockerignore F]`: the CLI contract, driven by the
same docker CLI vectors as the walk, plus the explicit ignore-file errors (exit 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.context import ids, vectors
from test_context_walk import build

from imagec.cli import main

V = vectors()


@pytest.mark.parametrize("case", V["trees"], ids=ids(V["trees"]))
def test_list_prints_the_docker_cli_context(tmp_path: Path, case: dict, capsys) -> None:
    root = build(tmp_path, case)
    args = ["context", str(root), "--list"]
    if case.get("dockerfile"):
        args += ["--file", case["dockerfile"]]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out == "".join(f"{p}\n" for p in case["expect"])


def test_explicit_dockerignore_replaces_the_one_in_the_root(tmp_path: Path, capsys) -> None:
    (tmp_path / "root").mkdir()
    for name in ("a.txt", "b.log", ".dockerignore"):
        (tmp_path / "root" / name).write_text("*.txt\n" if name == ".dockerignore" else "")
    (tmp_path / "other.ignore").write_text("*.log\n")
    assert main(["context", str(tmp_path / "root"), "--list"]) == 0
    assert capsys.readouterr().out == ".dockerignore\nb.log\n"
    ignore = str(tmp_path / "other.ignore")
    assert main(["context", str(tmp_path / "root"), "--dockerignore", ignore, "--list"]) == 0
    assert capsys.readouterr().out == ".dockerignore\na.txt\n"


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_bad_explicit_dockerignore_is_exit_2(tmp_path: Path, kind: str, capsys) -> None:
    (tmp_path / "root").mkdir()
    ignore = tmp_path / "ignore"
    if kind == "directory":
        ignore.mkdir()
    assert main(["context", str(tmp_path / "root"), "--dockerignore", str(ignore), "--list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(str(ignore)) and err.count("\n") == 1


def test_invalid_pattern_names_file_and_line(tmp_path: Path, capsys) -> None:
    (tmp_path / ".dockerignore").write_text("ok\n[unclosed\n")
    assert main(["context", str(tmp_path), "--list"]) == 2
    assert capsys.readouterr().err.startswith(f"{tmp_path / '.dockerignore'}:2")


PLAIN_FORMS = [
    ["DIR", "--tar", "OUT"],
    ["DIR", "--tar=OUT"],
    ["--tar", "OUT", "DIR"],
    ["DIR", "--tar", "-"],
    ["-", "--list"],
    ["DIR"],
    ["DIR", "--list"],
    ["DIR", "--hash", "--file", "Dockerfile.dev", "--dockerignore=x.ignore"],
    ["a=b", "--file=c=d", "--tar", "e"],
]
OTHER_FORMS = [
    [],
    ["-h"],
    ["DIR", "--ta", "OUT"],
    ["DIR", "--tar"],
    ["DIR", "--tar="],
    ["DIR", "--tar", "-x"],
    ["DIR", "--tar", "--list"],
    ["DIR", "--list=yes"],
    ["DIR", "--tar", "A", "--tar", "B"],
    ["DIR", "--tar", "OUT", "--hash"],
    ["DIR", "OTHER"],
    ["--", "DIR"],
    ["DIR", "--import"],
    ["DIR", "--stack", "s"],
    ["-1"],
]


@pytest.mark.parametrize("argv", PLAIN_FORMS, ids=" ".join)
def test_plain_forms_parse_as_argparse_does(argv: list[str]) -> None:
    """The start-up shortcut for `imagec context` agrees with the full parser it skips."""
    from imagec.cli.commands.context import plain_args
    from imagec.cli.parser import build_parser

    got = plain_args(argv)
    assert got is not None
    assert vars(got) == vars(build_parser().parse_args(["context", *argv]))


@pytest.mark.parametrize("argv", OTHER_FORMS, ids=" ".join)
def test_other_forms_are_left_to_argparse(argv: list[str]) -> None:
    from imagec.cli.commands.context import plain_args

    assert plain_args(argv) is None


def test_context_tar_loads_no_parser_pathspec_or_dataclasses(tmp_path: Path) -> None:
    """`imagec context DIR --tar OUT` is timed against tar: argparse (the full parser),
    pathspec and dataclasses were a fifth of its start-up."""
    root = tmp_path / "root"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("a\n")
    (root / ".dockerignore").write_text("**/*.pyc\n!src/keep.pyc\n")
    heavy = ("argparse", "pathspec", "dataclasses", "hashlib", "pydantic", "pluggy")
    code = (
        "import sys\n"
        "from imagec.cli import main\n"
        f"assert main(['context', {str(root)!r}, '--tar', {str(tmp_path / 'ctx.tar')!r}]) == 0\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.splitlines()[-1:] == ["[]"], result.stderr
    assert (tmp_path / "ctx.tar").stat().st_size > 0


def test_context_tar_loads_no_typing_pathlib_or_re(tmp_path: Path) -> None:
    """The benchmarked form, `python -m imagec context DIR --tar OUT` (with a .dockerignore,
    so the pattern modules load): typing, pathlib and the `re` both import were a third of
    its start-up. `-X importtime` lists every module the process imported."""
    root = tmp_path / "root"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("a\n")
    (root / ".dockerignore").write_text("**/*.pyc\n!src/keep.pyc\n")
    out = tmp_path / "ctx.tar"
    result = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "imagec",
            "context",
            str(root),
            "--tar",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    loaded = {
        line.rpartition("|")[2].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "imagec.context.pattern" in loaded  # the listing is real: the matcher was loaded
    heavy = {"typing", "pathlib", "re", "fnmatch", "urllib.parse", "tempfile", "shutil"}
    assert sorted(heavy & loaded) == []
    assert out.stat().st_size > 0
