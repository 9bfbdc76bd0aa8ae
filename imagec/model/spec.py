"""The pipeline-image spec: strict pydantic models, the single source of the JSON Schema.

Values here end up inside a Containerfile that runs as root, so every string that is lowered
verbatim is constrained to a safe alphabet, and free text (environment values, labels, build
arg defaults) is single-line and escaped by the lowering.
"""

# No `from __future__ import annotations` here: pydantic would then compile and evaluate every
# field's annotation string when it builds the schema, at each start-up (~3 M instructions).
import re
import sys
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
)

from imagec.errors import SpecError
from imagec.model.reference import check_platform, check_reference, check_repository
from imagec.model.requirement import checked_requirement, editable_of, requirements_file_of
from imagec.util.secrets import ENV_REF, SECRET_HINT, credential_in, is_env_ref
from imagec.util.text import UNSAFE, show, unsafe_kind

# One value must fit on one Containerfile line (BuildKit reads at most 64 KiB per line) even
# when written as JSON with \\uXXXX escapes; real values are far shorter.
MAX_VALUE_LENGTH = 4096


def _single_line(value: str) -> str:
    m = UNSAFE.search(value)
    if m:
        raise ValueError(f"{unsafe_kind(m.group())} {m.group()!r} not allowed in {show(value)}")
    if len(value) > MAX_VALUE_LENGTH:
        raise ValueError(
            f"value longer than {MAX_VALUE_LENGTH} characters: {value[:40]!r}... "
            f"({len(value)} characters)"
        )
    return value


def _pattern(regex: str, what: str, example: str):
    compiled: re.Pattern[str] | None = None  # on first use: most specs use few of these fields

    def check(value: str) -> str:
        nonlocal compiled
        if compiled is None:
            # ASCII: `\w`, `\d` and case folding must not admit other scripts' letters/digits.
            compiled = re.compile(regex, re.ASCII)
        if len(value) > MAX_VALUE_LENGTH or not compiled.fullmatch(value):
            raise ValueError(f"invalid {what} {show(value)} (expected e.g. {example!r})")
        return value

    return AfterValidator(check)


def _requirement(value: str) -> str:
    _single_line(value)
    path = requirements_file_of(value)
    if path is not None:
        if not path:
            raise ValueError(f"{value!r} names no requirements file")
        return value
    if editable_of(value):  # `-e .`: the source root, checked where the root is known
        return value
    if value.strip().startswith("-"):
        raise ValueError(f"'{value.strip()}' is a pip option; put options in a requirements file")
    try:
        checked_requirement(value.strip(), None, None, None, None)  # the one requirement checker
    except SpecError as exc:
        raise ValueError(exc.message) from None
    # The requirement becomes a line of a requirements file, where pip joins a line ending in
    # `\` with the next one and cuts a line at ` #`; PEP 508 allows both inside a URL or a
    # marker string, so a valid requirement could still change the file around it.
    if value.rstrip().endswith("\\"):
        raise ValueError(f"invalid requirement {show(value)}: ends with '\\'")
    if re.search(r"\s#", value):
        raise ValueError(f"invalid requirement {show(value)}: ' #' starts a comment")
    return value


def _user(value: str) -> str:
    # uid_t is 32 bits and (uid_t)-1 means "no change": larger ids fail only at build time.
    for part in value.split(":"):
        if part.isdigit() and int(part) > 2**32 - 2:
            raise ValueError(f"invalid user {value!r}: id {part} is larger than 4294967294")
    return value


def _index_url(value: str) -> str:
    # `${NAME}` stands for a value that a build secret provides (`secrets`): the whole URL, or
    # a part of it such as the password (`https://user:${TOKEN}@host/simple`).
    if is_env_ref(value):
        return value
    if not re.fullmatch(r"(?:https?|file)://[^\s]+", ENV_REF.sub("x", value), re.ASCII):
        raise ValueError(
            f"invalid index URL {show(value)} (expected e.g. 'https://pypi.org/simple')"
        )
    return value


def _no_credentials(value: str) -> str:
    # Everything in the spec ends up in the image (RUN argv, build.json, labels): one shared
    # detector (util.secrets) decides what is a credential.
    kind = credential_in(value)
    if kind is not None:
        raise ValueError(
            f"{show(value)} holds {kind}, which would be stored in the image; {SECRET_HINT}"
        )
    return value


