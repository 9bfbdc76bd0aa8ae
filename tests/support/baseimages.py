"""The base images the engine tests build on, made from Debian's own packages with
``mmdebstrap`` and imported into each test engine under the names specs use.

One ``mmdebstrap`` run of Debian 12 (bookworm, Python 3.11) writes three root filesystems,
each a package set on top of the one before (:data:`STAGES`):

- ``nopython``: ``--variant=minbase`` plus ca-certificates, netbase and tzdata; a shell and
  apt, no Python (tagged ``localhost/imagec-test/nopython``);
- ``nopip``: plus python3 and python-is-python3; ``python`` without pip
  (``localhost/imagec-test/nopip``);
- ``python``: plus python3-pip, python3-setuptools, python3-wheel and python3-venv; the
  stand-in for the official ``python:3.11-slim``, tagged with that name.

As in the official image, ``python`` is on PATH, pip installs into the system interpreter
(Debian's ``EXTERNALLY-MANAGED`` marker is removed), and ``apt-get`` works against Debian's
archive (``apt-get update`` first: the package lists are not shipped). Documentation, manual
pages and translations are left out as in Debian's slim images.

The tarballs are cached under ``<cache>/base-images/<key>``, the key being a digest of the
recipe below, and built under a file lock (~40 s, with network access to Debian's archive).
An engine imports an image only when its tag is missing or its
``org.imagec.test-base-recipe`` label names another key.

Certificate authorities the host added to its own trust store
(``/usr/local/share/ca-certificates``, e.g. a TLS-intercepting proxy's) are added to the
images the same way, so HTTPS from a build works wherever the host's does.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from support.containers import TEST_REPOSITORY, remove_image
from support.engines import INSTALL_HINT, Engine, cache_dir, unavailable

#: Bumped when the way images are made changes in a way the recipe below does not show.
RECIPE_VERSION = 2
RECIPE_LABEL = "org.imagec.test-base-recipe"

SUITE = "bookworm"
#: The apt sources inside the images, as in Debian's own container images.
SOURCES = (
    f"deb http://deb.debian.org/debian {SUITE} main",
    f"deb http://deb.debian.org/debian {SUITE}-updates main",
    f"deb http://deb.debian.org/debian-security {SUITE}-security main",
)
#: What Debian's slim images leave out (debuerreotype's ``--slim``), kept for later installs.
DPKG_OPTIONS = (
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/groff/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/lintian/*",
    "path-exclude=/usr/share/linda/*",
    "path-exclude=/usr/share/locale/*",
    "path-include=/usr/share/locale/locale.alias",
)
ImageKind = Literal["nopython", "nopip", "python"]
#: Each image adds these packages to the one before it.
STAGES: tuple[tuple[ImageKind, tuple[str, ...]], ...] = (
    ("nopython", ("ca-certificates", "netbase", "tzdata")),
    ("nopip", ("python3", "python-is-python3")),
    ("python", ("python3-pip", "python3-setuptools", "python3-wheel", "python3-venv")),
)

#: The names specs use. podman names an unqualified ``python:3.11-slim`` in full.
PYTHON_IMAGE = {
    "podman": "docker.io/library/python:3.11-slim",
    "docker": "python:3.11-slim",
}
NOPIP_IMAGE = f"{TEST_REPOSITORY}/nopip:latest"
NOPYTHON_IMAGE = f"{TEST_REPOSITORY}/nopython:latest"
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#: Packs the chroot of a customize hook as it is at that point. The hook runs with /proc,
#: /sys and /dev mounted and apt's lists and downloads present; none of that goes in.
_STAGE_TAR = (
    'tar --create --file "{out}" --directory "$1" --one-file-system --numeric-owner '
    "--sort=name --exclude=./dev/* --exclude=./proc/* --exclude=./sys/* --exclude=./run/* "
    "--exclude=./tmp/* --exclude=./var/lib/apt/lists/*_* --exclude=./var/lib/apt/lists/auxfiles "
    "--exclude=./var/cache/apt/*.bin "
    "--exclude=./var/cache/apt/archives/*.deb --exclude=./var/log/* "
    "--exclude=./etc/apt/apt.conf.d/00mmdebstrap --exclude=./etc/resolv.conf "
    "--exclude=./etc/hostname ."
)
_INSTALL = (
    'chroot "$1" env DEBIAN_FRONTEND=noninteractive '
    "apt-get install --yes --quiet --no-install-recommends {packages}"
)
# The official image's pip installs into the system interpreter; Debian's marks it as
# externally managed (PEP 668).
_UNMANAGE = 'rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED'
# The engines supply both at run time; mmdebstrap copies the host's.
_FORGET_HOST = 'rm -f "$1/etc/resolv.conf" "$1/etc/hostname"'
#: Certificate authorities the host added to its own trust store (update-ca-certificates
#: reads them from here). Where the network intercepts TLS, HTTPS from a build needs them.
HOST_LOCAL_CAS = Path("/usr/local/share/ca-certificates")
_ADD_LOCAL_CAS = (
    f'mkdir -p "$1{HOST_LOCAL_CAS}" && cp -R {HOST_LOCAL_CAS}/. "$1{HOST_LOCAL_CAS}/" && '
    'chroot "$1" update-ca-certificates > /dev/null'
)
_PYTHON_VERSION = (
    'chroot "$1" python3 -c "import platform; print(platform.python_version())" > "{out}"'
)


@dataclass(frozen=True)
class BaseImages:
    """Tags of the base images on one engine."""

    #: Stands in for the official ``python:3.11-slim``.
    python: str
    #: Debian's python3 (and ``python``) without pip: ``python -m pip`` fails.
    nopip: str
    #: Debian minbase: a shell and apt, no python.
    nopython: str


@dataclass(frozen=True)
class Tarballs:
    key: str
    directory: Path

    def tarball(self, kind: ImageKind) -> Path:
        return self.directory / f"{kind}.tar"

    @property
    def python_version(self) -> str:
        return (self.directory / "python-version").read_text().strip()


def _local_cas() -> list[Path]:
    if not HOST_LOCAL_CAS.is_dir():
        return []
    return sorted(p for p in HOST_LOCAL_CAS.rglob("*.crt") if p.is_file())


def mmdebstrap_argv(out: Path) -> list[str]:
    """The whole recipe: one mmdebstrap run writing every stage's tarball into ``out``."""
    (first, first_packages), *later = STAGES
    argv = [
        "mmdebstrap",
        "--quiet",
        "--mode=root",
        "--variant=minbase",
        "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
        f"--include={','.join(first_packages)}",
        *(f"--dpkgopt={option}" for option in DPKG_OPTIONS),
    ]
    if _local_cas():
        argv.append(f"--customize-hook={_ADD_LOCAL_CAS}")
    argv.append(f"--customize-hook={_STAGE_TAR.format(out=out / f'{first}.tar')}")
    for kind, packages in later:
        argv.append(f"--customize-hook={_INSTALL.format(packages=' '.join(packages))}")
        argv.append(f"--customize-hook={_UNMANAGE}")
        if kind != STAGES[-1][0]:
            argv.append(f"--customize-hook={_STAGE_TAR.format(out=out / f'{kind}.tar')}")
    argv += [
        f"--customize-hook={_PYTHON_VERSION.format(out=out / 'python-version')}",
        f"--customize-hook={_FORGET_HOST}",
        SUITE,
        str(out / f"{STAGES[-1][0]}.tar"),
        *SOURCES,
    ]
    return argv


