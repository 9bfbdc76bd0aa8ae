"""Lock files compiled into requirement layers: each lock made by its real tool in the test,
compiled by imagec, and the exported file compared with the lock's own pins and with the
sha256 of the wheels the index serves."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.cli import cli_env, run_imagec
from support.package_index import PackageIndex

from imagec.resolve.lockfiles.tools import ToolError, find_tool, run_tool
from lockfiles.projects import (
    UV,
    locked_pins,
    make_pipenv_project,
    make_poetry_project,
    make_pylock,
    make_pyproject,
    make_uv_project,
    pins,
    run,
    sha256,
    write_wheel,
)

SPEC = "install_imagec: false\ncopy_source: false\ncopy_stack: false\n"


def compile_ir(spec: Path, env: dict[str, str] | None = None, *flags: str) -> dict:
    result = run_imagec("ir", *flags, str(spec), env=cli_env(env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def lock_layers(ir: dict) -> list[str]:
    return [f["content"] for f in ir["files"] if f["path"].endswith("-lock.txt")]


def write_spec(directory: Path, lock_files: str, extra: str = "") -> Path:
    spec = directory / "imagec.yaml"
    spec.write_text(SPEC + f"lock_files: {lock_files}\n" + extra)
    return spec


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    """Every entry below ``directory`` with its size and mtime: the user's tree, unchanged."""
    out = {}
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if d != ".venv"]
        for name in dirs + files:
            st = os.lstat(os.path.join(root, name))
            out[os.path.join(root, name)] = (st.st_size, st.st_mtime_ns)
    return out


def wheel_hashes(index, names: dict[str, str]) -> dict[str, tuple[str, frozenset[str]]]:
    """What the index serves for the production dependencies: top 1.0 and dep 2.0."""
    out = {}
    for role, version in (("top", "1.0"), ("dep", "2.0")):
        wheel = index.wheels / f"{names[role].replace('-', '_')}-{version}-py3-none-any.whl"
        out[names[role]] = (version, frozenset({f"sha256:{sha256(wheel)}"}))
    return out


def assert_exported(content: str, lock: Path, index, names, extras: tuple[str, ...] = ()) -> None:
    exported = pins(content)
    assert exported == locked_pins(lock, extras)
    # The lock's hashes are those of the wheels the index serves; dev groups stay out.
    expected = wheel_hashes(index, names)
    assert {k: v for k, v in exported.items() if k in expected} == expected
    assert names["dev"] not in exported
    assert (names["extra"] in exported) == bool(extras)
    assert content.splitlines()[2] == "--require-hashes"


def test_uv_lock(probes, tmp_path: Path) -> None:
    index, names = probes
    lock = make_uv_project(tmp_path / "p", names["uv"], index.url)
    spec = write_spec(lock.parent, "[uv.lock]")
    before = snapshot(lock.parent)
    [content] = lock_layers(compile_ir(spec))
    assert_exported(content, lock, index, names["uv"])
    assert snapshot(lock.parent) == before


def test_uv_lock_with_extras_and_groups(probes, tmp_path: Path) -> None:
    index, names = probes
    lock = make_uv_project(tmp_path / "p", names["uv"], index.url)
    spec = write_spec(lock.parent, "[{path: uv.lock, extras: [extra]}]")
    [content] = lock_layers(compile_ir(spec))
    assert_exported(content, lock, index, names["uv"], ("extra",))
    spec = write_spec(lock.parent, "[{path: uv.lock, groups: [dev]}]")
    [content] = lock_layers(compile_ir(spec))
    assert names["uv"]["dev"] in pins(content)


def test_poetry_lock(probes, tmp_path: Path) -> None:
    index, names = probes
    lock = make_poetry_project(tmp_path / "p", names["poetry"], index.url)
    spec = write_spec(lock.parent, "[{path: poetry.lock, extras: [extra]}]")
    before = snapshot(lock.parent)
    [content] = lock_layers(compile_ir(spec))
    assert_exported(content, lock, index, names["poetry"], ("extra",))
    assert snapshot(lock.parent) == before


def test_pipfile_lock(probes, tmp_path: Path) -> None:
    index, names = probes
    lock = make_pipenv_project(tmp_path / "p", names["pipenv"], index.port)
    spec = write_spec(lock.parent, "[Pipfile.lock]")
    before = snapshot(lock.parent)
    [content] = lock_layers(compile_ir(spec))
    assert_exported(content, lock, index, names["pipenv"])
    # The Pipfile's source (with its ${VAR} credentials) is not copied: the spec says where
    # the image installs from.
    assert "127.0.0.1" not in content and "LK_PASS" not in content
    assert snapshot(lock.parent) == before
    spec = write_spec(lock.parent, "[{path: Pipfile.lock, groups: [dev-packages]}]")
    [content] = lock_layers(compile_ir(spec))
    assert names["pipenv"]["dev"] in pins(content)


