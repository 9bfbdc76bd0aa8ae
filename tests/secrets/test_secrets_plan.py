"""Secrets and cache mounts without an engine: the spec checks, the emitted RUN --mount lines,
the --secret flag, the classic-builder fallback, the export README, and the two engine
adapters' stream handling (podman's context splice, BuildKit's plain progress)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from support.cli import run_imagec

from imagec.errors import SpecError
from imagec.project import load_project
from imagec.resolve.secrets import parse_secret_flag

SPEC = """\
base_image: python:3.11-slim
installer: pip
install_imagec: false
copy_source: false
install_stack_requirements: false
index_url: ${PIP_INDEX_URL}
extra_index_urls: ["https://u:${TOK}@extra.example/simple", "https://pypi.org/simple"]
secrets:
  - {id: pip_index, env: PIP_INDEX_URL, description: private index}
  - {id: tok}
  - {id: netrc, kind: netrc}
requirements: [probe-a]
"""


def write(tmp_path: Path, text: str = SPEC) -> Path:
    spec = tmp_path / "imagec.yaml"
    spec.write_text(text)
    return spec


def test_install_steps_mount_exactly_the_secrets(tmp_path: Path) -> None:
    result = run_imagec("compile", str(write(tmp_path)))
    assert result.returncode == 0, result.stderr
    runs = [ln for ln in result.stdout.splitlines() if ln.startswith("RUN ")]
    mounting = [ln for ln in runs if "--mount=type=secret" in ln]
    assert len(mounting) == 1  # the one install step; the base check mounts nothing
    line = mounting[0]
    assert line.startswith(
        "RUN --mount=type=secret,id=pip_index --mount=type=secret,id=tok "
        "--mount=type=secret,id=netrc,target=/root/.netrc "
        "--mount=type=cache,target=/root/.cache/pip "
        "--mount=type=bind,source=imagec/requirements/1-list.txt,target=/imagec/requirements/"
    )
    argv = json.loads(line[line.index(' ["') + 1 :])
    script = argv[2]
    assert 'PIP_INDEX_URL="$(cat /run/secrets/pip_index)"' in script
    assert 'TOK="$(cat /run/secrets/tok)"' in script
    # Both extra URLs go through the variable: an option would replace it, not add to it.
    assert (
        'PIP_EXTRA_INDEX_URL="https://u:${TOK}@extra.example/simple https://pypi.org/simple"'
        in (script)
    )
    assert "--index-url" not in argv and "--extra-index-url" not in argv
    assert argv[3:8] == ["imagec-install", "python", "-m", "pip", "install"]


def test_no_cache_mount_restores_no_cache_dir(tmp_path: Path) -> None:
    project = load_project(str(write(tmp_path)), no_cache_mount=True)
    text = "\n".join(str(s) for s in project.plan.steps)
    assert "type='cache'" not in text and "--no-cache-dir" in text


def test_cache_mount_keeps_pip_cache_off_in_the_image(tmp_path: Path) -> None:
    spec = write(
        tmp_path, "base_image: python:3.11-slim\ninstaller: pip\nrequirements: [probe-a]\n"
    )
    lines = run_imagec("compile", str(spec)).stdout.splitlines()
    install = next(i for i, ln in enumerate(lines) if '"-r", "/imagec/requirements/' in ln)
    # The install names the mounted cache, which wins over the image's PIP_NO_CACHE_DIR.
    assert lines[install].startswith("RUN --mount=type=cache,target=/root/.cache/pip ")
    assert (
        '"python", "-m", "pip", "install", "--cache-dir", "/root/.cache/pip", "-r"'
        in (lines[install])
    )
    # Set once, with the defaults before the installs: no layer of its own after them.
    envs = [i for i, ln in enumerate(lines) if ln.startswith("ENV ")]
    assert 'PIP_NO_CACHE_DIR="1"' in lines[envs[0]] and envs[0] < install
    assert not any("PIP_NO_CACHE_DIR" in lines[i] for i in envs[1:])


def test_uv_installer_gets_its_own_cache_and_variables(tmp_path: Path) -> None:
    result = run_imagec(
        "compile", str(write(tmp_path, SPEC.replace("installer: pip", "installer: uv")))
    )
    assert result.returncode == 0, result.stderr
    uv = next(ln for ln in result.stdout.splitlines() if '"uv", "pip", "install"' in ln)
    assert "--mount=type=cache,target=/root/.cache/uv" in uv
    assert 'UV_INDEX_URL=\\"${PIP_INDEX_URL}\\"' in uv and '"--link-mode", "copy"' in uv
    bootstrap = next(ln for ln in result.stdout.splitlines() if '"uv==' in ln)
    assert "--mount=type=secret,id=pip_index" in bootstrap  # uv comes from the same index


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("index_url: ${NOPE}\n", "${NOPE} is not provided by any secret"),
        ("secrets: [{id: a}, {id: a}]\n", "secret id 'a' is declared twice"),
        ("secrets: [{id: n, kind: netrc, env: X}]\n", "a netrc secret is a file"),
        ("secrets: [{id: 'a b'}]\n", "invalid secret id"),
    ],
)
def test_bad_secret_declarations(tmp_path: Path, extra: str, message: str) -> None:
    spec = write(tmp_path, "base_image: python:3.11-slim\n" + extra)
    result = run_imagec("compile", str(spec))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id=a,src=/f", ("a", "/f", None)),
        ("id=a,source=/f,type=file", ("a", "/f", None)),
        ("id=a,env=VAR", ("a", None, "VAR")),
        ("id=a", ("a", None, "a")),
        ("id=a,type=file", ("a", "a", None)),
    ],
)
def test_secret_flag_syntax(text: str, expected: tuple) -> None:
    flag = parse_secret_flag(text)
    assert (flag.id, flag.src, flag.env) == expected


@pytest.mark.parametrize("text", ["src=/f", "id=a,src=/f,env=X", "id=a,bogus=1", "id=a,type=ssh"])
def test_bad_secret_flags(text: str) -> None:
    with pytest.raises(SpecError):
        parse_secret_flag(text)


def test_classic_builder_refuses_secrets_before_the_engine(tmp_path: Path) -> None:
    secret = tmp_path / "s"
    secret.write_text("http://u:p@h/simple")
    result = run_imagec(
        "build", str(write(tmp_path)), "--backend", "docker", "-O", "builder=classic",
        "--url", f"unix://{tmp_path}/none.sock", "--secret", f"id=pip_index,src={secret}",
        "--secret", f"id=tok,src={secret}", "--secret", f"id=netrc,src={secret}",
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "build secrets need BuildKit" in result.stderr


def test_classic_builder_cache_mount_goes_to_the_unsupported_policy(tmp_path: Path) -> None:
    spec = write(tmp_path, "base_image: python:3.11-slim\nrequirements: [probe-a]\n")
    args = ["build", str(spec), "--backend", "docker", "-O", "builder=classic"]
    args += ["--url", f"unix://{tmp_path}/none.sock"]
    refused = run_imagec(*args)
    assert refused.returncode == 2
    assert "cache mounts need BuildKit" in refused.stderr
    # Under `warn` the step loses its cache and the build goes on (to the missing engine).
    warned = run_imagec(*args, "--on-unsupported", "warn")
    assert "cache mounts need BuildKit (the classic builder is used); left out" in warned.stderr
    assert warned.returncode == 1 and "none.sock" in warned.stderr


def test_export_readme_shows_the_secret_flags(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_imagec("export", str(write(tmp_path)), "-o", str(out))
    assert result.returncode == 0, result.stderr
    readme = (out / "README.md").read_text()
    flags = "--secret id=pip_index,src=FILE --secret id=tok,src=FILE --secret id=netrc,src=FILE"
    build_file = next(p for p in ("Containerfile", "Dockerfile") if (out / p).is_file())
    assert f"DOCKER_BUILDKIT=1 docker build -f {build_file} {flags}" in readme
    assert f"podman build -f {build_file} {flags}" in readme
    assert "private index" in readme
    assert "--mount=type=secret,id=pip_index" in (out / build_file).read_text()


def test_podman_splices_secrets_before_the_end_of_the_archive(tmp_path: Path) -> None:
    from imagec_podman.secrets import secret_members, splice

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in [("a", b"x" * 1000), ("empty", b""), ("zeros", b"\0" * 1024)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = raw.getvalue()
    secret = tmp_path / "s"
    secret.write_text("tok")
    names, members = secret_members({"pip_index": str(secret)})
    out = b"".join(splice((data[i : i + 7] for i in range(0, len(data), 7)), members))
    with tarfile.open(fileobj=io.BytesIO(out)) as tar:
        got = [(m.name, m.size) for m in tar.getmembers()]
        last = tar.extractfile(tar.getmembers()[-1]).read()
    assert got[:3] == [("a", 1000), ("empty", 0), ("zeros", 1024)]
    assert last == b"tok" and names == [f"id=pip_index,src={got[3][0]}"]


PLAIN = """\
#1 [internal] load build definition from Containerfile
#1 DONE 0.0s
#5 [1/3] FROM docker.io/library/python:3.11-slim
#5 DONE 0.0s
#6 [2/3] RUN ["/bin/sh", "-c", "true"]
#6 CACHED
#7 [stage-0  3/3] RUN ["/bin/sh", "-c", "echo hi; exit 3"]
#7 0.214 hi
#7 ERROR: executor failed running [/bin/sh -c echo hi; exit 3]: exit code: 3
------
error: failed to solve: executor failed running [/bin/sh -c echo hi; exit 3]: exit code: 3
"""

CONTAINERFILE = """\
FROM python:3.11-slim
ENV A="1"
RUN ["/bin/sh", "-c", "true"]
LABEL x="y"
RUN ["/bin/sh", "-c", "echo hi; exit 3"]
"""


def test_buildkit_plain_progress_reads_as_the_classic_log() -> None:
    from imagec_docker.buildkit import PlainProgress

    from imagec.backend.engine.buildlog import BuildLog

    progress = PlainProgress(CONTAINERFILE)
    log = BuildLog(origins=["from", "env", "run1", "label", "run2"])
    for line in PLAIN.splitlines():
        for message in progress.feed(line):
            log.feed(message)
    log.feed(progress.failure(1, []))
    log.finish()
    assert [(s.number, s.total, s.cached) for s in log.steps] == [
        (1, 5, False),
        (3, 5, True),
        (5, 5, False),
    ]
    err = str(log.failure("docker"))
    assert err.startswith('step 5/5 failed: RUN ["/bin/sh", "-c", "echo hi; exit 3"] (from run2)')
    assert ": exit code 3" in err and "| hi" in err


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ("environment:\n  HF_TOKEN: abcdefghijklmnop\n", "environment.HF_TOKEN"),
        ("build_args:\n  X: ghp_abcdefghijklmnopqrstuvwxyz0123\n", "build_args.X"),
    ],
)
def test_credentials_in_build_host_values_show_both_ways(
    tmp_path: Path, extra: str, where: str
) -> None:
    result = run_imagec("compile", str(write(tmp_path, "base_image: python:3.11-slim\n" + extra)))
    assert result.returncode == 2
    assert f"imagec.yaml:3: {where}: " in result.stderr  # the line of the value
    assert "--secret id=" in result.stderr and "docker run -e" in result.stderr
    assert "abcdefghijklmnop" not in result.stderr and "ghp_" not in result.stderr


def test_references_and_plain_values_pass(tmp_path: Path) -> None:
    extra = "environment:\n  HF_TOKEN: ${HF_TOKEN}\n  MODE: train\n"
    result = run_imagec("compile", str(write(tmp_path, "base_image: python:3.11-slim\n" + extra)))
    assert result.returncode == 0, result.stderr


def test_a_build_steps_secret_stays_out_of_the_installs(tmp_path: Path) -> None:
    """Installs run packages' build code: a token a build step names is that step's alone,
    unless an index URL or a requirement refers to it."""
    text = SPEC.replace("  - {id: netrc, kind: netrc}\n", "  - {id: hf, env: HF_TOKEN}\n")
    text += "build_steps:\n"
    text += "  - {run: fetch-weights, secrets: [hf], after: source}\n"
    text += "  - {run: pip download x, secrets: [tok]}\n"
    spec = write(tmp_path, text)
    result = run_imagec("compile", str(spec))
    assert result.returncode == 0, result.stderr
    runs = [ln for ln in result.stdout.splitlines() if ln.startswith("RUN ")]
    installs = [ln for ln in runs if "imagec-install" in ln]
    assert installs
    for line in installs:
        assert "id=hf" not in line and "HF_TOKEN" not in line
        # ${TOK} is in an extra index URL: the installs keep it though a step names it too.
        assert "--mount=type=secret,id=tok " in line
    (step,) = [ln for ln in runs if "fetch-weights" in ln]
    assert "--mount=type=secret,id=hf " in step and "HF_TOKEN" in step


def test_classic_builder_copies_what_buildkit_would_bind(tmp_path: Path) -> None:
    from imagec_docker import DockerBackend, classic_plan

    from imagec.backend.containerfile import render
    from imagec.plan.ir import Copy, Run
    from imagec.project import build_for

    spec = write(tmp_path, "base_image: python:3.11-slim\nrequirements: [probe-a]\n")
    backend = DockerBackend(unsupported="warn")
    build = build_for(load_project(str(spec)), backend)
    (install,) = [s for s in build.plan.steps if isinstance(s, Run) and "-r" in s.argv]
    (bind,) = [m for m in install.mounts if m.type == "bind"]
    plan = classic_plan(backend, build)
    at = next(i for i, s in enumerate(plan.steps) if isinstance(s, Run) and "-r" in s.argv)
    assert plan.steps[at - 1] == Copy(install.origin, (bind.source,), bind.target)
    assert plan.steps[at].mounts == () and plan.steps[at].argv == install.argv
    assert "--mount" not in render(plan, comments=False)
