"""A wheel of the running imagec, for images built by a development install.

The runtime an image needs (``imagec.runtime``, ``imagec.run``) uses the standard library
only, so the image installs this wheel with ``--no-deps``: nothing is fetched from an index.
The wheel is built straight from the imported package's files, deterministically (sorted
entries, fixed timestamps), so the same installation gives byte-identical wheels.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from functools import cache
from pathlib import Path

import imagec

_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def wheel_name() -> str:
    return f"imagec-{imagec.__version__}-py3-none-any.whl"


def installed_from_index() -> bool:
    """True when this imagec came from a package index (so the image can pip-install the same
    version); False for editable, local-path and VCS installs.

    pip records ``direct_url.json`` for every install that did not come from an index; an
    editable install imports from the source tree, where there is no ``.dist-info`` at all.
    """
    site = Path(imagec.__file__).parent.parent
    dist_info = site / f"imagec-{imagec.__version__}.dist-info"
    if not dist_info.is_dir():
        return False
    direct = dist_info / "direct_url.json"
    if not direct.is_file():
        return True
    return not json.loads(direct.read_text()).get("url", "").startswith(("file:", "git+", "hg+"))


def _package_files() -> list[tuple[str, bytes]]:
    root = Path(imagec.__file__).parent
    files = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files.append((f"imagec/{path.relative_to(root).as_posix()}", path.read_bytes()))
    return files


def make_wheel(name: str, version: str, files: list[tuple[str, bytes]], summary: str) -> bytes:
    """A deterministic pure-Python (``py3-none-any``) wheel holding ``files``."""
    dist_info = f"{name.replace('-', '_')}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {summary}\n"
    files = [
        *files,
        (f"{dist_info}/METADATA", metadata.encode()),
        (
            f"{dist_info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: imagec\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        ),
    ]
    record = []
    for path, data in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files:
            info = zipfile.ZipInfo(path, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return out.getvalue()


@cache
def build_wheel() -> bytes:
    summary = "imagec runtime (built from a development install)"
    return make_wheel("imagec", imagec.__version__, _package_files(), summary)
