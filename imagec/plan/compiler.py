"""Spec -> Plan: the ordered build steps, arranged for layer-cache reuse.

Order (least to most frequently changed)::

    FROM base            ARG build args        ENV defaults + environment
    RUN apt-get          RUN base-image check  RUN create user   WORKDIR
    RUN install imagec runtime
    RUN one layer per requirements source (stack, integrations, lock, file, list), its
        file bound from the context (COPY+RUN when the step mounts nothing else)
    COPY stack config    COPY source           COPY build.json   LABEL
    USER                 ENTRYPOINT / CMD

After the install steps comes only what needs them or may change more often (build steps, the
stack configuration, the source, the build record): every instruction there runs again on each
requirement change (on podman, one more layer commit). WORKDIR waits for build steps placed
``after: requirements``, which run in the base image's working directory.
"""

from __future__ import annotations

import json
from dataclasses import replace

from imagec import __version__
from imagec.model.spec import Spec
from imagec.plan.install import (
    CACHE_TARGETS,
    IMG_REQUIREMENTS,
    bound_files,
    index_options,
    install_secrets,
    install_step_parts,
    wrap,
)
from imagec.plan.ir import (
    CTX_BUILD_INFO,
    CTX_FIND_LINKS,
    CTX_REQUIREMENTS,
    CTX_RUNTIME,
    CTX_SOURCE,
    CTX_STACK,
    Arg,
    Cmd,
    ContextDir,
    ContextFile,
    Copy,
    Entrypoint,
    Env,
    From,
    Label,
    Mount,
    Origin,
    Plan,
    Run,
    Step,
    User,
    Workdir,
)
from imagec.plan.python import base_check, managed_python
from imagec.plan.steps import build_steps, check_build_steps, first_point_as, steps_at
from imagec.resolve.inputs import Inputs
from imagec.resolve.secrets import check_secrets
from imagec.resolve.wheel import wheel_name
from imagec.runtime.buildinfo import BUILD_INFO, BUILD_INFO_LABEL, BUILD_INFO_LABEL_LIMIT
from imagec.spec.document import Document

# Paths inside the image.
IMG_FIND_LINKS = "/imagec/find-links"
IMG_RUNTIME = "/imagec/runtime"
LABEL_PREFIX = "dev.imagec."