def recipe_key() -> str:
    """Changes whenever the recipe or the host's added CAs do (not with the day's package
    versions)."""
    digest = hashlib.sha256(json.dumps([RECIPE_VERSION, mmdebstrap_argv(Path("/OUT"))]).encode())
    for ca in _local_cas():
        digest.update(f"{ca}\n".encode() + ca.read_bytes())
    return f"{SUITE}-{digest.hexdigest()[:12]}"


def _check_tools() -> None:
    if shutil.which("mmdebstrap") is None:
        unavailable(f"base images: `mmdebstrap` is not installed; {INSTALL_HINT}")
    if not Path("/usr/share/mmdebstrap/hooks/merged-usr").is_dir():
        unavailable(f"base images: mmdebstrap's merged-usr hook is missing; {INSTALL_HINT}")


def base_image_tarballs() -> Tarballs:
    """The root filesystem tarballs, built once per machine and recipe."""
    key = recipe_key()
    result = Tarballs(key, cache_dir() / "base-images" / key)
    return _built_once(result, "python.tar", mmdebstrap_argv)


def _built_once(result: Tarballs, last: str, recipe: Callable[[Path], list[str]]) -> Tarballs:
    """Run ``recipe``'s mmdebstrap into ``result.directory`` unless ``last`` (the file it
    writes last) is there; under a file lock, removing other keys' directories beside it."""
    key = result.key
    cache = result.directory.parent
    if (result.directory / last).exists():
        return result
    _check_tools()
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (result.directory / last).exists():
            return result
        for stale in cache.glob("build-*"):  # left by an interrupted build
            shutil.rmtree(stale, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=f"build-{key}-", dir=cache))
        try:
            out = work / "out"
            out.mkdir()
            argv = recipe(out)
            proc = subprocess.run(argv, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise RuntimeError(
                    f"base images: mmdebstrap exited {proc.returncode}:\n"
                    f"{proc.stdout}{proc.stderr}\n(command: {argv})"
                )
            shutil.rmtree(result.directory, ignore_errors=True)
            out.rename(result.directory)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        for old in cache.iterdir():
            if old.is_dir() and old.name != key and not old.name.startswith("build-"):
                shutil.rmtree(old, ignore_errors=True)
    return result


def base_images(engine: Engine) -> BaseImages:
    return BaseImages(python=PYTHON_IMAGE[engine.kind], nopip=NOPIP_IMAGE, nopython=NOPYTHON_IMAGE)


def _image_changes(kind: ImageKind, tarballs: Tarballs) -> list[str]:
    changes = [f"ENV PATH={IMAGE_PATH}", "WORKDIR /", f"LABEL {RECIPE_LABEL}={tarballs.key}"]
    if kind == "nopython":
        return [*changes, 'CMD ["bash"]']
    return [
        *changes,
        "ENV LANG=C.UTF-8",
        f"ENV PYTHON_VERSION={tarballs.python_version}",
        'CMD ["python3"]',
    ]


def _split_ref(ref: str) -> tuple[str, str]:
    repo, _, tag = ref.rpartition(":")
    if "/" in tag or not repo:
        return ref, "latest"
    return repo, tag


def ensure_base_images(engine: Engine) -> BaseImages:
    """Import the base images into ``engine`` unless current ones are there."""
    import docker.errors

    tarballs = base_image_tarballs()
    images = base_images(engine)
    client = engine.docker_client()
    wanted: tuple[tuple[str, ImageKind], ...] = (
        (images.nopython, "nopython"),
        (images.nopip, "nopip"),
        (images.python, "python"),
    )
    for ref, kind in wanted:
        try:
            old = client.images.get(ref)
        except docker.errors.ImageNotFound:
            old = None
        if old is not None and (old.labels or {}).get(RECIPE_LABEL) == tarballs.key:
            continue
        # podman's Docker-compatible import ignores ``tag`` (the result is
        # always ``:latest``), so import under a unique name and tag from there.
        staging = f"{TEST_REPOSITORY}/import-{uuid.uuid4().hex[:12]}"
        client.api.import_image_from_file(
            str(tarballs.tarball(kind)),
            repository=staging,
            tag="latest",
            changes=_image_changes(kind, tarballs),
        )
        try:
            repo, tag = _split_ref(ref)
            client.images.get(f"{staging}:latest").tag(repo, tag)
        finally:
            remove_image(engine, f"{staging}:latest", force=False)
        labels = client.images.get(ref).labels or {}
        if labels.get(RECIPE_LABEL) != tarballs.key:
            raise RuntimeError(f"{engine.kind}: importing {ref} did not produce the image")
        if old is not None:
            # The replaced image, now untagged; kept if a container still uses it.
            with contextlib.suppress(docker.errors.APIError):
                client.images.remove(old.id, force=False)
    return images


# A second platform, for multi-platform builds: arm64, whose binaries run here under QEMU's
# user emulation (binfmt_misc). One stage, the ``python`` image's packages: mmdebstrap under
# emulation is slow (every maintainer script runs emulated), so once per machine and recipe.
FOREIGN_ARCH = "arm64"
FOREIGN_PLATFORM = f"linux/{FOREIGN_ARCH}"
FOREIGN_PACKAGES = tuple(package for _, packages in STAGES for package in packages)
#: The arm64 twin of the ``python`` stand-in.
PYTHON_ARM64_IMAGE = f"{TEST_REPOSITORY}/python-arm64:latest"
#: A manifest list of the ``python`` stand-in (amd64) and ``python-arm64``: a ``FROM`` of it
#: without ``--platform`` gives each platform's build its own base.
MULTI_IMAGE = f"{TEST_REPOSITORY}/python-multi:latest"
#: Where the kernel lists the interpreter it runs arm64 ELF binaries with.
BINFMT_AARCH64 = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")
EMULATION_HINT = (
    "`apt-get install qemu-user-static binfmt-support` and, if /proc/sys/fs/binfmt_misc is "
    "empty, `mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc` (`bash .ci/setup` does)"
)


def foreign_mmdebstrap_argv(out: Path) -> list[str]:
    """The arm64 recipe: the ``python`` image's packages, in one stage."""
    return [
        "mmdebstrap",
        "--quiet",
        "--mode=root",
        "--variant=minbase",
        f"--architectures={FOREIGN_ARCH}",
        "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
        f"--include={','.join(FOREIGN_PACKAGES)}",
        *(f"--dpkgopt={option}" for option in DPKG_OPTIONS),
        f"--customize-hook={_UNMANAGE}",
        f"--customize-hook={_PYTHON_VERSION.format(out=out / 'python-version')}",
        f"--customize-hook={_FORGET_HOST}",
        SUITE,
        str(out / "python.tar"),
        *SOURCES,
    ]


def emulation_missing() -> str | None:
    """Why this machine cannot run arm64 binaries (in a container or a build), or None."""
    try:
        registration = BINFMT_AARCH64.read_text()
    except OSError:
        return f"no QEMU user emulation of arm64 is registered with binfmt_misc; {EMULATION_HINT}"
    lines = registration.splitlines()
    flags = next((line.split(":", 1)[1] for line in lines if line.startswith("flags:")), "")
    if not registration.startswith("enabled"):
        return f"the binfmt_misc entry {BINFMT_AARCH64} is disabled; {EMULATION_HINT}"
    if "F" not in flags:
        # Without F the kernel looks the interpreter up inside the container, where it is not.
        return f"{BINFMT_AARCH64} lacks the F flag (qemu-user-static sets it); {EMULATION_HINT}"
    return None


def foreign_tarballs() -> Tarballs:
    """The arm64 root filesystem, built once per machine and recipe (apart from the amd64
    ones: a new amd64 key does not rebuild it)."""
    digest = hashlib.sha256(
        json.dumps([RECIPE_VERSION, foreign_mmdebstrap_argv(Path("/OUT"))]).encode()
    )
    key = f"{SUITE}-{FOREIGN_ARCH}-{digest.hexdigest()[:12]}"
    result = Tarballs(key, cache_dir() / f"base-images-{FOREIGN_ARCH}" / key)
    return _built_once(result, "python.tar", foreign_mmdebstrap_argv)


@contextlib.contextmanager
def multi_base(engine: Engine, images: BaseImages) -> Iterator[str]:
    """On podman: ``python-arm64`` imported and the manifest list :data:`MULTI_IMAGE` of it
    and ``images.python``; yields the list's name and removes both afterwards.

    Lists are removed with ``podman manifest rm`` (:func:`remove_list`): removing one through
    the Docker-compatible API resolves its name to this machine's platform's image, which here
    is the ``python`` base itself, and removes that instead."""
    assert engine.kind == "podman", "a manifest list in docker's image store"
    reason = emulation_missing()
    if reason is not None:
        unavailable(reason)
    tarballs = foreign_tarballs()
    changes = _image_changes("python", tarballs)
    remove_list(engine, MULTI_IMAGE)  # left by an interrupted session
    steps = [
        ["import", "--os", "linux", "--arch", FOREIGN_ARCH, "--quiet",
         *(arg for change in changes for arg in ("--change", change)),
         str(tarballs.tarball("python")), PYTHON_ARM64_IMAGE],
        ["manifest", "create", MULTI_IMAGE],
        ["manifest", "add", MULTI_IMAGE, f"containers-storage:{images.python}"],
        ["manifest", "add", MULTI_IMAGE, f"containers-storage:{PYTHON_ARM64_IMAGE}"],
    ]  # fmt: skip
    try:
        for argv in steps:
            proc = engine.podman(*argv)
            if proc.returncode != 0:
                raise RuntimeError(f"podman {' '.join(argv)}: {proc.stderr.strip()}")
        yield MULTI_IMAGE
    finally:
        remove_list(engine, MULTI_IMAGE)
        engine.podman("rmi", PYTHON_ARM64_IMAGE)


def remove_list(engine: Engine, ref: str) -> None:
    """Remove the manifest list ``ref`` names, if there is one (not the images in it)."""
    proc = engine.podman("manifest", "exists", ref)
    if proc.returncode == 0:
        proc = engine.podman("manifest", "rm", ref)
        if proc.returncode != 0:
            raise RuntimeError(f"podman manifest rm {ref}: {proc.stderr.strip()}")
