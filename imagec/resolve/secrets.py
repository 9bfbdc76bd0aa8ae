"""Build secrets: which ``${NAME}`` references the spec's secrets provide, and the secrets a
build is given (``imagec build --secret id=ID,src=FILE`` or ``id=ID,env=VAR``).

A secret's value is never read into a plan, a label or a log line: a file secret is handed to
the engine by path; an ``env=`` secret is written to a private file (mode 0600, removed after
the build) because that is the one form every engine accepts.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from imagec.errors import SpecError
from imagec.model.spec import BuildSecret, Spec
from imagec.spec.document import Document, format_loc
from imagec.util.records import Record, mark_frozen, record
from imagec.util.secrets import ENV_REF, credential_in, is_env_ref, is_secret_key

# Where an `env` secret is mounted; a `netrc` secret goes where pip, uv and git look for one
# (install steps run as root, before the image's USER).
SECRETS_DIR = "/run/secrets"
NETRC_TARGET = "/root/.netrc"


def secret_target(secret: BuildSecret) -> str:
    return NETRC_TARGET if secret.kind == "netrc" else f"{SECRETS_DIR}/{secret.id}"


def check_build_host_values(spec: Spec, doc: Document) -> None:
    """A credential written into ``environment`` or ``build_args`` is refused: both are stored
    in the image (ENV, and the ARG in its history). The message shows the two ways instead."""
    for field in ("environment", "build_args", "runtime_environment"):
        for key, value in getattr(spec, field).items():
            kind = credential_in(value)
            if kind is None and is_secret_key(key) and value and not is_env_ref(value):
                kind = f"a value for the secret-looking name {key}"
            if kind is None:
                continue
            where = doc.origin(field, key)
            sid = key.lower()
            raise SpecError(
                f"{kind} would be stored in the image. Needed while building: declare "
                f"`secrets: [{{id: {sid}, env: {key}}}]` and run `imagec build SPEC --secret "
                f"id={sid},env={key}` (the install steps see ${key}); needed when the "
                f"container runs: leave it out and give it at start (`docker run -e {key}`)",
                file=where.file,
                line=where.line,
                field=f"{field}.{key}",
            )


def check_image_text(spec: Spec, doc: Document) -> None:
    """The other free text the image or its build keeps (labels, CMD and ENTRYPOINT, the parent
    build's ``--build-arg`` values, kept in the parent image's history) holds no credential."""
    parent = spec.parent_dockerfile
    values: list[tuple[tuple[str | int, ...], str, str]] = []
    values += [(("labels", k), k, v) for k, v in spec.labels.items()]
    if parent is not None:
        loc: tuple[str, ...] = ("dockerfile", "build_args")
        values += [((*loc, k), k, v) for k, v in parent.build_args.items()]
    for field in ("entrypoint", "command"):
        command = getattr(spec, field)
        if isinstance(command, str):
            values.append(((field,), "", command))
        elif command is not None:
            values += [((field, i), "", v) for i, v in enumerate(command)]
    values += [
        (("secrets", i, "description"), "", s.description) for i, s in enumerate(spec.secrets)
    ]
    for loc, key, value in values:
        kind = credential_in(value)
        if kind is None and key and is_secret_key(key) and value and not is_env_ref(value):
            kind = f"a value for the secret-looking name {key}"
        if kind is None:
            continue
        where = doc.origin(str(loc[0]), *loc[1:])
        raise SpecError(
            f"{kind} would be stored in the image or its build's history; pass it as a build "
            "secret (`secrets`), or give it when the container starts",
            file=where.file,
            line=where.line,
            field=format_loc(loc),
        )


def check_secrets(spec: Spec, doc: Document) -> None:
    """Unique ids, one netrc, and every ``${NAME}`` in an index URL provided by a secret."""
    check_build_host_values(spec, doc)
    check_image_text(spec, doc)
    seen: set[str] = set()
    envs: dict[str, str] = {}
    for i, secret in enumerate(spec.secrets):
        where = doc.origin("secrets", i)
        if secret.id in seen:
            raise SpecError(
                f"secret id {secret.id!r} is declared twice",
                file=where.file,
                line=where.line,
                field=f"secrets[{i}].id",
            )
        seen.add(secret.id)
        if secret.kind == "netrc" and secret.env is not None:
            raise SpecError(
                "a netrc secret is a file, not an environment variable; leave `env` out",
                file=where.file,
                line=where.line,
                field=f"secrets[{i}].env",
            )
        name = secret.env_name
        if name is not None:
            if name in envs:
                raise SpecError(
                    f"secrets {envs[name]!r} and {secret.id!r} both set ${{{name}}}",
                    file=where.file,
                    line=where.line,
                    field=f"secrets[{i}].env",
                )
            envs[name] = secret.id
    if sum(s.kind == "netrc" for s in spec.secrets) > 1:
        raise SpecError("more than one netrc secret; merge them into one file", field="secrets")
    urls = [("index_url", spec.index_url)] if spec.index_url else []
    urls += [(f"extra_index_urls[{i}]", u) for i, u in enumerate(spec.extra_index_urls)]
    for field, url in urls:
        for name in ENV_REF.findall(url):
            if name not in envs:
                where = doc.origin(field.split("[")[0])
                raise SpecError(
                    f"${{{name}}} is not provided by any secret; declare one, e.g. "
                    f"`secrets: [{{id: {name.lower()}, env: {name}}}]`, and build with "
                    f"`--secret id={name.lower()},src=FILE`",
                    file=where.file,
                    line=where.line,
                    field=field,
                )


@record
class SecretFlag(Record):
    """One ``--secret``: ``id=ID,src=FILE`` (also ``source=``), ``id=ID,env=VAR``, or ``id=ID``
    alone (the environment variable ID, as docker does). ``type=file|env`` is accepted."""

    id: str
    src: str | None = None
    env: str | None = None


def parse_secret_flag(text: str) -> SecretFlag:
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, eq, value = part.partition("=")
        key = key.strip().lower()
        if not eq or not value or key not in ("id", "src", "source", "env", "type"):
            raise SpecError(
                f"invalid --secret {text!r}: expected id=ID,src=FILE or id=ID,env=VAR",
                field="--secret",
            )
        fields["src" if key == "source" else key] = value
    if "id" not in fields:
        raise SpecError(f"invalid --secret {text!r}: no id=", field="--secret")
    if "src" in fields and "env" in fields:
        raise SpecError(f"invalid --secret {text!r}: give src= or env=, not both", field="--secret")
    if fields.get("type", "file" if "src" in fields else "env") not in ("file", "env"):
        raise SpecError(f"invalid --secret {text!r}: type is file or env", field="--secret")
    if "src" not in fields and "env" not in fields:
        fields["env" if fields.get("type") != "file" else "src"] = fields["id"]
    return SecretFlag(fields["id"], fields.get("src"), fields.get("env"))


def _describe(secret: BuildSecret) -> str:
    return f" ({secret.description})" if secret.description else ""


@contextmanager
def secret_files(spec: Spec, flags: list[str] | tuple[str, ...]) -> Iterator[dict[str, str]]:
    """``{id: path of a file holding the secret}`` for every declared secret, for the length of
    the build. A declared secret that is not supplied, or a supplied one the spec does not
    declare, is an error here, before any engine is called."""
    declared = {s.id: s for s in spec.secrets}
    given: dict[str, SecretFlag] = {}
    for text in flags:
        flag = parse_secret_flag(text)
        if flag.id not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise SpecError(
                f"--secret id={flag.id}: the spec declares no such secret (declared: {known})",
                field="--secret",
            )
        given[flag.id] = flag
    missing = [s for s in spec.secrets if s.id not in given]
    if missing:
        s = missing[0]
        raise SpecError(
            f"secret {s.id!r}{_describe(s)} is not supplied; build with "
            f"`--secret id={s.id},src=FILE` or `--secret id={s.id},env=VAR`",
            field=f"secrets[{spec.secrets.index(s)}]",
        )
    with tempfile.TemporaryDirectory(prefix="imagec-secrets-") as tmp:
        os.chmod(tmp, 0o700)
        paths: dict[str, str] = {}
        for sid, flag in given.items():
            if flag.src is not None:
                path = Path(flag.src).expanduser()
                try:
                    st = path.stat()
                except OSError as exc:
                    raise SpecError(
                        f"--secret id={sid}: cannot read {flag.src}: {exc.strerror}",
                        field="--secret",
                    ) from None
                if not stat.S_ISREG(st.st_mode):
                    raise SpecError(
                        f"--secret id={sid}: {flag.src} is not a regular file", field="--secret"
                    )
                paths[sid] = str(path.resolve())
                continue
            value = os.environ.get(flag.env or "")
            if value is None:
                raise SpecError(
                    f"--secret id={sid}: environment variable {flag.env} is not set "
                    f"(secret {sid!r}{_describe(declared[sid])})",
                    field="--secret",
                )
            path = Path(tmp) / f"{len(paths)}"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(value)
            paths[sid] = str(path)
        yield paths


mark_frozen(SecretFlag)
