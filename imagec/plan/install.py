"""The install steps (pip or uv): their command, cache mount and build secrets.

Without secrets the step is the installer's argv (with ``--mount=type=cache`` when the cache
is on). With them, a short ``/bin/sh`` prelude reads each secret from its mount into the
step's own environment and then ``exec``s the installer with its arguments unchanged
(``"$@"``), so nothing is written to a layer::

    RUN --mount=type=secret,id=pip_index --mount=type=cache,target=/root/.cache/pip \\
        ["/bin/sh", "-c", "set -e; PIP_INDEX=\\"$(cat /run/secrets/pip_index)\\"; export PIP_INDEX;
         PIP_INDEX_URL=\\"${PIP_INDEX}\\"; export PIP_INDEX_URL; exec \\"$@\\"",
         "imagec-install", "python", "-m", "pip", "install", "-r", "..."]
"""

from __future__ import annotations

import hashlib
import re

from imagec.model.spec import BuildSecret, Spec
from imagec.plan.ir import Mount
from imagec.resolve.inputs import Inputs
from imagec.resolve.secrets import secret_target
from imagec.util.secrets import ENV_REF

# pip and uv keep their caches here when run as root (install steps run before USER).
CACHE_TARGETS = {"pip": "/root/.cache/pip", "uv": "/root/.cache/uv"}
# Environment variables each installer reads its index URLs from.
INDEX_ENV = {
    "pip": ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"),
    "uv": ("UV_INDEX_URL", "UV_EXTRA_INDEX_URL"),
}
# $0 of the prelude, shown by `ps` and in error messages.
ARGV0 = "imagec-install"
# Where an install step finds its requirements files in the image.
IMG_REQUIREMENTS = "/imagec/requirements"


def _shell_template(url: str) -> str:
    """``url`` inside shell double quotes, its ``${NAME}`` references left for the shell to
    expand and every other ``\\``, ``"``, `` ` `` and ``$`` escaped."""
    out, pos = [], 0
    for m in ENV_REF.finditer(url):
        out.append(re.sub(r'([\\"`$])', r"\\\1", url[pos : m.start()]))
        out.append(m.group())
        pos = m.end()
    out.append(re.sub(r'([\\"`$])', r"\\\1", url[pos:]))
    return '"' + "".join(out) + '"'


def index_options(spec: Spec, installer: str) -> tuple[list[str], list[str]]:
    """(argv options, prelude lines): literal index URLs go on the command line; URLs with a
    ``${NAME}`` are set in the step's environment from the secret, so no credential is ever in
    an argv that the Containerfile (or ``ps``) shows."""
    argv: list[str] = []
    prelude: list[str] = []
    index_var, extra_var = INDEX_ENV[installer]
    if spec.index_url and ENV_REF.search(spec.index_url):
        prelude.append(f"{index_var}={_shell_template(spec.index_url)}; export {index_var}")
    elif spec.index_url:
        argv += ["--index-url", spec.index_url]
    # A command-line option replaces the variable instead of adding to it, so once one extra
    # URL holds a ${NAME} they all go into the variable (which both installers split at spaces).
    if any(ENV_REF.search(u) for u in spec.extra_index_urls):
        joined = _shell_template(" ".join(spec.extra_index_urls))
        prelude.append(f"{extra_var}={joined}; export {extra_var}")
    else:
        for url in spec.extra_index_urls:
            argv += ["--extra-index-url", url]
    return argv, prelude


def install_secrets(spec: Spec, inputs: Inputs) -> list[BuildSecret]:
    """The secrets the install steps see. A secret that a build step names in its ``secrets``
    is that step's: the installs run packages' build code, which must not see, say, a model
    hub token meant for a weights download. Such a secret still reaches the installs when an
    index URL or a requirement refers to it as ``${NAME}``; every other secret is theirs."""
    claimed = {
        sid for step in spec.build_steps if not isinstance(step, str) for sid in step.secrets
    }
    texts = [spec.index_url or "", *spec.extra_index_urls]
    texts += [source.content for source in inputs.requirements]
    referenced = {name for text in texts for name in ENV_REF.findall(text)}
    return [s for s in spec.secrets if s.id not in claimed or s.env_name in referenced]


def install_step_parts(
    secrets: list[BuildSecret], installer: str, cache: bool
) -> tuple[tuple[Mount, ...], list[str]]:
    """The mounts and the secret prelude lines of every install step (the cache needs no
    prelude: pip is given ``--cache-dir``, which wins over the image's PIP_NO_CACHE_DIR, uv
    is told ``--link-mode copy``)."""
    mounts: list[Mount] = []
    prelude: list[str] = []
    for secret in secrets:
        target = secret_target(secret)
        if secret.kind == "netrc":
            mounts.append(Mount("secret", target=target, id=secret.id))
            continue
        mounts.append(Mount("secret", id=secret.id))
        name = secret.env_name
        prelude.append(f'{name}="$(cat {target})"; export {name}')
    if cache:
        mounts.append(Mount("cache", target=CACHE_TARGETS[installer]))
    return tuple(mounts), prelude


def wrap(argv: tuple[str, ...], prelude: list[str]) -> tuple[str, ...]:
    if not prelude:
        return argv
    script = "; ".join(["set -e", *prelude, 'exec "$@"'])
    return ("/bin/sh", "-c", script, ARGV0, *argv)


def bound_files(files: list[tuple[str, str]]) -> tuple[str, tuple[Mount, ...]]:
    """(directory, mounts) for an install step that mounts something already (the cache,
    a secret): its requirements files ``(context path, content)`` are bound from the context
    for that step alone instead of copied in a layer of their own, which would be one more
    layer to commit on podman on every requirement change::

        RUN --mount=type=bind,source=imagec/requirements/1-list.txt,\\
            target=/imagec/requirements/3f2a9c1d07b6/1-list.txt [..., "-r", \\
            "/imagec/requirements/3f2a9c1d07b6/1-list.txt"]

    The directory is named by the files' digest: engines key a RUN's cache on its text, not
    on what it binds (podman 4.3 reuses a cached RUN whose bound file changed)."""
    digest = hashlib.sha256()
    for path, content in files:
        digest.update(f"{len(path)}:{path}{len(content)}:{content}".encode())
    where = f"{IMG_REQUIREMENTS}/{digest.hexdigest()[:12]}"
    mounts = tuple(
        Mount("bind", target=f"{where}/{path.rsplit('/', 1)[-1]}", source=path) for path, _ in files
    )
    return where, mounts
