"""What an engine backend provides to the shared build flow: a few calls on its SDK."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ImageInfo:
    id: str  # "sha256:<hex>"
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildParams:
    """One build request, in engine-neutral terms."""

    build_file: str
    labels: dict[str, str]
    build_args: dict[str, str]
    no_cache: bool = False
    pull: bool = False
    platform: str | None = None
    network: str | None = None  # network mode of RUN steps; None: the engine's default
    target: str | None = None  # the stage to build (`--target`); None: the last one
    # Build secret id -> path of a file holding it, for `RUN --mount=type=secret`. Paths, not
    # values: nothing here is ever logged or labelled.
    secrets: dict[str, str] = field(default_factory=dict)


class EngineSession(Protocol):
    """An open connection to one engine. Every method raises ``EngineError`` (or
    ``BuildError``), never an SDK exception."""

    engine: str  # "docker", "podman": shown in progress lines and errors
    url: str  # where it connected, for messages

    def image(self, ref: str) -> ImageInfo | None:
        """The image ``ref`` names, or None when there is none."""

    def build(self, body: Iterable[bytes], params: BuildParams) -> Iterator[dict[str, Any]]:
        """Send the context tar and yield the engine's JSON build messages as they arrive.

        Closing the iterator closes the connection (engines then stop the build)."""

    def tag(self, image_id: str, ref: str) -> None: ...

    def remove_image(self, image_id: str) -> None:
        """Remove an image this build made, keeping its parents (they are the layer cache)."""

    def read_file(self, image_id: str, path: str) -> bytes | None:
        """A tar stream of ``path`` in the image (from a container created, never started,
        and removed), or None when the image has no such file."""

    def push(self, ref: str) -> Iterator[dict[str, Any]]:
        """Push ``ref``; yield the engine's JSON progress messages."""

    def pull(self, ref: str) -> Iterator[dict[str, Any]]:
        """Pull ``ref``; yield the engine's JSON progress messages."""

    def run(self, image: str, argv: list[str], *, timeout: float) -> tuple[int, bytes, bytes]:
        """Run ``argv`` (``argv[0]`` as the entrypoint) in a new container of ``image`` with no
        network; its exit code, stdout and stderr. The container is removed."""

    def close(self) -> None: ...


class ManifestListSession(EngineSession, Protocol):
    """A session that also builds manifest lists (``manifest_lists = True``): a build whose
    ``BuildParams.platform`` names several platforms ends with the list's id; ``tag``,
    ``push`` and ``remove_image`` take a list as they take an image."""

    manifest_lists: bool

    def manifest_list(self, ref: str, platforms: tuple[str, ...]) -> ImageInfo | None:
        """The list ``ref`` names, if it holds an image for each of ``platforms`` (and no
        other) and those agree on their labels: its id and their labels; else None."""