# Environment variables and labels imagec sets itself; a user value would silently lose.
RESERVED_ENV = frozenset({"IMAGEC_CONFIG_DIR"})
RESERVED_LABEL_PREFIX = "dev.imagec."


def _not_reserved_env(value: str) -> str:
    if value in RESERVED_ENV:
        raise ValueError(f"{value} is set by imagec (it points at the image's stack config)")
    return value


def _not_reserved_label(value: str) -> str:
    if value.lower().startswith(RESERVED_LABEL_PREFIX):
        raise ValueError(
            f"label {show(value)} is under {RESERVED_LABEL_PREFIX}*, which imagec sets itself"
        )
    return value


def _not_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("empty command; give a command, or leave the field out")
    return value


Text = Annotated[str, AfterValidator(_single_line)]
# References are single-line first, whatever the grammar check accepts.
ImageRef = Annotated[str, AfterValidator(_single_line), AfterValidator(check_reference)]
Repository = Annotated[str, AfterValidator(_single_line), AfterValidator(check_repository)]
Platform = Annotated[str, AfterValidator(_single_line), AfterValidator(check_platform)]
EnvName = Annotated[str, _pattern(r"[A-Za-z_][A-Za-z0-9_]*", "variable name", "MY_VAR")]
LabelKey = Annotated[
    str,
    _pattern(r"[A-Za-z0-9][A-Za-z0-9._/-]*", "label key", "org.example.team"),
    AfterValidator(_not_reserved_label),
]
ImageEnvName = Annotated[EnvName, AfterValidator(_not_reserved_env)]
# Debian's grammar: name, optional `:arch`, optional `=version` (starting with a digit, after
# an optional `epoch:`); none of it can start a shell word with `-` or hold a metacharacter.
_APT_PACKAGE = _pattern(
    r"[a-z0-9][a-z0-9+.-]+(:[a-z0-9][a-z0-9-]*)?(=[0-9][A-Za-z0-9.+~:-]*)?",
    "apt package",
    "libgomp1=12.2.0-14",
)
check_apt_package = _APT_PACKAGE.func  # for apt packages that come from integrations
AptPackage = Annotated[
    str,
    _APT_PACKAGE,
]
UserName = Annotated[
    str,
    _pattern(
        r"([a-z_][a-z0-9_-]{0,31}|[0-9]{1,10})(:([a-z_][a-z0-9_-]{0,31}|[0-9]{1,10}))?",
        "user",
        "app",
    ),
    AfterValidator(_user),
]
AbsPath = Annotated[str, _pattern(r"/[A-Za-z0-9._@+/-]*", "absolute path", "/app")]
PythonVersion = Annotated[str, _pattern(r"3\.[0-9]{1,2}", "python version", "3.11")]
RequirementStr = Annotated[str, AfterValidator(_requirement)]


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError(f"{show(', '.join(values))} names a platform twice")
    return values