def test_pylock(probes, tmp_path: Path) -> None:
    index, names = probes
    lock = make_pylock(tmp_path / "p", names["pylock"], index.url)
    spec = write_spec(lock.parent, "[pylock.toml]")
    [content] = lock_layers(compile_ir(spec))
    assert_exported(content, lock, index, names["pylock"])


def test_pyproject_resolved_for_the_image(probes, tmp_path: Path) -> None:
    index, names = probes
    project = make_pyproject(tmp_path / "p", names["pyproject"])
    spec = write_spec(project.parent, "[{path: pyproject.toml, extras: [extra]}]")
    # The index with its credentials comes from uv's environment, never from the spec; the
    # command line allows resolving at compile time.
    ir = compile_ir(spec, {"UV_INDEX_URL": index.auth_url}, "--resolve-online")
    [content] = lock_layers(ir)
    expected = wheel_hashes(index, names["pyproject"])
    wheel = index.wheels / f"{names['pyproject']['extra'].replace('-', '_')}-3.0-py3-none-any.whl"
    expected[names["pyproject"]["extra"]] = ("3.0", frozenset({f"sha256:{sha256(wheel)}"}))
    assert pins(content) == expected
    assert "secret" not in json.dumps(ir)


@pytest.mark.parametrize("named", [True, False])
def test_pyproject_is_resolved_only_when_the_command_line_allows_it(
    named: bool, probes, tmp_path: Path
) -> None:
    """A spec from a pull request must not make the compiling machine contact an index of its
    choosing: without --resolve-online (IMAGEC_RESOLVE_ONLINE=1) a pyproject.toml in
    lock_files is refused in one line, exit 2, and the index hears nothing."""
    index, names = probes
    project = make_pyproject(tmp_path / "p", names["pyproject"])
    extra = f"index_url: {index.url}\n" if named else ""
    spec = write_spec(project.parent, "[pyproject.toml]", extra)
    index.reset()
    env = cli_env({"UV_INDEX_URL": index.auth_url, "IMAGEC_RESOLVE_ONLINE": "no"})
    result = run_imagec("compile", str(spec), env=env)
    assert result.returncode == 2, result.stdout
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    where = index.url if named else "uv's configured index"
    assert result.stderr == (
        f"{spec}:4:14: lock_files[0]: pyproject.toml: resolving it contacts {where} at compile "
        "time, which only the command line allows (--resolve-online or IMAGEC_RESOLVE_ONLINE=1); "
        "or name a lock file instead (uv.lock, made by `uv lock`)\n"
    )
    assert index.requests == []


def test_layer_order_and_requirements_after_locks(probes, tmp_path: Path) -> None:
    index, names = probes
    lock = make_uv_project(tmp_path / "p", names["uv"], index.url)
    spec = write_spec(lock.parent, "[uv.lock]", "requirements: [other-package]\n")
    ir = compile_ir(spec)
    paths = [f["path"] for f in ir["files"] if f["path"].startswith("imagec/requirements/")]
    assert paths[0].endswith("-lock.txt") and paths[-1].endswith("-list.txt")


def test_lock_pin_against_the_list_names_both(probes, tmp_path: Path) -> None:
    index, names = probes
    lock = make_uv_project(tmp_path / "p", names["uv"], index.url)
    dep = names["uv"]["dep"]
    spec = write_spec(lock.parent, "[uv.lock]", f"requirements: ['{dep}==1.0']\n")
    result = run_imagec("compile", str(spec))
    assert result.returncode == 2, result.stderr
    assert dep in result.stderr and "lock file uv.lock" in result.stderr


STALE = {
    "uv": ("uv.lock", "run `uv lock`"),
    "poetry": ("poetry.lock", "run `poetry lock`"),
    "pipenv": ("Pipfile.lock", "run `pipenv lock`"),
}


