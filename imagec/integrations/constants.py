"""Names of the built-in integrations, for ``@pipeline(required_integrations=[PYTORCH])``.

Plain strings so this module imports instantly inside built images and can be read without
running user code.
"""

from __future__ import annotations

AIRFLOW = "airflow"
AZURE = "azure"
EVIDENTLY = "evidently"
GCP = "gcp"
GREAT_EXPECTATIONS = "great_expectations"
HUGGINGFACE = "huggingface"
KUBEFLOW = "kubeflow"
KUBERNETES = "kubernetes"
LIGHTGBM = "lightgbm"
MLFLOW = "mlflow"
PANDAS = "pandas"
PYTORCH = "pytorch"
S3 = "s3"
SKLEARN = "sklearn"
TENSORFLOW = "tensorflow"
WANDB = "wandb"
XGBOOST = "xgboost"

__all__ = [
    "AIRFLOW",
    "AZURE",
    "EVIDENTLY",
    "GCP",
    "GREAT_EXPECTATIONS",
    "HUGGINGFACE",
    "KUBEFLOW",
    "KUBERNETES",
    "LIGHTGBM",
    "MLFLOW",
    "PANDAS",
    "PYTORCH",
    "S3",
    "SKLEARN",
    "TENSORFLOW",
    "WANDB",
    "XGBOOST",
]
