"""Class 12: hostile Python specs and requirement files end in a located one-line error (exit
2), never a RecursionError, a MemoryError or a hang. The static evaluator's depth, steps and
value sizes are bounded, and so is the depth of ``-r`` includes."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.hostile import refused
from support.limited_run import imagec, write_project

HEAD = "from imagec import pipeline\n"
LIMIT = 60.0  # seconds per run: a bound that works stops the evaluation long before


def _flow(tmp_path: Path, body: str, decorator: str) -> Path:
    text = f"{HEAD}{body}@pipeline({decorator})\ndef flow():\n    pass\n"
    return write_project(tmp_path, {"flow.py": text}) / "flow.py"


@pytest.mark.parametrize(
    "body, decorator, line, message",
    [
        ("", "user=f\"{'':>999999999999}\"", 2, "format width or precision larger than 65536"),
        ("", 'user=f"{1.5:.99999999f}"', 2, "format width or precision larger than 65536"),
        (
            "W = 10**3\n",
            "user=f\"{'':>{W}}\"",
            2,
            r"can't be read without running the file: '10 \*\* 3' is not a literal \(.*\)",
        ),
        (
            "W = 99999999999999999999\n",
            "user=f\"{'':>{W}}\"",
            3,
            "format width or precision larger than 65536",
        ),
    ],
)
def test_format_width_is_bounded(
    tmp_path: Path, body: str, decorator: str, line: int, message: str
) -> None:
    flow = _flow(tmp_path, body, decorator)
    refused(
        imagec(["validate", flow.name], tmp_path, limit=LIMIT),
        rf"flow\.py:{line}:\d+: user: {message}",
    )


def test_chained_constants_are_bounded(tmp_path: Path) -> None:
    body = "C0 = 'app'\n" + "".join(f"C{i} = C{i - 1}\n" for i in range(1, 500))
    flow = _flow(tmp_path, body, "user=C499")
    refused(
        imagec(["validate", flow.name], tmp_path, limit=LIMIT),
        r"flow\.py:\d+:\d+: user: expressions and constants nest more than 100 levels deep",
    )


def test_a_short_chain_of_constants_is_read(tmp_path: Path) -> None:
    body = "C0 = 'app'\n" + "".join(f"C{i} = C{i - 1}\n" for i in range(1, 40))
    flow = _flow(tmp_path, body, "user=C39")
    result = imagec(["validate", flow.name], tmp_path, limit=LIMIT)
    assert result.returncode == 0, result.stderr


def test_long_sum_is_evaluated_without_recursion(tmp_path: Path) -> None:
    # 800 terms parse; the evaluator walks the sum in a loop.
    flow = _flow(tmp_path, "", "environment={'A': " + " + ".join(["'ab'"] * 800) + "}")
    result = imagec(["ir", flow.name], tmp_path, limit=LIMIT)
    assert result.returncode == 0, result.stderr
    assert "ab" * 800 in result.stdout


def test_sum_too_deep_for_the_parser(tmp_path: Path) -> None:
    flow = _flow(tmp_path, "", "user=" + "+".join(["'a'"] * 3000))
    refused(
        imagec(["validate", flow.name], tmp_path, limit=LIMIT),
        r"flow\.py:1: expression nested too deeply for Python's parser",
    )


def test_deeply_nested_lists(tmp_path: Path) -> None:
    flow = _flow(tmp_path, "", "requirements=" + "[" * 150 + "]" * 150)
    refused(
        imagec(["validate", flow.name], tmp_path, limit=LIMIT),
        r"flow\.py:2:\d+: requirements: expressions and constants nest more than 100 levels deep",
    )


def test_doubling_lists_stop_at_the_item_bound(tmp_path: Path) -> None:
    body = "L0 = ['x']\n" + "".join(f"L{i} = [*L{i - 1}, *L{i - 1}]\n" for i in range(1, 40))
    flow = _flow(tmp_path, body, "requirements=L39")
    refused(
        imagec(["validate", flow.name], tmp_path, limit=LIMIT),
        r"flow\.py:\d+:\d+: requirements: more than 10000 items",
    )


def test_doubling_strings_stop_at_the_length_bound(tmp_path: Path) -> None:
    body = f"S0 = '{'x' * 40_000}'\nS1 = S0 + S0\n"
    flow = _flow(tmp_path, body, "user=S1")
    refused(
        imagec(["validate", flow.name], tmp_path, limit=LIMIT),
        r"flow\.py:\d+:\d+: user: string longer than 65536 characters",
    )


def test_nested_tuples_of_shared_constants_stop_at_the_step_bound(tmp_path: Path) -> None:
    # Each level holds the previous one twice: 2**40 nodes, a few items per list.
    body = "T0 = 'x'\n" + "".join(f"T{i} = [T{i - 1}, T{i - 1}]\n" for i in range(1, 41))
    flow = _flow(tmp_path, body, "labels={'a': T40}")
    refused(
        imagec(["validate", flow.name], tmp_path, limit=LIMIT),
        r"flow\.py:\d+:\d+: labels: evaluating the spec takes more than 100000 steps",
    )


def _include_chain(tmp_path: Path, length: int) -> Path:
    files = {f"r{i}.txt": f"-r r{i + 1}.txt\n" for i in range(length)}
    files[f"r{length}.txt"] = "requests==2.31.0\n"
    files["imagec.yaml"] = "requirements: r0.txt\n"
    return write_project(tmp_path, files) / "imagec.yaml"


def test_include_chain_depth_is_bounded(tmp_path: Path) -> None:
    spec = _include_chain(tmp_path, 600)
    refused(
        imagec(["validate", spec.name], tmp_path, limit=LIMIT),
        r"r31\.txt:1: '-r r32\.txt' nests requirements files more than 32 deep",
    )


def test_include_chain_within_the_bound(tmp_path: Path) -> None:
    spec = _include_chain(tmp_path, 30)
    result = imagec(["ir", spec.name], tmp_path, limit=LIMIT)
    assert result.returncode == 0, result.stderr
    assert "requests==2.31.0" in result.stdout
