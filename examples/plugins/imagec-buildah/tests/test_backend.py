"""The plugin's own tests: run them with the plugin installed (``pip install -e '.[test]'``)."""

from __future__ import annotations

import pytest
from imagec_buildah import BuildahBackend

from imagec.errors import SpecError
from imagec.plan.ir import Copy, From, Mount, Origin, Plan, Run
from imagec.plugins import Plugins

PLAN = Plan(
    steps=(
        From(Origin("base_image", "imagec.yaml", 1), "python:3.11-slim"),
        Copy(Origin("copy_source", "imagec.yaml", 2), ("src/",), "/app/"),
        Run(Origin("command", "imagec.yaml", 3), ("python", "-c", "print('it works')")),
    )
)


def test_imagec_finds_the_backend_through_its_entry_point():
    plugins = Plugins()
    plugins.load_entry_points()
    assert plugins.backend("buildah") is BuildahBackend
    assert plugins.info["buildah"].distribution == "imagec-buildah"
    assert plugins.failures == []


def test_the_script_quotes_every_value():
    script = BuildahBackend().render(PLAN)
    assert "ctr=$(buildah from --pull=missing python:3.11-slim)" in script
    assert 'buildah copy --quiet "$ctr" src/ /app/' in script
    assert """buildah run "$ctr" -- python -c 'print('"'"'it works'"'"')'""" in script
    assert script.endswith('buildah commit --format=oci --rm "$ctr" "$image"\ntrap - EXIT\n')


def test_options_are_validated():
    assert BuildahBackend.from_options({"format": "docker"}).options.format == "docker"
    with pytest.raises(SpecError, match="unknown option for backend 'buildah'"):
        BuildahBackend.from_options({"layers": "true"})


def test_bound_requirements_files_are_mounted_for_their_step():
    bind = Mount("bind", target="/imagec/requirements/ab/1-list.txt", source="imagec/r/1-list.txt")
    cache = Mount("cache", target="/root/.cache/pip")
    argv = ("python", "-m", "pip", "install", "-r", "/imagec/requirements/ab/1-list.txt")
    plan = Plan(steps=(PLAN.steps[0], Run(Origin("requirements"), argv, (cache, bind))))
    script = BuildahBackend().render(plan)
    assert (
        "buildah run --mount=type=cache,target=/root/.cache/pip "
        '--mount=type=bind,ro,source="$PWD"/imagec/r/1-list.txt,'
        'target=/imagec/requirements/ab/1-list.txt "$ctr" -- python -m pip install -r '
        "/imagec/requirements/ab/1-list.txt"
    ) in script


def test_a_build_secret_is_not_silently_left_out():
    secret = Run(Origin("requirements"), ("true",), (Mount("secret", id="pip_index"),))
    with pytest.raises(SpecError, match="cannot mount 'secret'"):
        BuildahBackend().render(Plan(steps=(PLAN.steps[0], secret)))
