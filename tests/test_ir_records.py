"""The IR's classes behave as the frozen dataclasses they replace: each is compared with a
``@dataclass(frozen=True)`` twin made from its own fields (the oracle) on construction,
defaults, equality, hashing, repr, ``replace``/``asdict``/``fields``, and refused assignment."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from imagec.plan import ir
from imagec.spec.document import Origin

ORIGIN = Origin("requirements", "imagec.yaml", 3)
# One instance of each class, every field set (defaults left out where a field has one).
SAMPLES: list[object] = [
    ir.From(origin=ORIGIN, image="python:3.11-slim", platform="linux/amd64"),
    ir.Arg(origin=ORIGIN, name="SHA"),
    ir.Env(origin=ORIGIN, pairs=(("A", "1"), ("B", "2"))),
    ir.Label(origin=ORIGIN, pairs=(("team", "ml"),)),
    ir.Run(
        origin=ORIGIN,
        argv=("python", "-m", "pip"),
        mounts=(ir.Mount("cache", target="/root/.cache/pip"), ir.Mount("secret", id="netrc")),
    ),
    ir.Mount("bind", target="/imagec/requirements/1-list.txt", source="imagec/requirements"),
    ir.Copy(origin=ORIGIN, sources=("src",), dest="/app", chown="app"),
    ir.Workdir(origin=ORIGIN, path="/app"),
    ir.User(origin=ORIGIN, user="app"),
    ir.Entrypoint(origin=ORIGIN, argv=("python",)),
    ir.Cmd(origin=ORIGIN, argv=("train.py",)),
    ir.ContextFile("imagec/requirements/1-list.txt", "numpy\n"),
    ir.ContextDir("/work/x", "src", ignore_file=".dockerignore"),
]
CLASSES = [
    ir.From, ir.Arg, ir.Env, ir.Label, ir.Mount, ir.Run, ir.Copy, ir.Workdir, ir.User,
    ir.Entrypoint, ir.Cmd, ir.ContextFile, ir.ContextDir, ir.Plan,
]  # fmt: skip


def twin(cls: type) -> type:
    """A stdlib frozen dataclass with ``cls``'s name and fields (in order, with defaults)."""
    spec = []
    for f in dataclasses.fields(cls):
        default = {}
        if f.default is not dataclasses.MISSING:
            default = {"default": f.default}
        elif f.default_factory is not dataclasses.MISSING:
            default = {"default_factory": f.default_factory}
        spec.append((f.name, typing.Any, dataclasses.field(**default)))
    made = dataclasses.make_dataclass(cls.__name__, spec, frozen=True)
    made.__qualname__ = cls.__qualname__
    return made


def as_twin(obj: object) -> object:
    return twin(type(obj))(**{f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})


def test_every_class_is_covered() -> None:
    assert {type(s) for s in SAMPLES} | {ir.Plan} == set(CLASSES)
    assert set(ir.STEP_TYPES.values()) <= set(CLASSES)


@pytest.mark.parametrize("obj", SAMPLES, ids=lambda o: type(o).__name__)
def test_records_act_as_frozen_dataclasses(obj: object) -> None:
    cls, other = type(obj), as_twin(obj)
    assert dataclasses.is_dataclass(obj)
    assert repr(obj) == repr(other)
    assert hash(obj) == hash(other)
    assert dataclasses.asdict(obj) == dataclasses.asdict(other)
    values = [getattr(obj, f.name) for f in dataclasses.fields(obj)]
    assert cls(*values) == obj  # positional, in field order
    assert cls(**{f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}) == obj
    assert obj != other  # another class, as with two dataclasses
    assert (obj == 1) is False
    first = dataclasses.fields(obj)[0].name
    changed = dataclasses.replace(obj, **{first: "changed"})
    assert changed != obj and getattr(changed, first) == "changed"
    assert {obj, changed, cls(*values)} == {obj, changed}
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, first, "x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(obj, first)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_construction_errors_match_the_dataclass(cls: type) -> None:
    oracle = twin(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for args, kwargs in [
        ((), {}),  # required fields missing
        (tuple(range(len(names) + 1)), {}),  # too many
        ((), {"nope": 1}),  # unknown
        ((0,), {names[0]: 1}),  # given twice
    ]:
        with pytest.raises(TypeError) as expected:
            oracle(*args, **kwargs)
        required = [f for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING]
        if not required and not args and not kwargs:
            continue  # nothing required: both construct
        with pytest.raises(TypeError):
            cls(*args, **kwargs)
        assert expected.value  # the oracle refused too


def test_defaults_are_the_dataclass_defaults() -> None:
    plan = ir.Plan(steps=())
    assert dataclasses.asdict(plan) == dataclasses.asdict(twin(ir.Plan)(steps=()))
    assert ir.Run(origin=ORIGIN, argv=("x",)).mounts == ()
    assert ir.Mount("cache") == ir.Mount(type="cache", target=None, id=None, source=None)


def test_plan_json_round_trips_through_records() -> None:
    plan = ir.Plan(
        steps=tuple(s for s in SAMPLES if isinstance(s, ir.Step)),
        files=(ir.ContextFile("a.txt", "x", 0o600, "runtime-wheel"),),
        dirs=(ir.ContextDir("/w", "src", None, "import root of package x"),),
        build_args=(("SHA", "dev"),),
        platform="linux/amd64",
        metadata=(("pipeline", "app:main"),),
    )
    again = ir.Plan.from_json(plan.to_json())
    assert again == plan and hash(again) == hash(plan)
    assert again.to_json() == plan.to_json() and again.digest() == plan.digest()


def test_a_plugin_step_derives_as_from_a_frozen_dataclass() -> None:
    @dataclasses.dataclass(frozen=True)
    class Healthcheck(ir.Step):
        kind = "healthcheck"
        command: str

    step = Healthcheck(ORIGIN, "curl -f localhost")
    assert step == Healthcheck(origin=ORIGIN, command="curl -f localhost")
    assert [f.name for f in dataclasses.fields(step)] == ["origin", "command"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.command = "x"  # type: ignore[misc]
    with pytest.raises(TypeError, match="non-frozen dataclass from a frozen one"):

        @dataclasses.dataclass
        class Mutable(ir.Step):
            kind = "mutable"
