"""Images that need more than pure Python: ``apt_packages`` from Debian's archive and a wheel
with compiled extensions from PyPI, built by ``imagec build`` on the Debian base image.

The build reaches Debian's archive and the package index, so its RUN steps use the host's network
(``-O network=host``; dockerd runs with ``--bridge=none``).
"""

from __future__ import annotations

import pytest
from support.baseimages import BaseImages
from support.builds import Builds
from support.containers import run_container
from support.engines import Engine

pytestmark = pytest.mark.engine

COMPILED = r"""
import importlib.machinery, charset_normalizer, charset_normalizer.md as md
compiled = md.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
text = "Größere Änderungen überall: Öl, Äpfel und Übermut. Ça va très bien, merci. " * 4
best = charset_normalizer.from_bytes(text.encode("utf-8")).best()
print(compiled, best.encoding)
"""


def test_apt_packages_are_installed_from_debian(
    engine: Engine, engine_images: BaseImages, builds: Builds
) -> None:
    built = builds.get(engine, "native")
    script = "dpkg-query -W -f '${Status}\\n' jq && echo '{\"a\": [1, 2]}' | jq -c .a"
    result = run_container(engine, built.tag, ["-c", script], entrypoint=["sh"])
    assert result.stdout == "install ok installed\n[1,2]\n"
    # The package lists apt-get update fetched are not left in the image.
    lists = run_container(engine, built.tag, ["/var/lib/apt/lists"], entrypoint=["ls"])
    assert lists.stdout == ""


def test_wheel_with_compiled_extensions_imports(
    engine: Engine, engine_images: BaseImages, builds: Builds
) -> None:
    built = builds.get(engine, "native")
    result = run_container(engine, built.tag, ["-c", COMPILED], entrypoint=["python"])
    assert result.stdout == "True utf_8\n"