@pytest.mark.parametrize("kind", sorted(STALE))
def test_stale_lock_is_reported(kind: str, probes, tmp_path: Path) -> None:
    index, names = probes
    directory = tmp_path / "p"
    if kind == "uv":
        make_uv_project(directory, names["uv"], index.url)
        made_from = directory / "pyproject.toml"
    elif kind == "poetry":
        make_poetry_project(directory, names["poetry"], index.url)
        made_from = directory / "pyproject.toml"
    else:
        make_pipenv_project(directory, names["pipenv"], index.port)
        made_from = directory / "Pipfile"
    # A dependency added after locking.
    text = made_from.read_text()
    if kind == "pipenv":
        text = text.replace("[packages]\n", f'[packages]\n"{names[kind]["extra"]}" = "*"\n')
    else:
        text = text.replace('dependencies = ["', f'dependencies = ["{names[kind]["extra"]}", "')
    made_from.write_text(text)
    lock_name, fix = STALE[kind]
    spec = write_spec(directory, f"[{lock_name}]")
    result = run_imagec("compile", str(spec))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"{spec}:4:14: lock_files[0]: {lock_name}: out of date with its ")
    assert fix in line


def test_missing_lock_file_and_unknown_name(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "[sub/uv.lock]")
    result = run_imagec("compile", str(spec))
    assert result.returncode == 2
    assert result.stderr.strip().endswith("lock_files[0]: sub/uv.lock does not exist")
    spec = write_spec(tmp_path, "[requirements.txt]")
    result = run_imagec("compile", str(spec))
    assert result.returncode == 2
    assert "'requirements.txt' is not a lock file imagec reads" in result.stderr


def test_extras_of_pipfile_are_refused(probes, tmp_path: Path) -> None:
    index, names = probes
    lock = make_pipenv_project(tmp_path / "p", names["pipenv"], index.port)
    spec = write_spec(lock.parent, "[{path: Pipfile.lock, extras: [x]}]")
    result = run_imagec("compile", str(spec))
    assert result.returncode == 2
    assert "Pipfile.lock has no extras" in result.stderr


def test_missing_tool_names_what_to_install() -> None:
    with pytest.raises(ToolError) as caught:
        find_tool("imagec-no-such-tool", "poetry.lock")
    message = str(caught.value)
    assert "poetry.lock needs `imagec-no-such-tool`" in message
    assert "pip install imagec-no-such-tool" in message


def test_tool_runs_are_bounded(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="took longer than 1 s"):
        run_tool(["/bin/sh", "-c", "sleep 30 & sleep 30"], cwd=tmp_path, timeout=1)
    with pytest.raises(ToolError, match="wrote more than"):
        run_tool(["/bin/sh", "-c", "head -c 9000000 /dev/zero"], cwd=tmp_path)


def test_pip_refuses_a_file_other_than_the_locked_one(probes, tmp_path: Path) -> None:
    """The exported layer, given to the real pip: the locked wheels download; a wheel with
    the same name and version but other bytes is refused by the hash check."""
    index, names = probes
    lock = make_uv_project(tmp_path / "p", names["uv"], index.url)
    [content] = lock_layers(compile_ir(write_spec(lock.parent, "[uv.lock]")))
    layer = tmp_path / "layer.txt"
    layer.write_text(content)

    def download(served) -> subprocess.CompletedProcess:
        target = tmp_path / f"dl-{served.port}"
        return subprocess.run(
            [sys.executable, "-m", "pip", "download", "--isolated", "--no-deps", "-q",
             "-d", str(target), "--index-url", served.auth_url, "-r", str(layer)],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    assert download(index).returncode == 0
    other = tmp_path / "other-wheels"
    other.mkdir()
    for wheel in index.wheels.glob(f"{names['uv']['top'].replace('-', '_')}-*.whl"):
        shutil.copy2(wheel, other / wheel.name)
    for wheel in index.wheels.glob(f"{names['uv']['dep'].replace('-', '_')}-*.whl"):
        shutil.copy2(wheel, other / wheel.name)
    # Same name and version, other bytes (another dependency list).
    write_wheel(other, names["uv"]["top"], "1.0", ())
    with PackageIndex(other, user="ci", password="secret") as tampered:
        refused = download(tampered)
    assert refused.returncode != 0
    assert "DO NOT MATCH THE HASHES" in refused.stderr


def test_uv_lock_with_a_local_path_dependency_is_one_line(tmp_path: Path) -> None:
    lib = tmp_path / "libs" / "localdep"
    (lib / "src" / "localdep").mkdir(parents=True)
    (lib / "src" / "localdep" / "__init__.py").write_text("")
    (lib / "pyproject.toml").write_text(
        '[project]\nname = "localdep"\nversion = "0.1"\n'
        '[build-system]\nrequires = ["uv_build>=0.9,<1"]\nbuild-backend = "uv_build"\n'
    )
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0.1"\nrequires-python = ">=3.11"\n'
        'dependencies = ["localdep"]\n\n'
        '[tool.uv.sources]\nlocaldep = { path = "libs/localdep" }\n'
    )
    run([UV, "lock"], tmp_path)
    spec = write_spec(tmp_path, "[uv.lock]")
    result = run_imagec("compile", str(spec))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{spec}:4:14: lock_files[0]: uv.lock: depends on the local directory 'libs/localdep'; "
        "a lock's packages must come from an index or a URL"
    )


