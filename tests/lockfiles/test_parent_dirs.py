"""A lock's tool runs on a copy in the temporary directory, and the temporary directory's
parent is shared (``/tmp``, writable by every user of a CI machine). uv looks above a project
for a workspace root (the first ``pyproject.toml``, whose ``uv.lock`` it then reads) and for its
settings (the nearest ``uv.toml``): files planted there by someone else must not steer the
export. Here the shared directory is one of the test's own, named by ``TMPDIR``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import cli_env, run_imagec

from lockfiles.projects import (
    locked_pins,
    make_pipenv_project,
    make_poetry_project,
    make_pyproject,
    make_uv_project,
    pins,
    sha256,
)


def plant(shared: Path) -> Path:
    """What another user of the machine leaves in the shared temporary directory: a workspace
    root claiming every project below it, settings sending uv's cache (and poetry's, pipenv's)
    into a directory of theirs, a Python version no image has. Returns that directory."""
    theirs = shared / "planted-cache"
    shared.mkdir(parents=True)
    (shared / "pyproject.toml").write_text(
        '[project]\nname = "planted"\nversion = "0"\nrequires-python = ">=3.8"\n'
        'dependencies = []\n\n[tool.uv.workspace]\nmembers = ["*/project"]\n'
    )
    (shared / "uv.toml").write_text(f'cache-dir = "{theirs}"\n')
    (shared / "poetry.toml").write_text(f'cache-dir = "{theirs}"\n')
    (shared / ".env").write_text(f"PIPENV_CACHE_DIR={theirs}\nUV_CACHE_DIR={theirs}\n")
    (shared / "Pipfile").write_text('[packages]\nplanted = "*"\n')
    (shared / ".python-version").write_text("3.8\n")
    return theirs


def _compile(spec: Path, env: dict[str, str]) -> str:
    result = run_imagec("ir", str(spec), env=cli_env(env))
    assert result.returncode == 0, result.stderr
    [content] = [
        f["content"] for f in json.loads(result.stdout)["files"] if f["path"].endswith("-lock.txt")
    ]
    return content


@pytest.mark.parametrize("kind", ["uv", "poetry", "pipenv", "pyproject"])
def test_files_above_the_staged_copy_do_not_steer_the_export(
    kind: str, probes, tmp_path: Path
) -> None:
    index, all_names = probes
    names = all_names[kind]
    directory = tmp_path / "p"
    env = {"TMPDIR": str(tmp_path / "shared")}
    if kind == "uv":
        lock = make_uv_project(directory, names, index.url)
    elif kind == "poetry":
        lock = make_poetry_project(directory, names, index.url)
    elif kind == "pipenv":
        lock = make_pipenv_project(directory, names, index.port)
    else:
        lock = make_pyproject(directory, names)
        env |= {"UV_INDEX_URL": index.auth_url, "IMAGEC_RESOLVE_ONLINE": "1"}
    theirs = plant(tmp_path / "shared")
    spec = directory / "imagec.yaml"
    spec.write_text(
        f"install_imagec: false\ncopy_source: false\ncopy_stack: false\nlock_files: [{lock.name}]\n"
    )
    content = _compile(spec, env)
    if kind == "pyproject":
        top, dep = names["top"], names["dep"]
        wheels = {n: index.wheels / f"{n.replace('-', '_')}-{v}-py3-none-any.whl"
                  for n, v in ((top, "1.0"), (dep, "2.0"))}  # fmt: skip
        expected = {n: (w.name.split("-")[1], frozenset({f"sha256:{sha256(w)}"}))
                    for n, w in wheels.items()}  # fmt: skip
        assert pins(content) == expected
    else:
        assert pins(content) == locked_pins(lock)
    assert not theirs.exists(), sorted(p.name for p in theirs.iterdir())
    # Nothing of imagec's is left in the shared directory either.
    assert not [p for p in (tmp_path / "shared").iterdir() if p.name.startswith("imagec-")]
