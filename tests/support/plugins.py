"""Throwaway plugin distributions, and imagec in a subprocess with the plugins a test chose.

Throwaway plugins are real projects (pyproject + module) built into wheels by hatchling and
unpacked into a site directory, so imagec finds them through ``importlib.metadata`` entry
points exactly as it finds anything pip installed. Each test composes the site it needs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BUILDAH_PLUGIN = REPO / "examples" / "plugins" / "imagec-buildah"
QUICKSTART = REPO / "examples" / "quickstart"

PIP_QUIET = ("--quiet", "--disable-pip-version-check", "--no-input")
# Offline and with what is installed: never reach an index, never build in isolation.
PIP_OFFLINE = (*PIP_QUIET, "--no-index", "--no-build-isolation")


@dataclass(frozen=True)
class Throwaway:
    """A one-module plugin distribution."""

    dist: str
    entry_point: str
    source: str
    group: str = "imagec.backends"

    @property
    def module(self) -> str:
        return self.dist.replace("-", "_")

    def write(self, parent: Path) -> Path:
        root = parent / self.dist
        (root / self.module).mkdir(parents=True)
        (root / self.module / "__init__.py").write_text(textwrap.dedent(self.source))
        (root / "pyproject.toml").write_text(
            textwrap.dedent(
                f"""\
                [build-system]
                requires = ["hatchling"]
                build-backend = "hatchling.build"

                [project]
                name = "{self.dist}"
                version = "1.0"
                dependencies = ["imagec"]

                [project.entry-points."{self.group}"]
                {self.entry_point} = "{self.module}"

                [tool.hatch.build.targets.wheel]
                packages = ["{self.module}"]
                """
            )
        )
        return root


BACKEND_MODULE = """\
from imagec.backend import Backend
from imagec.plugins.hookspecs import hookimpl


class ThrowawayBackend(Backend):
    name = {name!r}
    description = "throwaway backend {name}"
    output = "text"


{marker}def {hook}(register):
    register(ThrowawayBackend)
"""


def backend_source(
    name: str, hook: str = "imagec_register_backends", *, marker: bool = True
) -> str:
    """A module registering one backend called ``name``."""
    return BACKEND_MODULE.format(name=name, hook=hook, marker="@hookimpl\n" if marker else "")


def checked(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run ``argv``; if it fails, fail with the command and everything it printed."""
    result = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
        )
    return result


def pip(*args: str, python: str | Path = sys.executable) -> None:
    checked([str(python), "-m", "pip", *args])


def build_wheels(projects: Iterable[Throwaway], src: Path, out: Path) -> dict[str, Path]:
    """Build every project's wheel in one pip call; dist name -> wheel."""
    projects = list(projects)
    dirs = [str(p.write(src)) for p in projects]
    pip("wheel", *PIP_OFFLINE, "--no-deps", "--wheel-dir", str(out), *dirs)
    wheels = {}
    for project in projects:
        (wheel,) = out.glob(f"{project.module}-*.whl")
        wheels[project.dist] = wheel
    return wheels


def unpack(wheels: Iterable[Path], site: Path) -> Path:
    """Install pure-Python wheels into ``site`` the way an installer lays them out."""
    site.mkdir(parents=True, exist_ok=True)
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(site)
    return site


def imagec_env(site: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("IMAGEC_PLUGINS", "PYTHONPATH")}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    env.update(extra)
    return env


def run(
    argv: list[str], *, env: Mapping[str, str] | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else imagec_env(),
        cwd=cwd,
        timeout=300,
    )


def run_imagec(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """The checkout's imagec (this interpreter's), with ``env``."""
    return run([sys.executable, "-m", "imagec", *args], env=env, cwd=cwd)


def backends_json(**kwargs: Any) -> dict[str, Any]:
    """``imagec backends --json`` as data, asserting it succeeded."""
    result = run_imagec("backends", "--json", **kwargs)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def names(listing: dict[str, Any]) -> set[str]:
    return {row["name"] for row in listing["backends"]}


def failures(listing: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f"{f['distribution']}: {f['error']}" for f in listing["failures"]}


# The throwaway plugins the loading tests install, in any combination.
ALPHA = Throwaway("tp-alpha", "alpha", backend_source("alpha"))
BETA = Throwaway("tp-beta", "beta", backend_source("beta"))
# Registers a second backend called "alpha".
ALPHA_CLONE = Throwaway("tp-alpha-clone", "alpha-clone", backend_source("alpha"))
# One letter short of imagec_register_backends.
TYPO = Throwaway("tp-typo", "typo", backend_source("typo", hook="imagec_register_backend"))
BROKEN = Throwaway("tp-broken", "broken", "import tp_dependency_that_is_not_installed\n")
# The hook function is there, but without @hookimpl pluggy never sees it.
UNMARKED = Throwaway("tp-unmarked", "unmarked", backend_source("unmarked", marker=False))
CRASHING = Throwaway(
    "tp-crashing",
    "crashing",
    """\
    from imagec.plugins.hookspecs import hookimpl


    @hookimpl
    def imagec_register_backends(register):
        raise RuntimeError("cannot read ~/.config/crashing.toml")
    """,
)
THROWAWAYS = (ALPHA, BETA, ALPHA_CLONE, TYPO, BROKEN, UNMARKED, CRASHING)