PlatformEntry = Annotated[
    Annotated[Platform, Tag("single")]
    | Annotated[list[Platform], Field(min_length=1), AfterValidator(_unique), Tag("list")],
    Discriminator(lambda v: "single" if isinstance(v, str) else "list"),
]
CudaVersion = Annotated[str, _pattern(r"1[0-9]\.[0-9]{1,2}", "CUDA version", "12.4")]
CudnnVersion = Annotated[str, _pattern(r"[0-9]{1,2}", "cuDNN major version", "9")]
RelPath = Annotated[str, AfterValidator(_single_line), Field(min_length=1)]
InstallerArg = Annotated[str, AfterValidator(_single_line), AfterValidator(_no_credentials)]
IndexUrl = Annotated[
    str,
    AfterValidator(_single_line),
    AfterValidator(_index_url),
    AfterValidator(_no_credentials),
]
FindLink = Annotated[RelPath, AfterValidator(_no_credentials)]
IntegrationName = Annotated[
    str, _pattern(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", "integration name", "sklearn")
]
ShellCommand = Annotated[str, AfterValidator(_single_line), AfterValidator(_not_empty)]
# The id of a build secret (`--secret id=ID`, `RUN --mount=type=secret,id=ID`).
SecretId = Annotated[str, _pattern(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", "secret id", "pip_index")]


def _by_type(value: Any) -> str:
    return "path" if isinstance(value, str) else "list"


# Tags of the tagged unions below; they are dropped from error locations.
UNION_TAGS = frozenset({"path", "list", "shell", "exec", "table", "single"})

Requirements = Annotated[
    Annotated[list[RequirementStr], Tag("list")] | Annotated[RelPath, Tag("path")],
    Discriminator(_by_type),
]
Command = Annotated[
    Annotated[list[Text], Tag("exec")] | Annotated[ShellCommand, Tag("shell")],
    Discriminator(lambda v: "shell" if isinstance(v, str) else "exec"),
]


# Field factories as Python functions: pydantic reads a factory's signature, and for the
# builtins `list` and `dict` that means parsing their text signatures with the tokenizer
# (its regular expressions are compiled for it), a few ms of every start-up.
def _new_list() -> list[Any]:
    return []


def _new_dict() -> dict[str, Any]:
    return {}


def default_python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


class StrictModel(BaseModel):
    # strict: a value is taken as written, never coerced ("yes" is not a bool, 1 not a string),
    # so the model accepts exactly what the committed JSON Schema accepts.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# A build stage name (`FROM image AS NAME`, `--target NAME`), as BuildKit accepts it.
StageName = Annotated[str, _pattern(r"[A-Za-z][A-Za-z0-9_.-]{0,127}", "stage name", "runtime")]


class ParentDockerfile(StrictModel):
    """A Dockerfile of the user's, built first; its image is the base of imagec's steps."""

    path: RelPath = Field(description="The Dockerfile (relative to the spec file).")
    context: RelPath | None = Field(
        None,
        description="Its build context directory (relative to the spec file), filtered by "
        "that directory's `.containerignore` or `.dockerignore`. Default: the Dockerfile's "
        "directory.",
    )
    build_args: dict[EnvName, Text] = Field(
        default_factory=_new_dict,
        description="Build arguments of this build (`--build-arg`); part of its content hash.",
    )
    target: StageName | None = Field(
        None, description="Stage to build (`--target`). Default: the last stage."
    )


ParentDockerfileEntry = Annotated[
    Annotated[RelPath, Tag("path")] | Annotated[ParentDockerfile, Tag("table")],
    Discriminator(lambda v: "path" if isinstance(v, str) else "table"),
]


class BuildSecret(StrictModel):
    """A secret the install steps need; supplied at build time, never stored in the image."""

    id: SecretId = Field(
        description="Secret id, as in `imagec build --secret id=ID,src=FILE` (or `env=VAR`)."
    )
    description: Text = Field("", description="What the secret is for; shown when it is missing.")
    kind: Literal["env", "netrc"] = Field(
        "env",
        description="`env`: the install steps see the secret's content as the environment "
        "variable `env`, which `${NAME}` in `index_url`, `extra_index_urls` and requirements "
        "refers to. `netrc`: a netrc file the install steps use (pip, uv and git+https).",
    )
    env: EnvName | None = Field(
        None,
        description="Environment variable of an `env` secret. Default: the id in upper case, "
        "with `-` and `.` as `_`.",
    )

    @property
    def env_name(self) -> str | None:
        if self.kind != "env":
            return None
        return self.env or re.sub(r"[.-]", "_", self.id).upper()


# A build step's script may span lines (a YAML `|` block): the lowering writes it as one JSON
# string, where a line break is `\n`. Other characters of UNSAFE (controls, separators,
# bidirectional controls) are refused: they hide what a line of the spec says.
_SCRIPT_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\u061c\u200e\u200f"
    "\u202a-\u202e\u2066-\u2069]"
)
MAX_SCRIPT_LENGTH = 8192  # written as JSON with \uXXXX escapes, still within one 64 KiB line


def _script(value: str) -> str:
    m = _SCRIPT_UNSAFE.search(value)
    if m:
        raise ValueError(f"{unsafe_kind(m.group())} {m.group()!r} not allowed in {show(value)}")
    if len(value) > MAX_SCRIPT_LENGTH:
        raise ValueError(
            f"script longer than {MAX_SCRIPT_LENGTH} characters ({len(value)}); put it in a "
            "file of the source and run that file `after: source`"
        )
    return value


Script = Annotated[
    str, AfterValidator(_script), AfterValidator(_not_empty), AfterValidator(_no_credentials)
]
# BuildKit reads a mount as CSV `key=value` fields: a cache directory keeps to a safe alphabet.
CacheDir = Annotated[
    str, _pattern(r"/[A-Za-z0-9._/-]*", "cache directory", "/root/.cache/huggingface")
]
# Where a build step runs: after the system packages (and before the base-image check, so a
# step may bring Python itself), after the Python requirements, or after the source copy.
StepPoint = Literal["apt_packages", "requirements", "source"]


class BuildStep(StrictModel):
    """A shell command run while the image is built (Cog's `run`, Flyte's `commands`)."""

    run: Script = Field(
        description="Shell script run by `/bin/sh -c` exactly as written (several lines are "
        "one script); it is stored in the image's history, so it must hold no secret."
    )
    after: StepPoint = Field(
        "requirements",
        description="Where the step runs: after `apt_packages` (before the base-image check, "
        "so it may install Python), after the Python `requirements`, or after the `source` "
        "copy (in `workdir`).",
    )
    user: UserName | None = Field(
        None,
        description="User the step runs as; it must exist at that point (the image's `user` "
        "does: it is created before the first step that runs as it). Default: root.",
    )
    environment: dict[EnvName, Text] = Field(
        default_factory=_new_dict,
        description="Environment of this step only (not set in the image).",
    )
    secrets: list[SecretId] = Field(
        default_factory=_new_list,
        description="Ids of build `secrets` this step reads: an `env` secret as its "
        "environment variable, a `netrc` secret as `/root/.netrc`. Never stored in a layer.",
    )
    cache: list[CacheDir] = Field(
        default_factory=_new_list,
        description="Directories kept between builds (`RUN --mount=type=cache`), e.g. a "
        "download cache; what they hold is not in the image.",
    )


BuildStepEntry = Annotated[
    Annotated[Script, Tag("shell")] | Annotated[BuildStep, Tag("table")],
    Discriminator(lambda v: "shell" if isinstance(v, str) else "table"),
]


# Lock files and project metadata imagec can pin from, by file name (PEP 751 also allows
# `pylock.NAME.toml`); each is exported by its own tool (resolve/lockfiles/).
LOCK_FILE_NAMES = ("uv.lock", "poetry.lock", "pylock.toml", "pyproject.toml", "Pipfile.lock")
_PYLOCK_NAME = re.compile(r"pylock\.[^.\s/]+\.toml")


def _lock_file_path(value: str) -> str:
    name = value.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    if name not in LOCK_FILE_NAMES and not _PYLOCK_NAME.fullmatch(name):
        raise ValueError(
            f"{show(value)} is not a lock file imagec reads (file names: "
            f"{', '.join(LOCK_FILE_NAMES)}, pylock.NAME.toml)"
        )
    return value


LockPath = Annotated[RelPath, AfterValidator(_lock_file_path)]
# Extra and dependency-group names (PEP 685 / PEP 735); they become arguments of the tools.
GroupName = Annotated[
    str, _pattern(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,98}[A-Za-z0-9])?", "name", "gpu")
]


class LockFile(StrictModel):
    """A lock file with the optional parts of the project to install."""

    path: LockPath = Field(description="The lock file (relative to the spec file).")
    extras: list[GroupName] = Field(
        default_factory=_new_list,
        description="Optional-dependency groups (`[project.optional-dependencies]`, poetry "
        "extras) to install too.",
    )
    groups: list[GroupName] = Field(
        default_factory=_new_list,
        description="Dependency groups (PEP 735, poetry groups, Pipfile categories) to install "
        "too; development groups are left out unless named here.",
    )


LockFileEntry = Annotated[
    Annotated[LockPath, Tag("path")] | Annotated[LockFile, Tag("table")],
    Discriminator(lambda v: "path" if isinstance(v, str) else "table"),
]


class Spec(StrictModel):
    """A pipeline-image spec: what goes into the image and how it starts."""

    model_config = ConfigDict(
        title="imagec pipeline-image spec",
        json_schema_extra={"$id": "https://imagec.dev/schemas/imagec.schema.json"},
    )

    base_image: ImageRef | None = Field(
        None,
        description="Parent image. It must have Python and pip. Default: the official Python "
        "image for python_version, `python:X.Y-slim`.",
    )
    python_version: PythonVersion | None = Field(
        None,
        description="Python version (`3.11`) of the default base image. Default: the version "
        "of the Python running imagec.",
    )
    image_name: Repository | None = Field(
        None,
        description="Repository of the built image, tagged `<image_name>:<content hash>`. "
        "Default: `imagec/<name of the source root>`.",
    )
    requirements: Requirements = Field(
        default_factory=_new_list,
        description="pip requirements: a list of requirement strings, or the path of a "
        "requirements file (relative to the spec file). A list may also name requirements "
        "files with `-r path` entries.",
    )
    required_integrations: list[IntegrationName] = Field(
        default_factory=_new_list,
        description="Integrations whose pip requirements (and system packages) are installed.",
    )
    lock_files: list[LockFileEntry] = Field(
        default_factory=_new_list,
        description="Project dependencies pinned by a lock file: `uv.lock`, `poetry.lock`, "
        "`pylock.toml`, `Pipfile.lock`, or a `pyproject.toml` resolved at compile time. Each "
        "is exported by its own tool into a hash-pinned requirements file, installed after "
        "the integrations and before `requirements`. An entry is a path or "
        "`{path, extras, groups}`.",
    )
    install_stack_requirements: bool = Field(
        True,
        description="Install the integrations that the active stack's components need.",
    )
    apt_packages: list[AptPackage] = Field(
        default_factory=_new_list, description="Debian packages installed with apt-get."
    )
    environment: dict[ImageEnvName, Text] = Field(
        default_factory=_new_dict, description="Environment variables set in the image."
    )
    build_args: dict[EnvName, Text] = Field(
        default_factory=_new_dict,
        description="Build arguments (`ARG NAME=default`), overridable at build time.",
    )
    labels: dict[LabelKey, Text] = Field(
        default_factory=_new_dict, description="Image labels, e.g. OCI annotations."
    )
    user: UserName | None = Field(
        None,
        description="User that runs the image (name or uid[:gid]); a named user is created "
        "when missing. Default: the base image's user.",
    )
    workdir: AbsPath = Field("/app", description="Working directory; the source is copied here.")
    entrypoint: Command | None = Field(
        None,
        description="ENTRYPOINT: a list (exec form) or a string (run by /bin/sh -c).",
    )
    command: Command | None = Field(
        None,
        description="CMD: a list (exec form) or a string (run by /bin/sh -c). Default for a "
        "decorated pipeline: run that pipeline.",
    )
    platform: PlatformEntry | None = Field(
        None,
        description="Target platform, `os/arch[/variant]`, e.g. `linux/amd64`, or a list of "
        "them for a multi-platform image (a manifest list; the `FROM` then has no "
        "`--platform`, so each platform gets its own base).",
    )
    source_root: RelPath | None = Field(
        None,
        description="Directory whose contents are copied into the image. Default: the "
        "enclosing imagec repository (`.imagec/`), else the spec file's directory.",
    )
    dockerignore_file: RelPath | None = Field(
        None,
        description="Ignore file to apply to the source root. Default: `.dockerignore` (or "
        "`.containerignore`) in the source root.",
    )
    dockerfile: ParentDockerfileEntry | None = Field(
        None,
        description="A Dockerfile to build first, whose image is the base of imagec's steps "
        "(instead of `base_image`): a path, or `{path, context, build_args, target}`. It is "
        "tagged `<image_name>-parent:<content hash>` and rebuilt only when it, its context or "
        "its build arguments change.",
    )
    skip_build: bool = Field(
        False,
        description="Use `base_image` as it is: build nothing. `imagec build` checks that the "
        "image has Python, imagec's runtime (for a decorated pipeline) and the requirements, "
        "and reports what is missing.",
    )
    copy_source: bool = Field(True, description="Copy the source root into the image.")
    copy_stack: bool = Field(
        True, description="Copy the active stack configuration into the image."
    )
    install_imagec: bool = Field(
        True,
        description="Install imagec's runtime (same version as the compiling imagec) into the "
        "image. Turn off for base images that already have it.",
    )
    install_project: bool = Field(
        False,
        description="After the source copy, install the source root as a package, without "
        "its dependencies (`pip install --no-deps .`, or uv's equivalent), so `import "
        "myproject` works; its dependencies come from `requirements` or `lock_files`. An "
        "`-e .` in a requirement source turns it on.",
    )
    replicate_local_python_environment: bool = Field(
        False,
        description="Freeze the Python environment imagec runs in (what `pip freeze` shows) "
        "into a requirement layer, after the integrations and before lock files and "
        "`requirements`. Left out: imagec and its backends, installers and build tools "
        "(pip, setuptools, wheel, uv, ...), and editable or local-path installs (with a note).",
    )
    installer: Literal["pip", "uv"] = Field(
        "uv",
        description="Tool that installs the requirements: `uv` (pinned, installed by pip from "
        "the spec's index in a layer of its own) or `pip`. A requirements file with options "
        "only pip reads (per-requirement `--global-option`, `--config-settings`) is installed "
        "with pip either way.",
    )
    installer_cache_mount: bool = Field(
        True,
        description="Give pip and uv a build cache mount (`RUN --mount=type=cache`), so a "
        "rebuild downloads only what changed. Needs BuildKit or Podman; "
        "`imagec build --no-cache-mount` turns it off for one build.",
    )
    secrets: list[BuildSecret] = Field(
        default_factory=_new_list,
        description="Build secrets the install steps need (a private index URL, a netrc, a "
        "token), supplied with `imagec build --secret id=ID,src=FILE` or `id=ID,env=VAR`. They "
        "are mounted into the install steps only, never written to a layer or a label.",
    )
    index_url: IndexUrl | None = Field(
        None,
        description="Package index URL (`--index-url`). `${NAME}` refers to a secret whose "
        "`env` is NAME, resolved inside the install steps.",
    )
    extra_index_urls: list[IndexUrl] = Field(
        default_factory=_new_list, description="Extra package index URLs (`--extra-index-url`)."
    )
    find_links: list[FindLink] = Field(
        default_factory=_new_list,
        description="`--find-links` locations: URLs, or local directories (relative to the "
        "spec file) that are copied into the build context.",
    )
    installer_args: list[InstallerArg] = Field(
        default_factory=_new_list,
        description="Extra arguments passed to every install command, e.g. `--pre`.",
    )
    build_steps: list[BuildStepEntry] = Field(
        default_factory=_new_list,
        description="Shell commands run during the build, each a layer of its own: a string, "
        "or `{run, after, user, environment, secrets, cache}`. `after` places it after "
        "`apt_packages`, `requirements` (the default) or `source`.",
    )
    managed_python: bool = Field(
        False,
        description="Install the Python of `python_version` with uv (a standalone build) "
        "into a base image that has none, with pip, as `python` and `python3` on PATH. Set by "
        "`cuda`. uv downloads it from python-build-standalone's releases, or where uv's "
        "`UV_PYTHON_INSTALL_MIRROR` and `UV_PYTHON_DOWNLOADS_JSON_URL` say: build args, or "
        "secrets of those names for URLs with credentials (a `netrc` secret works too).",
    )
    cuda: CudaVersion | None = Field(
        None,
        description="CUDA version (`12.4`): the base image is NVIDIA's official CUDA runtime "
        "image of that version (Ubuntu) and Python comes from `managed_python`. Not with "
        "`base_image`.",
    )
    cudnn: CudnnVersion | None = Field(
        None, description="cuDNN major version (`9`) of the `cuda` base image. Needs `cuda`."
    )
    runtime_environment: dict[ImageEnvName, Text] = Field(
        default_factory=_new_dict,
        description="Environment variables set after every install and build step, so only "
        "the running container sees them (`environment` is seen by the build too).",
    )

    @property
    def effective_python_version(self) -> str:
        return self.python_version or default_python_version()

    @property
    def parent_dockerfile(self) -> ParentDockerfile | None:
        """``dockerfile`` as a table, whichever way it was written."""
        if isinstance(self.dockerfile, str):
            return ParentDockerfile(path=self.dockerfile)
        return self.dockerfile

    @property
    def platforms(self) -> tuple[str, ...]:
        """``platform`` as a tuple, whichever way it was written (empty when unset)."""
        if self.platform is None:
            return ()
        return (self.platform,) if isinstance(self.platform, str) else tuple(self.platform)

    @property
    def single_platform(self) -> str | None:
        """The one target platform, or None when there is none or there are several."""
        return self.platforms[0] if len(self.platforms) == 1 else None

    @property
    def effective_base_image(self) -> str:
        return self.base_image or f"python:{self.effective_python_version}-slim"


FIELD_NAMES = tuple(Spec.model_fields)
