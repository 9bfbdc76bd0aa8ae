"""Virtual environments for tests that install imagec and plugins as a user would.

A test venv is made by the running interpreter (``sys.executable -m venv``: inside a venv
that still yields a venv of the base interpreter), without pip and without the system's
site-packages. A ``.pth`` file then adds the *running* environment's site directories after
the venv's own, as ``--system-site-packages`` would add the base interpreter's: imagec's
dependencies, hatchling, pip and pytest come from there, so nothing is downloaded or built
twice, while whatever pip installs into the venv comes first. ``--system-site-packages`` is
right only outside a venv: inside one it exposes the base interpreter's packages (Debian's
``/usr/lib/python3/dist-packages``), which lack all of these.
"""

from __future__ import annotations

import site
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from support.plugins import PIP_OFFLINE, checked, imagec_env, pip, run

PTH_NAME = "_imagec_test_parent.pth"


def parent_site_dirs() -> list[str]:
    """The running environment's site directories (a venv's, with the system's if it was made
    with ``--system-site-packages``; else the interpreter's own)."""
    return [d for d in site.getsitepackages() if Path(d).is_dir()]


@dataclass(frozen=True)
class Venv:
    """A virtual environment and imagec run from it."""

    root: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @classmethod
    def create(cls, root: Path) -> Venv:
        checked([sys.executable, "-m", "venv", "--without-pip", str(root)])
        venv = cls(root)
        purelib = checked(
            [str(venv.python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
        ).stdout.strip()
        # A .pth line starting with "import" is run: addsitedir also reads the .pth files
        # there (editable installs of the running environment keep working).
        calls = "; ".join(f"site.addsitedir({d!r})" for d in parent_site_dirs())
        Path(purelib, PTH_NAME).write_text(f"import site; {calls}\n")
        return venv

    def pip(self, *args: str) -> None:
        """pip (the running environment's) installing into this venv."""
        pip(*args, python=self.python)

    def install(self, *projects: Path) -> None:
        self.pip("install", *PIP_OFFLINE, *map(str, projects))

    def imagec(self, *args: str) -> subprocess.CompletedProcess[str]:
        # The console script pip installed, run outside the checkout: `python -m imagec` in
        # the checkout would import the checkout's imagec instead of the installed one.
        return run([str(self.root / "bin" / "imagec"), *args], cwd=self.root)

    def python_run(self, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return run([str(self.python), *argv], env=imagec_env(PYTHONDONTWRITEBYTECODE="1"), cwd=cwd)