def test_a_locked_pin_wins_over_an_integration_default(tmp_path: Path) -> None:
    """The lock is the user's: sklearn's default `scikit-learn>=1.3,<2` gives way to the
    lock's 1.0.2, which the lock layer installs with its hash."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_wheel(wheels, "scikit-learn", "1.0.2")
    with PackageIndex(wheels, user="ci", password="secret") as index:
        lock = make_uv_project(
            tmp_path / "p", dict.fromkeys(("top", "extra", "dev"), "scikit-learn==1.0.2"), index.url
        )
    spec = write_spec(lock.parent, "[uv.lock]", "required_integrations: [sklearn]\n")
    ir = compile_ir(spec)
    [content] = lock_layers(ir)
    assert pins(content)["scikit-learn"][0] == "1.0.2"
    [integration] = [f["content"] for f in ir["files"] if f["path"].endswith("-integrations.txt")]
    assert [line for line in integration.splitlines() if not line.startswith("#")] == []
    assert "left to 'scikit-learn==1.0.2' from lock file uv.lock" in integration


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lock-version = [", "pylock.toml: not valid TOML: "),
        ('lock-version = "1.0"\n', "pylock.toml: not a valid PEP 751 lock: "),
        (
            'lock-version = "1.0"\ncreated-by = "x"\nrequires-python = ">=3.99"\npackages = []\n',
            "pylock.toml: requires Python >=3.99; the image has Python 3.11",
        ),
    ],
)
def test_bad_pylock_is_one_line(text: str, message: str, tmp_path: Path) -> None:
    (tmp_path / "pylock.toml").write_text(text)
    spec = write_spec(tmp_path, "[pylock.toml]", 'python_version: "3.11"\n')
    result = run_imagec("compile", str(spec))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"{spec}:4:14: lock_files[0]: {message}")


def test_an_export_with_some_pins_unhashed_is_refused() -> None:
    """pip checks every line once one has a hash: a lock with a VCS pin among hashed ones
    would fail in the build, so it fails at compile time, naming the pin."""
    from imagec.errors import SpecError
    from imagec.resolve.lockfiles import _checked_lines

    text = f"a==1.0 --hash=sha256:{'0' * 64}\nb @ git+https://example.org/b@0123abc\n"
    where = {"file": "imagec.yaml", "line": 4, "column": 5, "field": "lock_files[0]"}
    with pytest.raises(SpecError) as caught:
        _checked_lines(text, "uv export", "uv.lock", where)
    assert str(caught.value) == (
        "imagec.yaml:4:5: lock_files[0]: uv.lock: uv export pins b without a hash (a VCS or "
        "URL source?), and pip installs a file with hashes only when every pin has one"
    )
    lines = _checked_lines(f"a==1.0 --hash=sha256:{'0' * 64}\n", "uv export", "uv.lock", where)
    assert lines[0].text == "--require-hashes"
    unhashed = _checked_lines("a==1.0\nb==2.0\n", "uv export", "uv.lock", where)
    assert all(line.option is None for line in unhashed)


def test_compile_runs_no_project_code(tmp_path: Path) -> None:
    """A pyproject.toml with dynamic dependencies needs its build backend run to be resolved;
    compiling a spec from a pull request must not run it: refused, and the backend never ran."""
    marker = tmp_path / "backend-ran"
    (tmp_path / "backend.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n"
        "def get_requires_for_build_wheel(config_settings=None):\n    return []\n"
        "def prepare_metadata_for_build_wheel(d, config_settings=None):\n    raise SystemExit(1)\n"
        "def build_wheel(d, config_settings=None, metadata_directory=None):\n"
        "    raise SystemExit(1)\n"
    )
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0.1"\ndynamic = ["dependencies"]\n'
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        "[tool.uv]\nfind-links = ['/etc']\n"
    )
    spec = write_spec(tmp_path, "[pyproject.toml]")
    result = run_imagec("compile", "--resolve-online", str(spec))
    assert result.returncode == 2, result.stdout
    assert result.stderr.count("\n") == 1 and "lock_files[0]" in result.stderr
    assert "compiling runs no project or package code" in result.stderr
    assert not marker.exists()
