"""``imagec build SPEC``: build the image with a container engine backend."""

from __future__ import annotations

import argparse

from imagec.backend.base import BuildRequest
from imagec.cli.backend_choice import engine_backend_name, make_backend, pairs
from imagec.cli.platform import platform_flag
from imagec.cli.spec_options import project_of
from imagec.project import build_for
from imagec.resolve.secrets import secret_files


def run(args: argparse.Namespace) -> int:
    project = project_of(args, no_cache_mount=args.no_cache_mount)
    backend = make_backend(engine_backend_name(args.backend, project.stack), args)
    # The stack's container_registry names the image and is where it goes, unless --no-push.
    registry = project.stack.registry_uri if project.stack is not None else None
    push = args.push if args.push is not None else registry is not None
    # Every declared secret is supplied (or this fails, naming it) before any engine is called;
    # files made for `env=` secrets are removed when the build ends.
    with secret_files(project.spec, args.secret) as secrets:
        request = BuildRequest(
            tags=tuple(args.tag),
            no_cache=args.no_cache,
            pull=args.pull,
            force=args.force,
            push=push,
            registry=registry,
            quiet=args.quiet,
            platform=platform_flag(args.platform),
            build_args=tuple(pairs(args.build_arg, "--build-arg").items()),
            labels=tuple(pairs(args.label, "--label").items()),
            secrets=tuple(secrets.items()),
        )
        if project.spec.skip_build:  # the image as it is: checked, not built
            result = backend.use_as_is(build_for(project, backend), request)
        else:
            result = backend.build(build_for(project, backend), request)
    if args.quiet:
        print(result.image_id)
    else:
        state = "built" if result.built else "up to date"
        if project.spec.skip_build:
            state = "usable as it is"
        print(f"{state}: {result.image_id} {' '.join(result.tags)}")
    return 0
