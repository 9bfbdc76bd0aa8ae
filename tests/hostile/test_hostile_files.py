"""Hostile spec files: whatever the file holds, ``imagec validate`` ends quickly, within bounded
memory, with one located line and exit code 2, never a traceback.

Each case runs the real CLI in a child process with a memory cap and a time limit, so a hang
or an unbounded read fails the test instead of the machine. Cases marked ``xfail(strict=True)``
are known gaps in the loaders (see the reason); fixing one makes its test fail as XPASS, which
is the cue to remove the marker.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from imagec.spec.loaders import MAX_SPEC_BYTES

MEMORY_CAP = 768 * 1024 * 1024
TIME_LIMIT = 10.0


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def validate(target: Path, time_limit: float = TIME_LIMIT) -> tuple[int, str, str]:
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "imagec", "validate", target.name],
            cwd=target.parent,
            capture_output=True,
            text=True,
            timeout=time_limit,
            preexec_fn=_cap_memory,
            env={**os.environ, "IMAGEC_STACK": ""},
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"imagec validate {target.name} ran for more than {time_limit} s")
    return proc.returncode, proc.stdout, proc.stderr


def assert_clean_error(target: Path, expected: str, time_limit: float = TIME_LIMIT) -> None:
    code, out, err = validate(target, time_limit)
    assert "Traceback" not in err, err[-2000:]
    assert (code, out) == (2, ""), (code, out, err[-500:])
    assert err.count("\n") == 1, err
    assert expected in err, err
    assert all(ch == "\n" or ch.isprintable() for ch in err), repr(err)


def test_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    spec = tmp_path / "imagec.yaml"
    with spec.open("wb") as f:
        f.write(b"labels:\n  a: x\n")
        f.truncate(MAX_SPEC_BYTES + 1)  # sparse: big on paper, cheap on disk
    assert_clean_error(spec, f"spec file too large ({MAX_SPEC_BYTES + 1} bytes")


def test_directory_named_like_a_spec_file(tmp_path: Path) -> None:
    (tmp_path / "imagec.yaml").mkdir()
    assert_clean_error(tmp_path / "imagec.yaml", "no spec file found")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    spec = tmp_path / "imagec.yaml"
    spec.write_text("user: app\n")
    spec.chmod(0)
    assert_clean_error(spec, "imagec.yaml: spec file not readable (permission denied)")


def test_dangling_symlink(tmp_path: Path) -> None:
    (tmp_path / "imagec.yaml").symlink_to(tmp_path / "nowhere.yaml")
    assert_clean_error(tmp_path / "imagec.yaml", "spec file not found")


def test_python_file_with_syntax_error(tmp_path: Path) -> None:
    spec = tmp_path / "pipeline.py"
    spec.write_text("from imagec import pipeline\n\n@pipeline(\ndef train(): pass\n")
    assert_clean_error(spec, "pipeline.py:3:")


def test_endless_device_is_not_read_forever(tmp_path: Path) -> None:
    (tmp_path / "imagec.yaml").symlink_to("/dev/zero")  # st_size 0, endless data
    assert_clean_error(tmp_path / "imagec.yaml", "imagec.yaml: ")


def test_fifo_does_not_block(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "imagec.yaml")
    assert_clean_error(tmp_path / "imagec.yaml", "imagec.yaml: ", time_limit=3.0)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.json", "[" * 100_000 + "]" * 100_000),
        ("deep.toml", "a = " + "[" * 100_000 + "]" * 100_000 + "\n"),
        ("deep.yaml", "a: " + "[" * 100_000 + "]" * 100_000 + "\n"),
        ("cycle.yaml", "a: &a [*a]\n"),
        ("bigint.json", '{"user": ' + "1" * 5000 + "}"),
        ("bigint.yaml", "user: " + "1" * 5000 + "\n"),
        ("bigint.toml", "user = " + "1" * 5000 + "\n"),
    ],
    ids=lambda value: value if len(value) < 20 else "",
)
def test_pathological_documents(tmp_path: Path, name: str, text: str) -> None:
    spec = tmp_path / name
    spec.write_text(text)
    assert_clean_error(spec, f"{name}:")


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    # Seven levels of ten aliases each: 10^7 values from a 300-byte file.
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 7):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    spec = tmp_path / "bomb.yaml"
    spec.write_text("\n".join(lines) + "\n")
    assert_clean_error(spec, "bomb.yaml:")


def test_escape_sequences_in_keys_do_not_reach_the_terminal(tmp_path: Path) -> None:
    spec = tmp_path / "imagec.yaml"
    spec.write_text('environment:\n  "\\e]0;owned\\a\\e[2J": x\n')
    assert_clean_error(spec, "imagec.yaml:2:3: environment")
