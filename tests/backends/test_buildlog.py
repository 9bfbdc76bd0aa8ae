"""Reading engine build logs and shaping their failures (no engine needed).

The message sequences are what dockerd 20.10 (classic builder) and podman 4.3 sent for the
same Containerfile.
"""

from __future__ import annotations

import io

from imagec.backend.engine.buildlog import BuildLog
from imagec.backend.engine.progress import Progress, choose_mode

DOCKER_OK = [
    {"stream": "Step 1/3 : FROM python:3.11-slim"},
    {"stream": "\n"},
    {"stream": " ---> f4ebed3043ec\n"},
    {"stream": "Step 2/3 : ENV A=1"},
    {"stream": "\n"},
    {"stream": " ---> Using cache\n"},
    {"stream": " ---> 07e2e0e2d2e8\n"},
    {"stream": 'Step 3/3 : RUN ["/bin/sh","-c","echo hello; echo err >&2"]'},
    {"stream": "\n"},
    {"stream": " ---> Running in ca4e89861624\n"},
    {"stream": "\x1b[91merr\n\x1b[0m"},
    {"stream": "hello\n"},
    {"stream": "Removing intermediate container ca4e89861624\n"},
    {"stream": " ---> 2702577f35a4\n"},
    {"aux": {"ID": "sha256:" + "ab" * 32}},
    {"stream": "Successfully built 2702577f35a4\n"},
]
PODMAN_OK = [
    {"stream": "STEP 1/3: FROM python:3.11-slim\n"},
    {"stream": "STEP 2/3: ENV A=1\n"},
    {
        "stream": "--> Using cache 9dc1e840d65fde09d7971a429a1c210a901c6dae2576223a1048"
        + "42f5f1f42c30\n"
    },
    {"stream": "--> 9dc1e840d65\n"},
    {"stream": 'STEP 3/3: RUN ["/bin/sh","-c","echo hello; echo err >&2"]\n'},
    {"stream": "hello\nerr\n"},
    {"stream": "COMMIT\n"},
    {"stream": "--> b78c60654c6\n"},
    {"stream": "cd" * 32 + "\n"},
]
DOCKER_FAIL = [
    {"stream": "Step 1/2 : FROM python:3.11-slim\n"},
    {"stream": 'Step 2/2 : RUN ["/bin/sh","-c","echo line1; echo line2; exit 3"]\n'},
    {"stream": " ---> Running in 37fef8b5f607\n"},
    {"stream": "line1\nline2\n"},
    {"stream": "Removing intermediate container 37fef8b5f607\n"},
    {
        "errorDetail": {
            "code": 3,
            "message": "The command '/bin/sh -c echo line1; echo line2; exit 3' "
            "returned a non-zero code: 3",
        },
        "error": "The command '/bin/sh -c ...' returned a non-zero code: 3",
    },
]
PODMAN_FAIL = [
    {"stream": "STEP 1/2: FROM python:3.11-slim\n"},
    {"stream": 'STEP 2/2: RUN ["/bin/sh","-c","echo line1; echo line2; exit 3"]\n'},
    {"stream": "line1\nline2\n"},
    {
        "errorDetail": {
            "message": 'building at STEP "RUN /bin/sh -c echo line1; echo line2; exit 3": '
            "while running runtime: exit status 3\n"
        },
        "error": "building at STEP ...: exit status 3\n",
    },
]


def read(messages: list[dict], origins: tuple[str, ...] = ()) -> tuple[BuildLog, list]:
    events: list = []
    log = BuildLog(lambda kind, value: events.append((kind, value)), origins=origins)
    for message in messages:
        log.feed(message)
    log.finish()
    return log, events


def test_docker_log_steps_cache_output_and_id():
    log, events = read(DOCKER_OK)
    assert [(s.number, s.total, s.cached) for s in log.steps] == [
        (1, 3, False),
        (2, 3, True),
        (3, 3, False),
    ]
    assert log.steps[2].instruction == 'RUN ["/bin/sh","-c","echo hello; echo err >&2"]'
    assert list(log.steps[2].output) == ["err", "hello"]  # colour codes stripped
    assert log.steps[2].layer == "2702577f35a4"
    assert log.image_id == "sha256:" + "ab" * 32
    assert log.error is None
    assert ("output", "hello") in events
    assert not any(kind == "output" and "Removing" in value for kind, value in events)


def test_podman_log_steps_cache_output_and_id():
    log, _ = read(PODMAN_OK)
    assert [(s.number, s.cached) for s in log.steps] == [(1, False), (2, True), (3, False)]
    assert list(log.steps[2].output) == ["hello", "err"]
    assert log.image_id == "sha256:" + "cd" * 32


def test_step_lines_split_across_messages_are_joined():
    log, _ = read([{"stream": "Ste"}, {"stream": "p 1/1 : FROM x"}, {"stream": "\n"}])
    assert [(s.number, s.instruction) for s in log.steps] == [(1, "FROM x")]


