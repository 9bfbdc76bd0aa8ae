"""The ``imagec`` command line: every command, flag and help text (argparse only)."""

from __future__ import annotations

import argparse

from imagec import __version__


def _spec_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "spec",
        metavar="SPEC",
        help="spec file, directory holding one, or FILE.py[:PIPELINE] with a @pipeline",
    )
    p.add_argument(
        "--import",
        dest="import_module",
        action="store_true",
        help="for a .py SPEC: run the module to read the decorator, instead of reading its source",
    )
    p.add_argument("--stack", help="stack to copy into the image (name or path of a stack file)")
    p.add_argument("--dockerignore", metavar="FILE", help="ignore file for the source root")
    p.add_argument(
        "--resolve-online",
        action="store_true",
        help="allow a pyproject.toml in lock_files to be resolved against its index now "
        "(IMAGEC_RESOLVE_ONLINE=1)",
    )


def _backend_args(p: argparse.ArgumentParser, default: str | None) -> None:
    p.add_argument("--backend", default=default, help=f"backend name (default: {default})")
    p.add_argument(
        "-O",
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="backend option (see `imagec backends`)",
    )
    p.add_argument(
        "--on-unsupported",
        choices=("error", "warn"),
        default="error",
        help="when the backend cannot express a step: fail (default) or warn and go on",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imagec", description="Compile pipeline-image specs into container builds."
    )
    parser.add_argument("--version", action="version", version=f"imagec {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("compile", help="print or write the generated Containerfile")
    _spec_args(p)
    _backend_args(p, "containerfile")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    p = sub.add_parser("ir", help="print the IR (ordered build steps) as JSON")
    _spec_args(p)

    p = sub.add_parser("validate", help="check a spec and report the first problem")
    _spec_args(p)

    p = sub.add_parser("schema", help="print the JSON Schema of the spec")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--markdown", action="store_true", help="the Markdown field reference instead")

    p = sub.add_parser("backends", help="list installed backends and their health")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("export", help="write a self-contained build directory")
    _spec_args(p)
    _backend_args(p, "containerfile")
    p.add_argument("-o", "--output", metavar="DIR", required=True, help="directory to write")
    p.add_argument("--force", action="store_true", help="replace a non-empty DIR")

    p = sub.add_parser("context", help="show the build context of a source root or spec")
    p.add_argument("target", metavar="ROOT_OR_SPEC")
    p.add_argument("--file", metavar="DOCKERFILE", help="Dockerfile path relative to the root")
    p.add_argument("--dockerignore", metavar="FILE", help="ignore file to use")
    p.add_argument("--import", dest="import_module", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--stack", help=argparse.SUPPRESS)
    what = p.add_mutually_exclusive_group()
    what.add_argument("--list", action="store_true", help="print the leaf listing")
    what.add_argument("--tar", metavar="OUT", help="write the context tarball to OUT")
    what.add_argument("--hash", action="store_true", help="print the context's content hash")

    p = sub.add_parser("init", help="make DIR (default: .) an imagec repository")
    p.add_argument("directory", nargs="?", default=".")

    p = sub.add_parser("build", help="build the image with a container engine")
    _spec_args(p)
    _backend_args(p, None)
    p.add_argument("-t", "--tag", action="append", default=[], help="extra tag (repeatable)")
    p.add_argument("--no-cache", action="store_true", help="do not use the build cache")
    p.add_argument("--pull", action="store_true", help="always pull the base image")
    p.add_argument("--platform", help="target platform, os/arch[/variant]; several comma-separated")
    p.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--label", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument(
        "--push",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="push the tags that name a registry after building (default: push when the "
        "stack has a container_registry; --no-push builds for the local store only)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="build even if the image exists, locally or in the stack's registry",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print only the image id")
    p.add_argument("--url", help="engine API URL (default: from the environment)")
    p.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="id=ID,src=FILE|env=VAR",
        help="a build secret the spec declares (`secrets`), from a file or an environment "
        "variable; mounted into the install steps only (repeatable)",
    )
    p.add_argument(
        "--no-cache-mount",
        action="store_true",
        help="no pip/uv cache mount in the install steps (spec: installer_cache_mount: false)",
    )

    p = sub.add_parser("inspect", help="show what an image was built from")
    p.add_argument("image", help="image reference, or '-' for the image this runs in")
    _backend_args(p, None)
    p.add_argument("--url", help="engine API URL (default: from the environment)")
    return parser
