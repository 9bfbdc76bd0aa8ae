"""Immutable records with ``@dataclass(frozen=True)``'s behaviour but not its start-up cost.

@record
class Mount(Record):
    type: str
    target: str | None = None

mark_frozen(Mount)  # after the classes that derive from one another are all defined
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, FrozenInstanceError, dataclass
from typing import Any, ClassVar


class Record:
    """What ``@dataclass(frozen=True)`` gives, written once for every record class: construction
    by keyword or position with the fields' defaults, equality and hash by field values, a
    repr of the fields, and no assignment afterwards. The stdlib's decorator writes these six
    methods out for each class as source text and compiles it with ``exec``: ~40 M
    instructions of a compile's start-up for the IR's fifteen classes. ``record`` still makes
    each class a dataclass, so ``dataclasses.fields``, ``replace`` and ``asdict`` work."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields = dataclasses.fields(self)
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__}() takes {len(fields)} arguments")
        values = {f.name: value for f, value in zip(fields, args, strict=False)}
        for name, value in kwargs.items():
            if name in values or name not in self.__dataclass_fields__:
                raise TypeError(f"{type(self).__name__}() got an unexpected or repeated {name!r}")
            values[name] = value
        for f in fields:
            if f.name in values:
                value = values[f.name]
            elif f.default is not MISSING:
                value = f.default
            elif f.default_factory is not MISSING:
                value = f.default_factory()
            else:
                raise TypeError(f"{type(self).__name__}() missing argument {f.name!r}")
            object.__setattr__(self, f.name, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in dataclasses.fields(self))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._values() == other._values()  # type: ignore[attr-defined]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self))
        return f"{type(self).__qualname__}({fields})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


# A dataclass whose methods are `Record`'s (it must derive from it).
record = dataclass(init=False, repr=False, eq=False)


def mark_frozen(*classes: type) -> None:
    """Say in each record class's dataclass parameters what ``Record`` does (refuse
    assignment), so a frozen dataclass may derive from it. Only once all are defined:
    ``record`` could not derive one from another otherwise."""
    for cls in classes:
        cls.__dataclass_params__.frozen = True  # type: ignore[attr-defined]