DEFAULT_ENV = (
    ("PYTHONUNBUFFERED", "1"),
    ("PYTHONDONTWRITEBYTECODE", "1"),
    ("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
    ("PIP_NO_CACHE_DIR", "1"),
)
# The default installer, pinned: the same spec gives the same image. Installed by pip from the
# spec's own index (or find-links), in a layer of its own just before the first install step
# that runs it, so it needs no network beyond the index and is built once.
UV_REQUIREMENT = "uv==0.9.30"


# With install_imagec off the base image brings imagec; a different version is worth a warning
# in the build log, not a failure.
RUNTIME_CHECK = (
    'v=$(python -c "import imagec; print(imagec.__version__)" 2>/dev/null) || '
    "{ echo 'imagec: warning: the base image has no imagec; decorated pipelines will not "
    "run (set install_imagec: true)' >&2; exit 0; }; "
    f'[ "$v" = "{__version__}" ] || echo "imagec: warning: the base image has imagec $v, '
    f'this image was compiled by imagec {__version__}" >&2'
)


def plan(spec: Spec, doc: Document, inputs: Inputs) -> Plan:
    check_secrets(spec, doc)
    check_build_steps(spec, doc)
    gpu = None
    if spec.cuda is not None or spec.cudnn is not None:  # the CUDA table loads only when used
        from imagec.resolve.cuda import cuda_base

        gpu = cuda_base(spec, doc)
    steps: list[Step] = []
    add = steps.append
    o = doc.origin
    cache = spec.installer_cache_mount

    base = spec.effective_base_image
    base_origin = o("base_image") if spec.base_image else Origin("default base image")
    if inputs.parent is not None:  # the user's Dockerfile, built first (backend/engine/parent)
        base, base_origin = inputs.parent.ref, inputs.parent.origin
    # Several platforms: no --platform, so each platform's build starts from its own base.
    add(From(base_origin, base, spec.single_platform))
    if spec.skip_build:
        return as_is(steps, inputs, spec)
    if gpu is not None:  # NVIDIA's CUDA runtime image (resolve/cuda.py), said with its distro
        where = Origin(f"cuda: {gpu.image}, {gpu.distro}", o("cuda").file, o("cuda").line)
        steps[0] = replace(steps[0], origin=where, image=gpu.image)
    for name, default in spec.build_args.items():
        add(Arg(o("build_args", name), name, default))
    # PIP_NO_CACHE_DIR is set here, before the installs, also with the cache mount: pip's
    # install steps then name the mounted cache with --cache-dir, which wins over the variable.
    # Set after the installs, it would be one more layer to commit on every requirement change.
    add(Env(Origin("imagec defaults"), DEFAULT_ENV))
    if spec.environment:
        add(Env(o("environment"), tuple(spec.environment.items())))

    if inputs.apt_packages:
        pkgs = " ".join(inputs.apt_packages)  # validated against Debian's name grammar
        add(
            Run(
                o("apt_packages"),
                (
                    "/bin/sh",
                    "-c",
                    "apt-get update && apt-get install -y --no-install-recommends "
                    f"{pkgs} && rm -rf /var/lib/apt/lists/*",
                ),
            )
        )

    # The image's named user is made before the first build step that runs as it.
    name = spec.user.split(":")[0] if spec.user else ""
    creates = bool(name) and not name.isdigit() and name != "root"
    early = first_point_as(spec, name) if creates else None

    def custom(point) -> None:
        if early == point == "apt_packages":  # later points: made before the installs
            add(Run(o("user"), ("/bin/sh", "-c", _create_user(name))))
        steps.extend(steps_at(spec, doc, point))

    custom("apt_packages")
    managed = spec.managed_python or gpu is not None
    if managed:
        where = o("managed_python") if spec.managed_python else o("cuda")
        steps.extend(managed_python(spec, where))
    # After the system packages and the first build steps, which may bring Python themselves.
    base_image = steps[0].image  # type: ignore[attr-defined]
    version = spec.effective_python_version if managed else spec.python_version
    add(Run(Origin("base image check"), ("/bin/sh", "-c", base_check(base_image, version))))

    # The image's user and WORKDIR depend on no install, so they go before the installs: a
    # requirement change then reruns neither (each is a layer commit on podman). WORKDIR stays
    # after build steps placed `after: requirements`, which run where the base image says.
    user = spec.user
    if creates and early in (None, "requirements", "source"):
        add(Run(o("user"), ("/bin/sh", "-c", _create_user(name))))
    workdir_early = not any(s.after == "requirements" for _, s in build_steps(spec))
    if workdir_early:
        add(Workdir(o("workdir"), spec.workdir))

    files: list[ContextFile] = []
    dirs: list[ContextDir] = []
    if spec.install_imagec:
        add_runtime(add, files, o("install_imagec"), inputs.runtime)
    else:
        add(Run(o("install_imagec"), ("/bin/sh", "-c", RUNTIME_CHECK)))
    local_links = [(i, d) for i, (_, d) in enumerate(inputs.find_links) if d is not None]
    if local_links:
        for i, directory in local_links:
            dirs.append(ContextDir(root=str(directory), dest=f"{CTX_FIND_LINKS}/{i}"))
        add(Copy(o("find_links"), (f"{CTX_FIND_LINKS}/",), f"{IMG_FIND_LINKS}/"))

    uv_ready = False
    for source in inputs.requirements:
        installer = source.installer or spec.installer
        if installer == "uv" and source.installs and not uv_ready:  # before its first use
            add(_uv_bootstrap(spec, inputs, cache, o("installer")))
            uv_ready = True
        install, prelude, mounts = _installer(spec, inputs, installer, cache, source.own_index)
        made = [ContextFile(f"{CTX_REQUIREMENTS}/{source.name}", source.content)]
        if source.constraints is not None:
            made.append(
                ContextFile(f"{CTX_REQUIREMENTS}/{source.constraints_name}", source.constraints)
            )
        files.extend(made)
        where = IMG_REQUIREMENTS
        if mounts and source.installs:  # bound for the step that reads them, not copied
            where, binds = bound_files([(f.path, f.content) for f in made])
            mounts = (*mounts, *binds)
        else:
            add(Copy(source.origin, tuple(f.path for f in made), f"{IMG_REQUIREMENTS}/"))
        if not source.installs:  # comments and options only: nothing to run
            continue
        # installer_args last: a dangling option among them must not swallow `-r FILE`.
        argv = (*install, "-r", f"{where}/{source.name}", *spec.installer_args)
        add(Run(source.origin, wrap(argv, prelude), mounts))

    custom("requirements")

    if inputs.stack_file is not None and inputs.stack_path is not None:
        stack_origin = Origin("copy_stack")
        files.append(ContextFile(f"{CTX_STACK}/stack.yaml", inputs.stack_file.decode()))
        add(Copy(stack_origin, (f"{CTX_STACK}/stack.yaml",), inputs.stack_path))
        if inputs.stack_env:
            add(Env(stack_origin, inputs.stack_env))

    if not workdir_early:
        add(Workdir(o("workdir"), spec.workdir))
    if spec.copy_source and inputs.source_root is not None:
        dirs.append(
            ContextDir(
                root=str(inputs.source_root),
                dest=CTX_SOURCE,
                ignore_file=str(inputs.ignore_file) if inputs.ignore_file else None,
                rule=inputs.source_rule,
            )
        )
        add(Copy(o("copy_source"), (f"{CTX_SOURCE}/",), f"{spec.workdir.rstrip('/')}/", chown=user))
        if inputs.install_project is not None:  # the project itself, as a package
            steps.extend(_project_steps(spec, inputs, cache, uv_ready, o("installer")))
    custom("source")
    if spec.runtime_environment:  # after every build step: only the container sees it
        add(Env(o("runtime_environment"), tuple(spec.runtime_environment.items())))
    if user:
        add(User(o("user"), user))
    if spec.entrypoint is not None or spec.command is not None:
        if spec.entrypoint is not None:
            add(Entrypoint(o("entrypoint"), _argv(spec.entrypoint)))
        if spec.command is not None:
            add(Cmd(o("command"), _argv(spec.command)))
    elif inputs.pipeline_target is not None:
        # `docker run IMAGE` runs the pipeline; `docker run IMAGE --inspect` shows provenance.
        runner = Origin("default command: run the pipeline")
        # A package whose import root is below the source root (a src/ layout in a repository)
        # imports from there: the runner puts it on sys.path (`--path src`).
        path = ("--path", inputs.pipeline_path) if inputs.pipeline_path else ()
        add(Entrypoint(runner, ("python", "-m", "imagec.runtime", *path)))
        add(Cmd(runner, (inputs.pipeline_target,)))

    draft = Plan(
        steps=tuple(steps),
        files=tuple(files),
        dirs=tuple(dirs),
        image_name=inputs.image_name,
        build_args=tuple(spec.build_args.items()),
        platform=",".join(spec.platforms) or None,
    )
    return with_provenance(draft, spec, o("labels") if spec.labels else Origin("provenance"))


def as_is(steps: list[Step], inputs: Inputs, spec: Spec) -> Plan:
    """``skip_build``: the image as it is, ``FROM image`` with nothing built on it. The
    requirements files stay in the plan, and the pipeline in its metadata: the engine checks
    the image has them (backend/engine/asis.py)."""
    files = tuple(
        ContextFile(f"{CTX_REQUIREMENTS}/{source.name}", source.content)
        for source in inputs.requirements
    )
    target = inputs.pipeline_target if spec.command is None and spec.entrypoint is None else None
    return Plan(
        steps=tuple(steps),
        files=files,
        image_name=inputs.image_name,
        platform=",".join(spec.platforms) or None,
        metadata=(("pipeline", target),) if target else (),
    )


def add_runtime(add, files: list[ContextFile], where: Origin, runtime: str) -> None:
    """imagec's runtime at the compiling version, in its own layer before the requirements.

    It needs nothing but the standard library, hence ``--no-deps``.
    """
    pip = ("python", "-m", "pip", "install", "--no-cache-dir", "--no-deps")
    if runtime == "index":
        add(Run(where, (*pip, f"imagec=={__version__}")))
        return
    name = wheel_name()
    files.append(ContextFile(f"{CTX_RUNTIME}/{name}", __version__, generator="imagec-wheel"))
    add(Copy(where, (f"{CTX_RUNTIME}/{name}",), f"{IMG_RUNTIME}/"))
    add(Run(where, (*pip, f"{IMG_RUNTIME}/{name}")))


def with_provenance(plan: Plan, spec: Spec, where: Origin) -> Plan:
    """Embed what the image was built from: labels plus ``/etc/imagec/build.json``.

    Both go last so they never invalidate a cached layer; the digest is the plan's without
    them (it cannot include itself).
    """
    digest = plan.digest()
    info = {
        "imagec_version": __version__,
        "ir_digest": digest,
        "spec": spec.model_dump(mode="json", exclude_defaults=True),
    }
    text = json.dumps(info, indent=2, sort_keys=True) + "\n"
    labels = dict(spec.labels)
    labels.update(
        {
            f"{LABEL_PREFIX}version": __version__,
            f"{LABEL_PREFIX}ir-digest": digest,
        }
    )
    compact = json.dumps(info, sort_keys=True, separators=(",", ":"))
    if len(compact) <= BUILD_INFO_LABEL_LIMIT:
        labels[BUILD_INFO_LABEL] = compact
    steps = list(plan.steps)
    # Before the closing USER/ENTRYPOINT/CMD (a build step's USER before its RUN is not one).
    at = len(steps)
    while at and isinstance(steps[at - 1], User | Entrypoint | Cmd):
        at -= 1
    steps[at:at] = [
        Copy(Origin("provenance"), (CTX_BUILD_INFO,), BUILD_INFO),
        Label(where, tuple(sorted(labels.items()))),
    ]
    return replace(
        plan,
        steps=tuple(steps),
        files=(*plan.files, ContextFile(CTX_BUILD_INFO, text)),
        metadata=(("ir_digest", digest),),
    )


def _argv(value: str | list[str]) -> tuple[str, ...]:
    return ("/bin/sh", "-c", value) if isinstance(value, str) else tuple(value)


def _installer(
    spec: Spec, inputs: Inputs, installer: str, cache: bool, own_index: bool = False
) -> tuple[tuple[str, ...], list[str], tuple[Mount, ...]]:
    """The install command, its shell prelude (secrets, index URLs with ``${NAME}``) and its
    mounts (secrets, the installer's cache). ``own_index``: the requirements file names its
    own index, so the spec's are left out (uv would rank them above the file's)."""
    if installer == "uv":
        # --native-tls: the system's CA store, as pip uses it (truststore), so an index behind
        # a TLS-inspecting proxy that pip can reach, uv can reach too.
        cmd: list[str] = ["python", "-m", "uv", "pip", "install", "--system", "--native-tls"]
        # The cache mount is another filesystem: uv cannot hardlink from it.
        cmd += ["--link-mode", "copy"] if cache else ["--no-cache"]
    else:
        cmd = ["python", "-m", "pip", "install"]
        # With the cache: named, as the image's ENV PIP_NO_CACHE_DIR would turn it off.
        cmd += ["--cache-dir", CACHE_TARGETS["pip"]] if cache else ["--no-cache-dir"]
    mounts, secret_lines = install_step_parts(install_secrets(spec, inputs), installer, cache)
    argv, index_prelude = index_options(spec, installer) if not own_index else ([], [])
    cmd += argv
    for i, (value, directory) in enumerate(inputs.find_links):
        cmd += ["--find-links", f"{IMG_FIND_LINKS}/{i}" if directory is not None else value]
    return tuple(cmd), [*secret_lines, *index_prelude], mounts


def _uv_bootstrap(spec: Spec, inputs: Inputs, cache: bool, where: Origin) -> Run:
    """The pinned uv, installed by pip in a layer of its own from the spec's index and
    find-links (a wheel there makes it offline): one binary wheel, no dependencies, so no
    build and one download (none with the cache mount)."""
    pip, prelude, mounts = _installer(spec, inputs, "pip", cache)
    argv = (*pip, "--no-deps", "--only-binary", ":all:", UV_REQUIREMENT)
    return Run(where, wrap(argv, prelude), mounts)


def _project_steps(
    spec: Spec, inputs: Inputs, cache: bool, uv_ready: bool, where: Origin
) -> list[Step]:
    """``pip install --no-deps .`` (``uv pip install --system --no-deps .``) in the workdir,
    after the source copy: the project's own package, its dependencies already installed by
    the requirement layers."""
    out: list[Step] = []
    if spec.installer == "uv" and not uv_ready:
        out.append(_uv_bootstrap(spec, inputs, cache, where))
    install, prelude, mounts = _installer(spec, inputs, spec.installer, cache)
    argv = (*install, "--no-deps", ".", *spec.installer_args)
    out.append(Run(inputs.install_project, wrap(argv, prelude), mounts))  # type: ignore[arg-type]
    return out


def _create_user(name: str) -> str:
    # Debian-based images have useradd; busybox/alpine ones have adduser.
    return (
        f"id -u {name} >/dev/null 2>&1 || useradd --create-home --shell /bin/sh {name} "
        f"2>/dev/null || adduser -D {name}"
    )
