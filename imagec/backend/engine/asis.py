"""``skip_build``: use ``base_image`` as it is. Nothing is built; imagec checks that the image
can run the pipeline and says, one line each, what it lacks.

One container of the image runs a probe (no network, removed afterwards)::

    /bin/sh -c 'for p in python python3; do ... exec "$p" -c PROBE NAMES; done'

and the probe prints JSON: the Python version, pip's, imagec's (for a decorated pipeline,
whose file imports it) and the installed version of each distribution the spec's
requirements name (integrations, stack, files, the list). The versions are compared here with
the requirements' specifiers. An image missing locally is pulled first.
"""

from __future__ import annotations

import json

from packaging.requirements import InvalidRequirement, Requirement

from imagec import __version__
from imagec.backend.base import Build, BuildRequest, BuildResult
from imagec.backend.engine.progress import Progress, choose_mode
from imagec.backend.engine.refs import check_tags
from imagec.backend.engine.session import EngineSession
from imagec.errors import BuildError, EngineError, SpecError
from imagec.plan.ir import CTX_REQUIREMENTS

PROBE_TIMEOUT = 120  # seconds
PROBE_OUTPUT_LIMIT = 1 << 20  # bytes of JSON read back
FIELD = "skip_build"
# The plan's metadata key naming the decorated pipeline the image is to run.
PIPELINE_KEY = "pipeline"

SHELL = (
    'for p in python python3; do command -v "$p" >/dev/null 2>&1 && exec "$p" -c "$1" "$2"; '
    "done; echo '{\"python\": null}'"
)
# Standard library only, and Python 3.8+ (importlib.metadata): it runs in the user's image.
PROBE = """\
import json, sys
from importlib import metadata
out = {"python": "%d.%d.%d" % tuple(sys.version_info[:3]), "dists": {}}
for name in json.loads(sys.argv[1]):
    try:
        out["dists"][name] = metadata.version(name)
    except Exception:
        out["dists"][name] = None
for module in ("pip", "imagec"):
    try:
        out[module] = getattr(__import__(module), "__version__", "")
    except Exception:
        out[module] = None
if out["imagec"] is not None:
    try:
        import imagec.runtime
    except Exception:
        out["imagec"] = None
print(json.dumps(out))
"""


class ImageCheckError(BuildError):
    """The image cannot be used as it is (exit 1, as a failing build step)."""


def use_as_is(session: EngineSession, build: Build, request: BuildRequest) -> BuildResult:
    image = build.spec.base_image
    if image is None:  # resolve.parent.check_skip_build refuses this; a plugin may not have
        raise SpecError("names no image to use as it is; set base_image", field=FIELD)
    tags = check_tags(request.tags)
    progress = Progress(session.engine, choose_mode(request.quiet))
    if request.push:  # a stack's registry asks for it by default: say so, push nothing
        progress.note(f"nothing built, nothing pushed: {image} is used as it is")
    info = session.image(image)
    if info is None or request.pull:
        progress.note(f"pulling {image}")
        for message in session.pull(image):
            error = message.get("error") or (message.get("errorDetail") or {}).get("message")
            if error:
                raise EngineError(f"{session.engine}: pull of {image} failed: {error}")
        info = session.image(image)
        if info is None:
            raise EngineError(f"{session.engine}: {image} is not on the engine after its pull")
    requirements = requirements_of(build)
    names = sorted({req.name for req in requirements})
    progress.note(f"checking {image} (skip_build: nothing is built)")
    code, out, err = session.run(
        info.id, ["/bin/sh", "-c", SHELL, "sh", PROBE, json.dumps(names)], timeout=PROBE_TIMEOUT
    )
    found = _parse(out[:PROBE_OUTPUT_LIMIT]) if code == 0 else None
    if found is None:
        tail = (err or out).decode("utf-8", "replace").strip().splitlines()[-1:]
        why = f": {tail[0]}" if tail else ""
        raise ImageCheckError(
            f"{image} cannot be used as it is: its check did not run (exit code {code}){why}",
            field=FIELD,
        )
    missing, notes = missing_parts(build, found, requirements)
    for note in notes:
        progress.note(note)
    if missing:
        lines = "".join(f"\n  - {line}" for line in missing)
        raise ImageCheckError(f"{image} cannot be used as it is:{lines}", field=FIELD)
    for ref in tags:
        session.tag(info.id, ref)
    return BuildResult(info.id, (image, *tags), built=False)


def missing_parts(
    build: Build, found: dict, requirements: list[Requirement]
) -> tuple[list[str], list[str]]:
    """What the image lacks (one line each), and notes worth a line that do not fail it."""
    missing: list[str] = []
    notes: list[str] = []
    python = found.get("python")
    if not python:
        return ["Python: no `python` or `python3` on PATH"], notes
    wanted = build.spec.python_version
    if wanted is not None and ".".join(python.split(".")[:2]) != wanted:
        missing.append(f"Python {wanted} (python_version): the image has Python {python}")
    pipeline = dict(build.plan.metadata).get(PIPELINE_KEY)
    imagec = found.get("imagec")
    if pipeline is not None and imagec is None:
        missing.append(
            f"imagec's runtime: {pipeline} uses @pipeline (pip install imagec=={__version__})"
        )
    elif pipeline is not None and imagec != __version__:
        notes.append(f"note: the image has imagec {imagec}; this is imagec {__version__}")
    dists = found.get("dists") or {}
    for req in requirements:
        version = dists.get(req.name)
        if version is None:
            missing.append(f"{req}: not installed")
        elif req.specifier and not req.specifier.contains(version, prereleases=True):
            missing.append(f"{req}: the image has {req.name} {version}")
    return missing, notes


def requirements_of(build: Build) -> list[Requirement]:
    """The requirements of the plan's requirements files (the compiler keeps them under
    ``skip_build``: they are checked, not installed). Options, and requirements whose
    markers depend on the image's environment, are left out."""
    out: list[Requirement] = []
    for f in build.plan.files:
        if not f.path.startswith(CTX_REQUIREMENTS + "/") or f.path.endswith(".constraints.txt"):
            continue
        for raw in f.content.splitlines():
            text = raw.split(" #", 1)[0].strip()
            if not text or text.startswith(("#", "-")):
                continue
            text = text.split(" --", 1)[0]  # per-line options: --hash, --config-settings
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue  # a URL or path requirement: its name is not known before install
            if req.marker is None:
                out.append(req)
    return out


def _parse(out: bytes) -> dict | None:
    for line in reversed(out.decode("utf-8", "replace").splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None
