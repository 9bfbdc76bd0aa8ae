"""Run the training pipeline here (``python run.py``) or build its image
(``imagec build run.py``): imagec follows this file's imports to the ``@pipeline``."""

from pipelines.training import training

if __name__ == "__main__":
    training()
