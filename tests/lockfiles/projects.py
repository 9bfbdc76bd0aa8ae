"""Small real projects for the lock-file tests: probe wheels with dependencies on a real
index on loopback, and project files whose locks the real tools make."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

# Made by the tools from imagec's own environment (the `test` extra installs them).
BIN = Path(sys.executable).parent
UV, POETRY, PIPENV = (str(BIN / name) for name in ("uv", "poetry", "pipenv"))

_EPOCH = (1980, 1, 1, 0, 0, 0)


def write_wheel(directory: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> Path:
    """A pure-Python wheel of ``name`` (module ``VALUE = "<name> <version>"``) that depends on
    ``requires``, so a lock holds transitive pins too."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = [
        (f"{module}.py", f"VALUE = {name + ' ' + version!r}\n".encode()),
        (f"{dist_info}/METADATA", metadata.encode()),
        (f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\n"
         b"Tag: py3-none-any\n"),
    ]  # fmt: skip
    record = [
        f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()}"
        f",{len(d)}"
        for p, d in files
    ]
    files.append(
        (f"{dist_info}/RECORD", ("\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n").encode())
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files:
            info = zipfile.ZipInfo(path, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    path = directory / f"{module}-{version}-py3-none-any.whl"
    path.write_bytes(out.getvalue())
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a tool to make a lock; its failure fails the test with the tool's message."""
    proc = subprocess.run(
        argv, cwd=cwd, env={**os.environ, "NO_COLOR": "1", **(env or {})},
        capture_output=True, text=True, timeout=600, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, f"{argv[:3]}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"
    return proc.stdout


def pins(text: str) -> dict[str, tuple[str, frozenset[str]]]:
    """``name -> (version, hashes)`` of a requirements file's ``name==version --hash=`` lines,
    read after pip's line joining."""
    joined = re.sub(r"\\\n", " ", text)
    out = {}
    for line in joined.splitlines():
        m = re.match(r"\s*([A-Za-z0-9._-]+)==([^\s;]+)", line)
        if m:
            hashes = frozenset(re.findall(r"--hash=(\S+)", line))
            out[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = (m.group(2), hashes)
    return out


# -- the probe packages: for each format its own, so one image can hold several locks ----------


def probe_names(kind: str, run_id: str) -> dict[str, str]:
    """``top`` depends on ``dep`` (two versions on the index: the lock takes 2.0); ``extra``
    is an optional dependency, ``dev`` a development group."""
    return {role: f"lk-{kind}-{role}-{run_id}" for role in ("top", "dep", "extra", "dev")}


def write_probes(wheels: Path, kind: str, run_id: str) -> dict[str, str]:
    names = probe_names(kind, run_id)
    write_wheel(wheels, names["top"], "1.0", (f"{names['dep']}>=1",))
    write_wheel(wheels, names["dep"], "1.0")
    write_wheel(wheels, names["dep"], "2.0")
    write_wheel(wheels, names["extra"], "3.0")
    write_wheel(wheels, names["dev"], "1.0")
    return names


def _pep621(names: dict[str, str], python: str = ">=3.11") -> str:
    return (
        '[project]\nname = "demo"\nversion = "0.1"\n'
        f'requires-python = "{python}"\n'
        f'dependencies = ["{names["top"]}"]\n\n'
        f'[project.optional-dependencies]\nextra = ["{names["extra"]}"]\n\n'
    )


def make_uv_project(directory: Path, names: dict[str, str], index_url: str) -> Path:
    """A uv project locked by ``uv lock`` against the index (credentials from the
    environment, never in the files)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(
        _pep621(names)
        + f'[dependency-groups]\ndev = ["{names["dev"]}"]\n\n'
        + f'[[tool.uv.index]]\nname = "probes"\nurl = "{index_url}"\ndefault = true\n'
    )
    run([UV, "lock"], directory, env=_uv_auth())
    return directory / "uv.lock"


def make_poetry_project(directory: Path, names: dict[str, str], index_url: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    # A README the project names: imagec copies only pyproject.toml and the lock, and must
    # still export it.
    (directory / "README.md").write_text("demo\n")
    (directory / "pyproject.toml").write_text(
        _pep621(names, ">=3.11,<4").replace(
            "\nrequires-python", '\nreadme = "README.md"\nrequires-python'
        )
        + "[tool.poetry]\npackage-mode = false\n\n"
        + f'[tool.poetry.group.dev.dependencies]\n"{names["dev"]}" = "*"\n\n'
        + f'[[tool.poetry.source]]\nname = "probes"\nurl = "{index_url}"\npriority = "primary"\n'
    )
    env = {
        "POETRY_HTTP_BASIC_PROBES_USERNAME": "ci",
        "POETRY_HTTP_BASIC_PROBES_PASSWORD": "secret",
        "POETRY_CACHE_DIR": str(directory.parent / ".poetry-cache"),
    }
    run([POETRY, "lock", "--no-interaction"], directory, env=env)
    return directory / "poetry.lock"


def make_pipenv_project(directory: Path, names: dict[str, str], port: int) -> Path:
    """A Pipfile whose source names the credentials as ``${VAR}`` (pipenv expands them), locked
    by ``pipenv lock``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Pipfile").write_text(
        "[[source]]\n"
        f'url = "http://${{LK_USER}}:${{LK_PASS}}@127.0.0.1:{port}/simple"\n'
        'verify_ssl = false\nname = "probes"\n\n'
        f'[packages]\n"{names["top"]}" = "*"\n\n[dev-packages]\n"{names["dev"]}" = "*"\n'
    )
    env = {
        "LK_USER": "ci",
        "LK_PASS": "secret",
        "PIPENV_VENV_IN_PROJECT": "1",
        "PIPENV_IGNORE_VIRTUALENVS": "1",
        "PIPENV_YES": "1",
    }
    run([PIPENV, "lock"], directory, env=env)
    return directory / "Pipfile.lock"


def make_pylock(directory: Path, names: dict[str, str], index_url: str) -> Path:
    """A PEP 751 lock written by ``uv export --format pylock.toml`` (production dependencies)."""
    make_uv_project(directory, names, index_url)
    run(
        [UV, "export", "--frozen", "--format", "pylock.toml", "--no-emit-project",
         "--no-default-groups", "-o", "pylock.toml"],
        directory,
    )  # fmt: skip
    (directory / "uv.lock").unlink()
    return directory / "pylock.toml"


def make_pyproject(directory: Path, names: dict[str, str]) -> Path:
    """A plain PEP 621 project: no lock, resolved by imagec at compile time."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(_pep621(names))
    return directory / "pyproject.toml"


def _uv_auth() -> dict[str, str]:
    return {"UV_INDEX_PROBES_USERNAME": "ci", "UV_INDEX_PROBES_PASSWORD": "secret"}


# -- what each lock pins, read from the lock itself (the test's oracle) ------------------------


def locked_pins(lock: Path, extras: tuple[str, ...] = ()) -> dict[str, tuple[str, frozenset[str]]]:
    """``name -> (version, hashes)`` of the production packages a lock file pins (plus those
    only ``extras`` bring), read straight from the file."""
    import json
    import tomllib

    def key(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    out: dict[str, tuple[str, frozenset[str]]] = {}
    if lock.name == "Pipfile.lock":
        for name, entry in json.loads(lock.read_text())["default"].items():
            out[key(name)] = (entry["version"].removeprefix("=="), frozenset(entry["hashes"]))
        return out
    data = tomllib.loads(lock.read_text())
    if lock.name == "uv.lock":
        # The project's own entry lists what it needs; follow dependencies from there.
        packages = {key(p["name"]): p for p in data["package"]}
        root = next(p for p in data["package"] if "virtual" in p.get("source", {}))
        todo = [key(d["name"]) for d in root.get("dependencies", [])]
        for extra in extras:
            todo += [key(d["name"]) for d in root["optional-dependencies"][extra]]
        while todo:
            name = todo.pop()
            if name in out:
                continue
            p = packages[name]
            dists = [*p.get("wheels", []), *([p["sdist"]] if "sdist" in p else [])]
            out[name] = (p["version"], frozenset(d["hash"] for d in dists))
            todo += [key(d["name"]) for d in p.get("dependencies", [])]
        return out
    if lock.name == "poetry.lock":
        for p in data["package"]:
            wanted = "main" in p.get("groups", ["main"])
            if p.get("optional") and not (set(extras) & set(_poetry_extras(data, p["name"]))):
                wanted = False
            if wanted:
                out[key(p["name"])] = (p["version"], frozenset(f["hash"] for f in p["files"]))
        return out
    for p in data["packages"]:  # pylock.toml
        hashes = frozenset(f"{a}:{h}" for w in p.get("wheels", []) for a, h in w["hashes"].items())
        out[key(p["name"])] = (p["version"], hashes)
    return out


def _poetry_extras(data: dict, name: str) -> list[str]:
    extras = data.get("extras", {})
    return [extra for extra, members in extras.items() if name in members]
