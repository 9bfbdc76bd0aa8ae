"""The labels a build passes to the engine as options (``--label``), less those its build file
sets to the same value already.

Podman 4 (buildah 1.28) turns each label passed as an option into a ``LABEL`` step of its own
at the end of the build, and commits each as an image: three labels are three more commits on
every rebuild. A label the Containerfile's own ``LABEL`` gives the image with the same value
(``dev.imagec.version``) is left out of the options; the image's labels are the same.
"""

from __future__ import annotations

from imagec.backend.containerfile import lower_step
from imagec.plan.ir import From, Label, Plan, Step


def set_by_build_file(plan: Plan) -> dict[str, str]:
    """The labels the plan's ``LABEL`` steps give the final image: those of the last stage
    that the Containerfile holds (a step left out under ``--on-unsupported warn`` sets none)."""
    labels: dict[str, str] = {}
    for step in plan.steps:
        if isinstance(step, From):
            labels.clear()
        elif isinstance(step, Label) and lower_step(step, _leave_out) is not None:
            labels.update(step.pairs)
    return labels


def to_pass(labels: dict[str, str], plan: Plan) -> dict[str, str]:
    """``labels`` without those the build file sets to the same value."""
    given = set_by_build_file(plan)
    return {key: value for key, value in labels.items() if given.get(key) != value}


def _leave_out(step: Step, reason: str) -> None:
    """The backend has reported the step already, when it rendered the build file."""
