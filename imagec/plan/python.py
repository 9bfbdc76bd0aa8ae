"""Python in the image: the base-image check, and the managed Python for bases without one.

The check runs after the system packages and the ``after: apt_packages`` build steps, so a
base without Python works when those bring it (``apt_packages: [python3, python3-pip]``). It
fails early, saying what is missing, instead of a cryptic "pip: not found" steps later, and::

- links ``python`` to ``python3`` when only ``python3`` is on PATH (Debian's python-is-python3);
- removes the interpreter's ``EXTERNALLY-MANAGED`` marker (PEP 668: a container image is the
  environment, as in the official Python images), so pip and ``uv pip --system`` install;
- with ``python_version`` in the spec, fails when the base's Python is another version.

The managed Python is a python-build-standalone build installed by uv (copied from its
official image, pinned to the version imagec installs elsewhere), linked as ``python`` and
``python3``, with pip. Where it comes from is uv's to decide, from its own environment
variables, which a spec sets as build args (no credential: they stay in the image's history)
or as build secrets (:data:`DOWNLOAD_ENV`; a netrc secret authenticates the mirror too)::

    RUN --mount=type=secret,id=pbs_mirror ["/bin/sh", "-c", "set -e; UV_PYTHON_INSTALL_MIRROR=
        \\"$(cat /run/secrets/pbs_mirror)\\"; export UV_PYTHON_INSTALL_MIRROR; ...; uv python ..."]
"""

from __future__ import annotations

from imagec.model.spec import BuildSecret, Spec
from imagec.plan.ir import Copy, Mount, Origin, Run, Step
from imagec.resolve.secrets import secret_target

# The uv of the install steps (compiler.UV_REQUIREMENT), as its official image.
UV_IMAGE = "ghcr.io/astral-sh/uv:0.9.30"
MANAGED_DIR = "/opt/imagec/python"
# uv's variables for where Python downloads come from: a mirror of python-build-standalone's
# releases, and a downloads list (needed for builds uv does not know the sha256 of).
DOWNLOAD_ENV = ("UV_PYTHON_INSTALL_MIRROR", "UV_PYTHON_DOWNLOADS_JSON_URL")


def base_check(image: str, python_version: str | None) -> str:
    """The check's shell script (``image`` is a checked reference: no quote can be in it)."""
    hint = (
        "add python3 and python3-pip to apt_packages, set managed_python: true, or use an "
        "image with Python, e.g. python:3.11-slim"
    )
    script = (
        "if ! command -v python >/dev/null 2>&1; then "
        'if p=$(command -v python3); then mkdir -p /usr/local/bin && ln -s "$p" '
        "/usr/local/bin/python; else echo 'imagec: base image "
        f"{image} has no `python` or `python3` on PATH; {hint}' >&2; exit 1; fi; fi; "
        f"python -m pip --version >/dev/null 2>&1 || {{ echo 'imagec: base image {image} has "
        "no pip for its python; add python3-pip to apt_packages or use e.g. "
        "python:3.11-slim' >&2; exit 1; }; "
        'rm -f "$(python -c \'import sysconfig; print(sysconfig.get_path("stdlib"))\')'
        '/EXTERNALLY-MANAGED"'
    )
    if python_version is not None:
        script += (
            "; v=$(python -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'); "
            f'[ "$v" = "{python_version}" ] || {{ echo "imagec: base image {image} has '
            f"Python $v, but python_version is {python_version}; remove python_version, or "
            'set managed_python: true to install it" >&2; exit 1; }'
        )
    return script


def download_secrets(spec: Spec) -> list[BuildSecret]:
    """The secrets the download sees: ``env`` secrets named for :data:`DOWNLOAD_ENV`, and each
    netrc secret no build step claims (the install steps get those too: the download is one)."""
    claimed = {
        sid for step in spec.build_steps if not isinstance(step, str) for sid in step.secrets
    }
    return [
        s
        for s in spec.secrets
        if s.env_name in DOWNLOAD_ENV or (s.kind == "netrc" and s.id not in claimed)
    ]


def managed_python(spec: Spec, where: Origin) -> list[Step]:
    """uv, then the Python of ``python_version`` with pip, as ``python`` and ``python3``."""
    version = spec.effective_python_version
    secrets = download_secrets(spec)
    mounts = tuple(
        Mount("secret", target=secret_target(s) if s.kind == "netrc" else None, id=s.id)
        for s in secrets
    )
    # Read into this step's environment only, as the install steps do (install.py).
    reads = "".join(
        f'{s.env_name}="$(cat {secret_target(s)})"; export {s.env_name}; '
        for s in secrets
        if s.env_name
    )
    script = (
        f"set -e; {reads}export UV_PYTHON_INSTALL_DIR={MANAGED_DIR}; "
        f"uv python install --no-bin {version}; "
        f"p=$(uv python find --managed-python --no-project {version}); "
        'ln -sf "$p" /usr/local/bin/python3; ln -sf "$p" /usr/local/bin/python; '
        "python -m pip --version >/dev/null 2>&1 || python -m ensurepip"
    )
    return [
        Copy(where, ("/uv",), "/usr/local/bin/uv", from_image=UV_IMAGE),
        Run(where, ("/bin/sh", "-c", script), mounts=mounts),
    ]
