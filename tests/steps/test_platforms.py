"""``platform`` as a list: compiled (no ``FROM --platform``, the plan names them all), exported
with a README that builds a manifest list; ``--platform`` checked like the spec field.

Building one (podman) and docker's refusal: ``tests/engines/test_multiplatform.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import run_imagec

from imagec.cli.platform import platform_flag
from imagec.errors import ImagecError, SpecError
from imagec.plan.ir import From
from imagec.project import load_project

ROOT = Path(__file__).resolve().parents[2]


def spec_at(tmp_path: Path, platform) -> Path:
    root = tmp_path / "project"
    root.mkdir(parents=True, exist_ok=True)
    path = root / "imagec.json"
    path.write_text(json.dumps({"platform": platform, "copy_stack": False}))
    return path


def test_several_platforms_leave_from_unpinned(tmp_path: Path) -> None:
    plan = load_project(str(spec_at(tmp_path, ["linux/amd64", "linux/arm64/v8"]))).plan
    base = plan.steps[0]
    assert isinstance(base, From) and base.platform is None
    assert plan.platform == "linux/amd64,linux/arm64/v8"
    assert json.loads(plan.to_json())["platform"] == "linux/amd64,linux/arm64/v8"


def test_one_platform_written_either_way_is_the_same_plan(tmp_path: Path) -> None:
    a = load_project(str(spec_at(tmp_path / "a", "linux/arm64"))).plan
    b = load_project(str(spec_at(tmp_path / "b", ["linux/arm64"]))).plan
    assert a.steps[0].platform == b.steps[0].platform == "linux/arm64"
    assert dict(a.metadata)["ir_digest"] == dict(b.metadata)["ir_digest"]


@pytest.mark.parametrize(
    ("platform", "message"),
    [
        (["linux/amd64", "linux/amd64"], "names a platform twice"),
        ([], "at least 1 item"),
        (["linux/amd64", "Linux/ARM"], "invalid platform 'Linux/ARM'"),
        ("linux/amd64,linux/arm64", "invalid platform"),  # a list is a list, not a string
    ],
)
def test_bad_platform_lists_are_refused(tmp_path: Path, platform, message: str) -> None:
    with pytest.raises(ImagecError, match=message):
        load_project(str(spec_at(tmp_path, platform)))


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("linux/amd64", "linux/amd64"),
        ("linux/amd64, linux/arm64/v8", "linux/amd64,linux/arm64/v8"),
        (None, None),
    ],
)
def test_platform_flag_accepts_what_the_spec_accepts(flag, expected) -> None:
    assert platform_flag(flag) == expected


@pytest.mark.parametrize(
    "flag", ["linux", "linux/amd64,", "linux/amd64,linux/amd64", "linux/amd64;id", "--x/y"]
)
def test_platform_flag_refuses_what_the_spec_refuses(flag: str) -> None:
    with pytest.raises(SpecError) as err:
        platform_flag(flag)
    assert err.value.field == "--platform"


def test_a_bad_platform_flag_stops_the_build_before_any_engine(tmp_path: Path) -> None:
    spec = spec_at(tmp_path, "linux/amd64")
    result = run_imagec(
        "build", str(spec), "--backend", "podman", "--url", f"unix://{tmp_path}/none.sock",
        "--platform", "linux/amd64,linux/arm64;touch /tmp/x",
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("imagec: error: --platform: invalid platform"), lines


def test_export_of_several_platforms_builds_a_manifest_list(tmp_path: Path) -> None:
    out = tmp_path / "export"
    result = run_imagec("export", str(ROOT / "examples/multi-platform"), "-o", str(out))
    assert result.returncode == 0, result.stderr
    readme = (out / "README.md").read_text()
    assert (
        "podman build -f Dockerfile --platform linux/amd64,linux/arm64 --manifest team/multi ."
        in readme
    )
    assert "docker buildx build -f Dockerfile --platform linux/amd64,linux/arm64" in readme
    dockerfile = (out / "Dockerfile").read_text()
    assert "FROM python:" in dockerfile and "--platform" not in dockerfile
