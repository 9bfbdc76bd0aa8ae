"""``--platform``, checked like the spec's ``platform``: one ``os/arch[/variant]`` or several,
comma-separated (``linux/amd64,linux/arm64``), each by the same grammar, none twice."""

from __future__ import annotations

from imagec.errors import SpecError
from imagec.model.reference import check_platform


def platform_flag(value: str | None) -> str | None:
    """The flag's platforms joined by ``,`` (spaces around them dropped), or None."""
    if value is None:
        return None
    platforms = [p.strip() for p in value.split(",")]
    for p in platforms:
        try:
            check_platform(p)
        except ValueError as exc:
            raise SpecError(str(exc), field="--platform") from None
    if len(set(platforms)) != len(platforms):
        raise SpecError(f"{value!r} names a platform twice", field="--platform")
    return ",".join(platforms)
