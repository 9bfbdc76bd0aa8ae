"""The CUDA base images imagec knows: ``cuda`` (and ``cudnn``) in the spec -> NVIDIA's official
CUDA runtime image.

Source: NVIDIA's supported-tags list for ``nvidia/cuda`` (docker.io and nvcr.io),
https://gitlab.com/nvidia/container-images/cuda/-/blob/master/doc/supported-tags.md, read
2026-12-03: for each CUDA minor version its latest patch release, the ``runtime`` flavour (the
CUDA libraries without the compiler), on the newest Ubuntu NVIDIA publishes it for. From CUDA
12.3 the cuDNN images are tagged ``cudnn`` (cuDNN 9); before, ``cudnn8``.

None of these images has Python: the spec's ``python_version`` is installed as a managed
Python (plan/python.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from imagec.errors import SpecError
from imagec.model.spec import Spec
from imagec.spec.document import Document

REPOSITORY = "nvidia/cuda"


@dataclass(frozen=True)
class CudaBase:
    image: str
    distro: str  # what apt_packages are named after: Ubuntu's package names, not Debian's


# (cuda, cudnn major or None) -> (tag, distro)
_TAGS: dict[tuple[str, str | None], tuple[str, str]] = {
    ("11.8", None): ("11.8.0-runtime-ubuntu22.04", "ubuntu22.04"),
    ("11.8", "8"): ("11.8.0-cudnn8-runtime-ubuntu22.04", "ubuntu22.04"),
    ("12.1", None): ("12.1.1-runtime-ubuntu22.04", "ubuntu22.04"),
    ("12.1", "8"): ("12.1.1-cudnn8-runtime-ubuntu22.04", "ubuntu22.04"),
    ("12.2", None): ("12.2.2-runtime-ubuntu22.04", "ubuntu22.04"),
    ("12.2", "8"): ("12.2.2-cudnn8-runtime-ubuntu22.04", "ubuntu22.04"),
    ("12.4", None): ("12.4.1-runtime-ubuntu22.04", "ubuntu22.04"),
    ("12.4", "9"): ("12.4.1-cudnn-runtime-ubuntu22.04", "ubuntu22.04"),
    ("12.6", None): ("12.6.3-runtime-ubuntu24.04", "ubuntu24.04"),
    ("12.6", "9"): ("12.6.3-cudnn-runtime-ubuntu24.04", "ubuntu24.04"),
    ("12.8", None): ("12.8.1-runtime-ubuntu24.04", "ubuntu24.04"),
    ("12.8", "9"): ("12.8.1-cudnn-runtime-ubuntu24.04", "ubuntu24.04"),
}


def known() -> list[str]:
    """The combinations, as a user writes them: ``12.4``, ``12.4 + cuDNN 9``."""
    return [f"{c}" if d is None else f"{c} + cuDNN {d}" for c, d in _TAGS]


def cuda_base(spec: Spec, doc: Document) -> CudaBase | None:
    """The base image of ``cuda``/``cudnn``; None without ``cuda``. An unknown combination, or
    ``cuda`` together with another base, is an error listing what imagec knows."""
    if spec.cuda is None:
        if spec.cudnn is not None:
            where = doc.origin("cudnn")
            raise SpecError(
                "cudnn needs cuda (e.g. `cuda: '12.4'`)",
                file=where.file,
                line=where.line,
                field="cudnn",
            )
        return None
    where = doc.origin("cuda")
    if spec.base_image is not None or spec.dockerfile is not None:
        other = "base_image" if spec.base_image is not None else "dockerfile"
        raise SpecError(
            f"cuda chooses the base image; leave out {other} (or cuda, and start from a CUDA "
            "image with managed_python: true)",
            file=where.file,
            line=where.line,
            field="cuda",
        )
    entry = _TAGS.get((spec.cuda, spec.cudnn))
    if entry is None:
        wanted = spec.cuda if spec.cudnn is None else f"{spec.cuda} + cuDNN {spec.cudnn}"
        raise SpecError(
            f"no CUDA runtime image for CUDA {wanted}; imagec knows: {', '.join(known())}",
            file=where.file,
            line=where.line,
            field="cuda",
        )
    tag, distro = entry
    return CudaBase(f"{REPOSITORY}:{tag}", distro)
