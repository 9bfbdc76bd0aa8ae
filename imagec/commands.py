"""One function per CLI command: load, call the library, print."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from imagec.backend import Backend, Build, BuildRequest
from imagec.cli import _pairs, print_json, write_output
from imagec.errors import SpecError
from imagec.plugins import get_plugins
from imagec.project import Project, load_project


def _project(args: argparse.Namespace) -> Project:
    return load_project(
        args.spec,
        import_module=args.import_module,
        stack=args.stack,
        dockerignore=args.dockerignore,
    )


def _backend(args: argparse.Namespace) -> Backend:
    if not args.backend:
        raise SpecError(
            "choose a backend: --backend docker|podman, IMAGEC_BACKEND, or an image_builder "
            "in the stack",
            field="--backend",
        )
    cls = get_plugins().backend(args.backend)
    raw = _pairs(args.option, "--option")
    if getattr(args, "url", None):
        raw["url"] = args.url  # --url is the engine backends' `url` option
    return cls.from_options(raw, unsupported=getattr(args, "on_unsupported", "error"))


def _build(project: Project, backend: Backend) -> Build:
    from imagec.buildcontext import BuildContext

    text = backend.render(project.plan)
    context = BuildContext(project.plan, backend.build_file_name, text)
    return Build(spec=project.spec, plan=project.plan, context=context)


def cmd_compile(args: argparse.Namespace) -> int:
    backend = _backend(args)
    project = _project(args)
    write_output(backend.render(project.plan), args.output)
    return 0


def cmd_ir(args: argparse.Namespace) -> int:
    sys.stdout.write(_project(args).plan.to_json())
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    project = _project(args)
    print(f"ok: {project.doc.path}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from imagec.schema import markdown, schema_text

    write_output(markdown() if args.markdown else schema_text(), args.output)
    return 0


def cmd_backends(args: argparse.Namespace) -> int:
    plugins = get_plugins()
    rows = []
    for name, (cls, owner) in plugins.backends().items():
        info = plugins.info.get(owner)
        try:
            health = cls.health()
        except Exception as exc:  # a plugin's broken health check must not hide the list
            from imagec.backend import Health

            health = Health(False, f"health check failed: {type(exc).__name__}: {exc}")
        rows.append(
            {
                "name": name,
                "distribution": info.distribution if info else owner,
                "version": info.version if info else "",
                "output": cls.output,
                "ok": health.ok,
                "reason": health.reason,
                "description": cls.description,
                "options": cls.Options.model_json_schema().get("properties", {}),
            }
        )
    failures = [
        {"name": f.name, "distribution": f.distribution, "error": f.error} for f in plugins.failures
    ]
    if args.json:
        print_json({"backends": rows, "failures": failures})
        return 0
    for row in rows:
        health = "ok" if row["ok"] else f"missing: {row['reason']}"
        print(
            f"{row['name']:<14} {row['distribution']} {row['version']:<8} {health:<10} "
            f"{row['description']}"
        )
    for failure in plugins.failures:
        print(f"imagec: warning: {failure}", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    backend = _backend(args)
    project = _project(args)
    backend.export(_build(project, backend), Path(args.output), force=args.force)
    print(f"wrote {args.output}")
    return 0


def cmd_context(args: argparse.Namespace) -> int:
    from imagec.buildcontext import describe_context

    target = Path(args.target)
    return describe_context(
        target,
        dockerfile=args.file,
        dockerignore=args.dockerignore,
        tar=args.tar,
        hash_=args.hash,
        import_module=args.import_module,
        stack=args.stack,
    )


def cmd_init(args: argparse.Namespace) -> int:
    from imagec.stack import init_repository

    path = init_repository(Path(args.directory))
    print(f"initialized imagec repository: {path}")
    return 0


BACKEND_ENV_VAR = "IMAGEC_BACKEND"


def _engine_backend_name(args: argparse.Namespace, project: Project) -> str | None:
    """--backend, else IMAGEC_BACKEND, else the flavor of the stack's image_builder: swapping
    docker for podman is one flag, one variable, or one line of the stack."""
    if args.backend:
        return args.backend
    if os.environ.get(BACKEND_ENV_VAR):
        return os.environ[BACKEND_ENV_VAR]
    builder = project.stack.components.get("image_builder") if project.stack else None
    return builder.flavor if builder is not None else None


def cmd_build(args: argparse.Namespace) -> int:
    project = _project(args)
    args.backend = _engine_backend_name(args, project)
    backend = _backend(args)
    request = BuildRequest(
        tags=tuple(args.tag),
        no_cache=args.no_cache,
        pull=args.pull,
        force=args.force,
        push=args.push,
        quiet=args.quiet,
        platform=args.platform,
        build_args=tuple(_pairs(args.build_arg, "--build-arg").items()),
        labels=tuple(_pairs(args.label, "--label").items()),
    )
    result = backend.build(_build(project, backend), request)
    if args.quiet:
        print(result.image_id)
    else:
        state = "built" if result.built else "up to date"
        print(f"{state}: {result.image_id} {' '.join(result.tags)}")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    if args.image == "-":
        from imagec.provenance import read_build_info

        info = read_build_info()
    else:
        args.backend = args.backend or os.environ.get(BACKEND_ENV_VAR)
        info = _backend(args).inspect(args.image)
    print(json.dumps(info, indent=2))
    return 0
