"""Sample projects for engine builds that need no index: a probe wheel pip installs offline,
an sdist whose ``setup.py`` runs code, a quick-start project and a ``@pipeline`` project."""

from __future__ import annotations

import io
import tarfile
import textwrap
from pathlib import Path

from support.cli import run_imagec

PROBE_VERSION = "1.0"
# A spec's lines for an image of its installs alone: no imagec runtime, source, or stack.
INSTALL_ONLY = (
    "install_imagec: false\n"
    "copy_source: false\n"
    "copy_stack: false\n"
    "install_stack_requirements: false\n"
)


def write_wheel(directory: Path, name: str = "imagec_probe", version: str = PROBE_VERSION) -> Path:
    """A pure-Python wheel whose module sets ``VALUE = 42``; pip installs it offline."""
    from imagec.resolve.wheel import make_wheel

    data = make_wheel(
        name.replace("_", "-"), version, [(f"{name}.py", b"VALUE = 42\n")], "imagec test probe"
    )
    directory.mkdir(parents=True, exist_ok=True)
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    wheel.write_bytes(data)
    return wheel


def write_sdist(directory: Path, name: str, setup_body: str) -> Path:
    """An sdist whose ``setup.py`` runs ``setup_body`` first (pip runs it while installing)."""
    setup = f"{setup_body}\nfrom setuptools import setup\nsetup(name={name!r}, version='1.0')\n"
    pkg_info = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for member, text in (("setup.py", setup), ("PKG-INFO", pkg_info)):
            data = text.encode()
            info = tarfile.TarInfo(f"{name}-1.0/{member}")
            info.size, info.mode, info.mtime = len(data), 0o644, 315_619_200
            tar.addfile(info, io.BytesIO(data))
    return path


QUICKSTART_SPEC = """\
# A quick-start-shaped spec that builds offline: the requirement comes from ./wheels.
python_version: "3.11"
requirements: ["imagec-probe=={version}"]
find_links: [wheels]
installer_args: ["--no-index"]
environment: {{MODEL_NAME: churn}}
user: trainer
command: ["python", "train.py"]
"""
DOCKERIGNORE = """\
.git
secret.txt
data
!data/schema.json
**/__pycache__
wheels
"""


def write_quickstart(root: Path) -> Path:
    """``imagec init`` + an ``imagec.yaml`` project with sources, ignored files and wheels."""
    root.mkdir(parents=True)
    run_imagec("init", str(root))
    (root / "imagec.yaml").write_text(QUICKSTART_SPEC.format(version=PROBE_VERSION))
    (root / ".dockerignore").write_text(DOCKERIGNORE)
    (root / "train.py").write_text("import imagec_probe\nprint('trained', imagec_probe.VALUE)\n")
    (root / "pkg").mkdir()
    (root / "pkg/__init__.py").write_text("")
    (root / "pkg/util.py").write_text("RATE = 1\n")
    (root / "pkg/__pycache__").mkdir()
    (root / "pkg/__pycache__/util.cpython-311.pyc").write_bytes(b"\0" * 16)
    (root / "secret.txt").write_text("not for images\n")
    (root / "data").mkdir()
    (root / "data/train.csv").write_text("a,b\n1,2\n")
    (root / "data/schema.json").write_text('{"columns": ["a", "b"]}\n')
    write_wheel(root / "wheels")
    return root


PIPELINE_SOURCE = '''\
"""A pipeline-shaped project: the decorator is the spec."""

from steps.train import train

from imagec import pipeline


@pipeline(
    requirements="requirements.txt",
    dockerignore_file=".dockerignore",
    environment={"CHURN_EPOCHS": "20"},
    image_name="imagec-test/pipeline",
    find_links=["wheels"],
    installer_args=["--no-index"],
)
def churn_pipeline() -> None:
    train()
'''


def write_pipeline(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "pipeline.py").write_text(PIPELINE_SOURCE)
    (root / "requirements.txt").write_text(f"imagec-probe=={PROBE_VERSION}\n")
    (root / ".dockerignore").write_text("data\n!data/schema.json\n**/__pycache__\n.venv\nwheels\n")
    (root / "steps").mkdir()
    (root / "steps/__init__.py").write_text("")
    (root / "steps/train.py").write_text(
        textwrap.dedent(
            """\
            import os

            import imagec_probe


            def train() -> None:
                print(f"pipeline ran: epochs={os.environ['CHURN_EPOCHS']} {imagec_probe.VALUE}")
            """
        )
    )
    (root / "data").mkdir()
    (root / "data/customers.csv").write_text("id\n1\n")
    (root / "data/schema.json").write_text("{}\n")
    (root / ".venv").mkdir()
    (root / ".venv/marker").write_text("x\n")
    write_wheel(root / "wheels")
    return root


NATIVE_SPEC = """\
# Needs the network: a package from Debian's archive and a wheel with compiled extensions
# from PyPI, on the real Debian base image.
python_version: "3.11"
image_name: imagec-test/native
apt_packages: [jq]
requirements: ["charset-normalizer>=3.3,<4"]
copy_stack: false
"""


def write_native(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "imagec.yaml").write_text(NATIVE_SPEC)
    return root
