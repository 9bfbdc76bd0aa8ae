"""A command runs without the cyclic garbage collector (start-up made walking the heap a
noticeable part of a compile), except a build, which reads an engine for as long as it
takes; the caller's collector state comes back either way, and a big compile's peak memory
does not depend on it."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagec.cli import main

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = str(ROOT / "examples" / "quickstart")


def _collections_during(argv: list[str]) -> tuple[int, int]:
    """(automatic collections while ``main(argv)`` ran, its exit code)."""
    seen: list[str] = []

    def record(phase: str, info: dict) -> None:
        if phase == "start":
            seen.append(phase)

    # Garbage in every generation, so an enabled collector would surely run.
    junk = []
    for _ in range(5_000):
        cycle: list = []
        cycle.append(cycle)
        junk.append(cycle)
    del junk
    gc.callbacks.append(record)
    try:
        code = main(argv)
    finally:
        gc.callbacks.remove(record)
    return len(seen), code


@pytest.mark.parametrize("enabled", [True, False])
def test_compile_runs_without_the_collector_and_restores_it(enabled: bool, capsys) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        collections, code = _collections_during(["compile", QUICKSTART])
        assert code == 0
        assert collections == 0
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
    assert "FROM python:3.11-slim" in capsys.readouterr().out


def test_a_failing_command_restores_the_collector(tmp_path: Path, capsys) -> None:
    assert gc.isenabled()
    assert main(["compile", str(tmp_path / "missing")]) == 2
    assert gc.isenabled()


def _peak_kib(script: str, spec_dir: Path) -> int:
    code = (
        "import resource, sys\n"
        f"{script}\n"
        "from imagec.cli import main\n"
        "sys.stdout = open('/dev/null', 'w')\n"
        f"assert main(['compile', {str(spec_dir)!r}]) == 0\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return int(done.stderr.strip().splitlines()[-1])


def test_a_big_compile_peaks_as_high_with_the_collector(tmp_path: Path) -> None:
    """2,000 requirements with extras and markers: without the collector the peak is the
    same (reference counting frees what a compile drops); `gc.enable` is patched into
    `gc.disable` for the comparison run."""
    lines = "\n".join(
        f"  - pkg{i}[extra{i % 7}]>=1.{i},<{i + 2} ; python_version >= '3.8' and extra == 'Foo_{i}'"
        for i in range(2_000)
    )
    (tmp_path / "imagec.yaml").write_text(
        f'python_version: "3.11"\nrequirements:\n{lines}\ncommand: ["python", "x.py"]\n'
    )
    without = _peak_kib("", tmp_path)
    with_gc = _peak_kib("import gc; gc.disable = lambda: None", tmp_path)
    assert without < with_gc * 1.1 + 4096, (without, with_gc)
