"""Train a churn classifier and check the incoming data for drift.

Build the image (the decorator is read without importing torch or evidently):

    imagec build examples/pipeline/pipeline.py:churn_pipeline --backend podman

The image's default command runs the pipeline, i.e. calls ``churn_pipeline()``.
"""

from steps.drift import check_drift
from steps.load import load_customers
from steps.train import train_classifier

from imagec import pipeline
from imagec.integrations.constants import EVIDENTLY, PYTORCH

PYTHON = "3.11"


@pipeline(
    required_integrations=[PYTORCH, EVIDENTLY],
    requirements="requirements.txt",
    dockerignore_file=".dockerignore",
    base_image=f"python:{PYTHON}-slim",
    python_version=PYTHON,
    environment={"PYTHONUNBUFFERED": "1", "CHURN_EPOCHS": "20"},
)
def churn_pipeline(data_dir: str = "data") -> None:
    reference, current = load_customers(data_dir)
    check_drift(reference, current)
    train_classifier(current)
