"""The spec's ``build_steps``: the user's own shell commands, as plain IR steps.

Each step is one ``RUN`` (a layer, cached like every other) whose argv is
``/bin/sh -c SCRIPT``; the script reaches the shell exactly as written, inside one JSON string,
so nothing in it can end the instruction. Its environment is given through ``env`` in the same
argv (never an ``ENV``, so the image does not keep it); its secrets are mounted and read into
the step's environment by a prelude, as for the install steps; its caches are cache mounts::

    USER app
    RUN --mount=type=secret,id=hf_token --mount=type=cache,target=/cache \\
        ["/bin/sh", "-c", "set -e; HF_TOKEN=\\"$(cat /run/secrets/hf_token)\\"; export HF_TOKEN;
          exec \\"$@\\"", "imagec-step", "env", "HF_HOME=/cache", "/bin/sh", "-c", "python get.py"]
    USER root
"""

from __future__ import annotations

from imagec.errors import SpecError
from imagec.model.spec import BuildStep, Spec, StepPoint
from imagec.plan.ir import Mount, Origin, Run, Step, User
from imagec.resolve.secrets import secret_target
from imagec.spec.document import Document
from imagec.util.secrets import credential_in, is_env_ref, is_secret_key

# $0 of the secrets prelude, shown by `ps` and in error messages.
ARGV0 = "imagec-step"


def build_steps(spec: Spec) -> list[tuple[int, BuildStep]]:
    """Every entry as a table (a string is ``{run: STRING}``), with its index."""
    return [
        (i, BuildStep(run=s) if isinstance(s, str) else s) for i, s in enumerate(spec.build_steps)
    ]


def check_build_steps(spec: Spec, doc: Document) -> None:
    """Secrets a step names are declared; no credential in a step's environment (a RUN's argv
    is kept in the image history)."""
    declared = {s.id for s in spec.secrets}
    for i, step in build_steps(spec):
        for sid in step.secrets:
            if sid not in declared:
                _fail(
                    doc,
                    i,
                    "secrets",
                    f"secret {sid!r} is not declared; add `secrets: [{{id: {sid}}}]` and build "
                    f"with `--secret id={sid},env=VAR`",
                )
        for key, value in step.environment.items():
            kind = credential_in(value)
            if kind is None and is_secret_key(key) and value and not is_env_ref(value):
                kind = f"a value for the secret-looking name {key}"
            if kind is not None:
                _fail(
                    doc,
                    i,
                    f"environment.{key}",
                    f"{kind} would be stored in the image history; declare a build secret "
                    f"and name it in this step's `secrets` (the step sees ${key})",
                )


def _fail(doc: Document, i: int, field: str, message: str) -> None:
    where = doc.origin("build_steps", i)
    raise SpecError(message, file=where.file, line=where.line, field=f"build_steps[{i}].{field}")


POINTS: tuple[StepPoint, ...] = ("apt_packages", "requirements", "source")


def first_point_as(spec: Spec, name: str) -> StepPoint | None:
    """The first point where a build step runs as user ``name``: the image's named user must
    be created before it."""
    points = {s.after for _, s in build_steps(spec) if s.user and s.user.split(":")[0] == name}
    return next((p for p in POINTS if p in points), None)


def steps_at(spec: Spec, doc: Document, point: StepPoint) -> list[Step]:
    """The IR steps of the build steps placed ``after: point``, in spec order."""
    out: list[Step] = []
    secrets = {s.id: s for s in spec.secrets}
    for i, step in build_steps(spec):
        if step.after != point:
            continue
        where = doc.origin("build_steps", i)
        where = Origin(f"build_steps[{i}]", where.file, where.line)
        argv: tuple[str, ...] = ("/bin/sh", "-c", step.run)
        if step.environment:
            argv = ("env", *(f"{k}={v}" for k, v in step.environment.items()), *argv)
        mounts: list[Mount] = []
        prelude: list[str] = []
        for sid in step.secrets:
            secret = secrets[sid]
            target = secret_target(secret)
            if secret.kind == "netrc":
                mounts.append(Mount("secret", target=target, id=sid))
            else:
                mounts.append(Mount("secret", id=sid))
                prelude.append(f'{secret.env_name}="$(cat {target})"; export {secret.env_name}')
        mounts += [Mount("cache", target=d) for d in step.cache]
        if prelude:
            script = "; ".join(["set -e", *prelude, 'exec "$@"'])
            argv = ("/bin/sh", "-c", script, ARGV0, *argv)
        if step.user is not None:
            out.append(User(where, step.user))
        out.append(Run(where, argv, tuple(mounts)))
        if step.user is not None:
            # imagec's own steps (apt-get, installs) run as root, as in every base it supports.
            out.append(User(where, "root"))
    return out
