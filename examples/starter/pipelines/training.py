from steps.train import train_step

from imagec import pipeline


@pipeline(python_version="3.11")
def training() -> None:
    train_step()