def test_failure_names_step_instruction_origin_exit_code_and_output_tail():
    for messages in (DOCKER_FAIL, PODMAN_FAIL):
        log, _ = read(messages, origins=("default base image", "requirements (imagec.yaml:4)"))
        error = str(log.failure("docker"))
        head, *tail = error.splitlines()
        assert head == (
            'step 2/2 failed: RUN ["/bin/sh","-c","echo line1; echo line2; exit 3"] '
            "(from requirements (imagec.yaml:4)): exit code 3"
        )
        assert tail == ["  | line1", "  | line2"]
        assert log.failure("docker").exit_code == 1


def test_failure_shows_an_install_steps_command_without_its_mounts():
    run = (
        "RUN --mount=type=secret,id=pip_index --mount=type=cache,target=/root/.cache/pip "
        "--mount=type=bind,source=imagec/requirements/1-list.txt,target=/imagec/requirements/"
        'ab/1-list.txt ["python", "-m", "pip", "install", "-r", '
        '"/imagec/requirements/ab/1-list.txt"]'
    )
    messages = [PODMAN_FAIL[0], {"stream": f"STEP 2/2: {run}\n"}, *PODMAN_FAIL[2:]]
    log, _ = read(messages)
    head = str(log.failure("podman")).splitlines()[0]
    assert head == (
        'step 2/2 failed: RUN ["python", "-m", "pip", "install", "-r", '
        '"/imagec/requirements/ab/1-list.txt"]: exit code 3'
    )


def test_failure_without_exit_code_keeps_the_engine_message():
    log, _ = read(
        [
            {"stream": 'Step 1/1 : COPY ["src/", "/app/"]\n'},
            {"error": "COPY failed: file not found in build context\nmore"},
        ]
    )
    assert str(log.failure("docker")) == (
        'step 1/1 failed: COPY ["src/", "/app/"]: COPY failed: file not found in build context'
    )


def test_failure_before_any_step():
    log, _ = read([{"error": "dockerfile parse error line 1: unknown instruction: FOO"}])
    assert str(log.failure("podman")) == (
        "podman build failed: dockerfile parse error line 1: unknown instruction: FOO"
    )


def test_origins_are_used_only_when_they_match_the_build_file():
    # Two engine-added LABEL steps after the plan's own three.
    log, _ = read([{"stream": "Step 2/5 : ENV A=1\n"}], origins=("a", "b", "c"))
    assert log.origin_of(log.steps[0]) == "b"
    log, _ = read([{"stream": "Step 5/5 : LABEL x=1\n"}], origins=("a", "b", "c"))
    assert log.origin_of(log.steps[0]) is None
    log, _ = read([{"stream": "Step 2/2 : ENV A=1\n"}], origins=("a", "b", "c"))
    assert log.origin_of(log.steps[0]) is None  # some other build file


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_modes():
    assert choose_mode(True, FakeTTY()) == "quiet"
    assert choose_mode(False, FakeTTY()) == "tty"
    assert choose_mode(False, io.StringIO()) == "plain"


def test_plain_progress_prints_the_engine_lines():
    out = io.StringIO()
    progress = Progress("docker", "plain", out)
    read_with(progress, DOCKER_OK)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Step 1/3 : FROM python:3.11-slim"
    assert " ---> Using cache" in lines
    assert "hello" in lines


def test_tty_progress_is_one_line_per_step_with_cache_hits_and_a_summary():
    out = FakeTTY()
    progress = Progress("podman", "tty", out)
    read_with(progress, PODMAN_OK)
    progress.done(ok=True)
    screen = render_terminal(out.getvalue())
    assert screen[0].startswith("[podman] 1/3  ")
    assert screen[1].startswith("[podman] 2/3  cached  ENV A=1")
    assert screen[2].startswith("[podman] 3/3  ") and "RUN [" in screen[2]
    assert screen[3].startswith("[podman] 3 steps, 1 from cache, ")
    assert len(screen) == 4


def test_quiet_progress_prints_nothing():
    out = FakeTTY()
    progress = Progress("docker", "quiet", out)
    read_with(progress, DOCKER_OK)
    progress.note("pushing x")
    progress.done(ok=True)
    assert out.getvalue() == ""


def read_with(progress: Progress, messages: list[dict]) -> BuildLog:
    log = BuildLog(progress.event)
    for message in messages:
        log.feed(message)
    log.finish()
    return log


def render_terminal(text: str) -> list[str]:
    """What a terminal shows: ``\\r`` returns to the line start, ``ESC[K`` erases it."""
    lines: list[str] = []
    current = ""
    for part in text.replace("\x1b[K", "").split("\n"):
        current = part.split("\r")[-1]
        lines.append(current)
    return [line for line in lines if line]
