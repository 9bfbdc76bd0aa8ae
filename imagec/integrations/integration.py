"""The ``Integration`` record."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Integration:
    """What an integration adds to an image, and which stack component flavors imply it.

    ``flavors`` holds ``"<component_type>:<flavor>"`` strings: ``"experiment_tracker:mlflow"``
    means a stack whose experiment tracker has flavor ``mlflow`` needs this integration.
    """

    name: str
    requirements: tuple[str, ...]
    apt_packages: tuple[str, ...] = ()
    description: str = ""
    flavors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Third-party plugins may pass lists; keep the record hashable and immutable.
        for attr in ("requirements", "apt_packages", "flavors"):
            value = getattr(self, attr)
            if isinstance(value, str):
                raise TypeError(f"Integration.{attr} must be a sequence of strings, not a string")
            object.__setattr__(self, attr, tuple(value))
