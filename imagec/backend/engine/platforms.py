"""Several target platforms: one image per platform, gathered in a manifest list.

The platforms are ``--platform`` when given, else the spec's ``platform`` (its list leaves
the plan's ``FROM`` unpinned, so each platform's build starts from that platform's base).
An engine session that builds manifest lists says so with ``manifest_lists = True`` (podman:
buildah's ``--platform a,b --manifest NAME``); the list is then what the content-hash tag
names, what the reuse check inspects (``manifest_list``) and what ``--push`` sends, with
every image in it. Other engines refuse before the build, naming what can build one.
"""

from __future__ import annotations

from imagec.backend.base import Build, BuildRequest
from imagec.errors import SpecError
from imagec.plan.ir import From


def target_platforms(build: Build, request: BuildRequest) -> tuple[str, ...]:
    """The platforms to build, in the order given (empty: the engine's own)."""
    platform = request.platform or build.plan.platform
    return tuple(platform.split(",")) if platform else ()


def check_several(build: Build, platforms: tuple[str, ...], *, engine: str | None = None) -> None:
    """Refuse, before any engine call, a multi-platform build that cannot give a right list:
    ``engine`` (a name) cannot build one; the base is pinned to one platform; a parent
    Dockerfile would need its own list."""
    if len(platforms) < 2:
        return
    joined = ",".join(platforms)
    if engine is not None:
        raise SpecError(
            f"several platforms ({joined}) make a manifest list, which the {engine} engine's "
            f"image store cannot hold; build with --backend podman, or `imagec export` and "
            f"`docker buildx build --platform {joined} --push` the export (its README says "
            f"how), or build one platform (--platform {platforms[0]})",
            field="platform",
        )
    froms = (step for step in build.plan.steps if isinstance(step, From))
    pinned = next((step.platform for step in froms if step.platform), None)
    if pinned is not None:
        raise SpecError(
            f"--platform {joined} asks for several platforms, but the spec's platform "
            f"{pinned} pins the base image to one; list them in the spec's `platform` instead",
            field="--platform",
        )
    if build.parent is not None:
        raise SpecError(
            f"several platforms ({joined}) with a parent Dockerfile are not built yet (its "
            "image would have to be a manifest list too); build one platform per image",
            field="platform",
        )


def platform_of(entry: dict[str, object]) -> str:
    """``os/arch[/variant]`` of a manifest list's entry (its ``platform`` object)."""
    platform = entry.get("platform")
    if not isinstance(platform, dict):
        return ""
    parts = [str(platform.get("os") or ""), str(platform.get("architecture") or "")]
    if platform.get("variant"):
        parts.append(str(platform["variant"]))
    return normal("/".join(parts))


def normal(platform: str) -> str:
    """``linux/arm64/v8`` is ``linux/arm64`` (v8 is arm64's only variant; containerd's
    platforms package normalizes it away the same way)."""
    return platform[: -len("/v8")] if platform.endswith("arm64/v8") else platform
