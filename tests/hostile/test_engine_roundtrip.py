"""A real build: adversarial ENV, LABEL, ARG, WORKDIR, USER, COPY, ENTRYPOINT and CMD values
come back from the image exactly (podman builds through buildah's own Dockerfile reader,
dockerd through moby's, so two implementations check the quoting)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.baseimages import BaseImages
from support.containers import ImageTags, run_container
from support.engines import Engine

from imagec.backend.containerfile import render
from imagec.plan.ir import Arg, Cmd, Copy, Entrypoint, Env, From, Label, Origin, Plan, User, Workdir

pytestmark = pytest.mark.engine

ORIGIN = Origin("test")
VALUES = {
    "DOLLAR": "$HOME ${HOME} ${X:-default} $$ \\$",
    "QUOTES": "double \" single ' back ` mixed \"'",
    "BACKSLASH_END": "ends with \\",
    "BACKSLASHES": '\\\\ \\n \\t \\" \\$HOME',
    "HEREDOC": "<<EOF cat <<-END",
    "COMMENT": "# syntax=docker/dockerfile:1 # escape=`",
    "SPACES": "  leading and trailing  ",
    "EMPTY": "",
    "EQUALS": "a=b=c",
    "UNICODE": "\ufeffbom ünïcödé 😀 \u00a0nbsp \u3000",
}
WORKDIR = "/w d/$HOME/\"q\"/'s'/x\\y"
COPIED = "we$ird \"name\" 'x'.txt"


def _build(engine: Engine, context: Path, tag: str) -> Any:
    kwargs: dict[str, Any] = {"path": str(context), "tag": tag, "rm": True, "forcerm": True}
    kwargs["dockerfile"] = "Containerfile"
    if engine.kind == "docker":
        kwargs["network_mode"] = engine.network_mode
    image, _ = engine.client().images.build(**kwargs)
    return image


def test_adversarial_values_reach_the_image_exactly(
    engine: Engine, engine_images: BaseImages, image_tags: ImageTags, tmp_path: Path
) -> None:
    plan = Plan(
        steps=(
            From(ORIGIN, engine_images.python),
            Arg(ORIGIN, "ARG_VALUE", VALUES["DOLLAR"] + VALUES["BACKSLASH_END"]),
            Env(ORIGIN, tuple(VALUES.items())),
            Label(ORIGIN, tuple((f"test.{k.lower()}", v) for k, v in VALUES.items())),
            Workdir(ORIGIN, WORKDIR),
            Copy(ORIGIN, (COPIED,), WORKDIR + "/"),
            User(ORIGIN, "1234:5678"),
            Entrypoint(
                ORIGIN, ("python", "-c", "import sys; print(sys.argv[1:])", *VALUES.values())
            ),
            Cmd(ORIGIN, (VALUES["QUOTES"], VALUES["BACKSLASH_END"])),
        )
    )
    text = render(plan)
    # Read the ARG back through an ENV written by hand (imagec's own ENV never expands).
    text += "ENV FROM_ARG=${ARG_VALUE}\n"
    (tmp_path / "Containerfile").write_text(text, encoding="utf-8")
    (tmp_path / COPIED).write_text("copied\n")

    image = _build(engine, tmp_path, image_tags.new(engine))
    config = image.attrs["Config"]
    env = dict(item.split("=", 1) for item in config["Env"])
    for key, value in VALUES.items():
        assert env[key] == value, key
    assert env["FROM_ARG"] == VALUES["DOLLAR"] + VALUES["BACKSLASH_END"]
    labels = config["Labels"] or {}
    for key, value in VALUES.items():
        assert labels[f"test.{key.lower()}"] == value, key
    assert config["WorkingDir"] == WORKDIR
    assert config["User"] == "1234:5678"
    assert config["Entrypoint"] == [
        "python",
        "-c",
        "import sys; print(sys.argv[1:])",
        *VALUES.values(),
    ]
    assert config["Cmd"] == [VALUES["QUOTES"], VALUES["BACKSLASH_END"]]

    listing = run_container(
        engine,
        image.id,
        [json.dumps([WORKDIR, COPIED])],
        entrypoint=["python", "-c", "import json, os, sys; d, f = json.loads(sys.argv[1]); "
                    "print(open(os.path.join(d, f)).read(), end='')"],
        user="0",
    )  # fmt: skip
    assert listing.stdout == "copied\n"
