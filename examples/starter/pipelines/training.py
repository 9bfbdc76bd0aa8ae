"""The training pipeline: its absolute import of ``steps`` works because the image runs it by
module (``python -m imagec.runtime pipelines.training:training``) from the source root."""

from steps.train import train_step

from imagec import pipeline


@pipeline(python_version="3.11")
def training() -> None:
    train_step()
