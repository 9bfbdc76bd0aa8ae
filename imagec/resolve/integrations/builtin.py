"""The integrations imagec ships with.

Version ranges follow each project's compatibility promise: a major version for most, a minor
version where the project breaks APIs between minors (evidently, great_expectations before 1.0).
"""

from __future__ import annotations

from collections.abc import Callable

from imagec.integrations import constants as c
from imagec.integrations.integration import Integration
from imagec.plugins.hookspecs import hookimpl

BUILTIN: tuple[Integration, ...] = (
    Integration(
        c.AIRFLOW,
        ("apache-airflow>=2.8,<3",),
        description="Run pipelines as Apache Airflow DAGs.",
        flavors=("orchestrator:airflow",),
    ),
    Integration(
        c.AZURE,
        ("adlfs>=2023.12.0", "azure-identity>=1.15,<2", "azure-storage-blob>=12.19,<13"),
        description="Azure Blob Storage artifact store and Azure credentials.",
        flavors=("artifact_store:azure",),
    ),
    Integration(
        c.EVIDENTLY,
        ("evidently>=0.4.16,<0.5",),
        description="Data drift and data quality reports with Evidently.",
        flavors=("data_validator:evidently",),
    ),
    Integration(
        c.GCP,
        ("gcsfs>=2023.12.0", "google-cloud-storage>=2.14,<3", "google-cloud-aiplatform>=1.38,<2"),
        description="Google Cloud Storage artifact store and Vertex AI orchestration.",
        flavors=("artifact_store:gcp", "orchestrator:vertex", "step_operator:vertex"),
    ),
    Integration(
        c.GREAT_EXPECTATIONS,
        ("great-expectations>=0.18,<0.19",),
        description="Data validation with Great Expectations suites.",
        flavors=("data_validator:great_expectations",),
    ),
    Integration(
        c.HUGGINGFACE,
        ("transformers>=4.36,<5", "datasets>=2.16,<4", "huggingface-hub>=0.20,<1"),
        description="Hugging Face transformers, datasets and the Hub client.",
        flavors=("model_deployer:huggingface",),
    ),
    Integration(
        c.KUBEFLOW,
        ("kfp>=2.5,<3",),
        description="Run pipelines on Kubeflow Pipelines.",
        flavors=("orchestrator:kubeflow",),
    ),
    Integration(
        c.KUBERNETES,
        ("kubernetes>=28.1,<32",),
        description="Run steps as Kubernetes pods.",
        flavors=("orchestrator:kubernetes", "step_operator:kubernetes"),
    ),
    Integration(
        c.LIGHTGBM,
        ("lightgbm>=4.1,<5",),
        # The wheels link against the system OpenMP runtime, absent from slim base images.
        apt_packages=("libgomp1",),
        description="LightGBM gradient boosting.",
    ),
    Integration(
        c.MLFLOW,
        ("mlflow>=2.9,<3",),
        description="MLflow experiment tracking, model registry and deployment.",
        flavors=(
            "experiment_tracker:mlflow",
            "model_registry:mlflow",
            "model_deployer:mlflow",
        ),
    ),
    Integration(
        c.PANDAS,
        ("pandas>=2.0,<3", "pyarrow>=14"),
        description="pandas data frames with Parquet support.",
    ),
    Integration(
        c.PYTORCH,
        ("torch>=2.0,<3",),
        description="PyTorch models and tensors.",
    ),
    Integration(
        c.S3,
        ("s3fs>=2023.12.0",),
        description="Amazon S3 (and S3-compatible) artifact store.",
        flavors=("artifact_store:s3",),
    ),
    Integration(
        c.SKLEARN,
        ("scikit-learn>=1.3,<2",),
        description="scikit-learn estimators.",
    ),
    Integration(
        c.TENSORFLOW,
        ("tensorflow>=2.13,<3",),
        description="TensorFlow and Keras models.",
    ),
    Integration(
        c.WANDB,
        ("wandb>=0.16,<1",),
        description="Weights & Biases experiment tracking.",
        flavors=("experiment_tracker:wandb",),
    ),
    Integration(
        c.XGBOOST,
        ("xgboost>=2.0,<3",),
        description="XGBoost gradient boosting.",
    ),
)


def builtin_integrations() -> list[Integration]:
    """The built-in integrations, sorted by name."""
    return list(BUILTIN)


@hookimpl
def imagec_register_integrations(register: Callable[[Integration], None]) -> None:
    """Register the built-ins through the same hook third-party plugins implement."""
    for integration in BUILTIN:
        register(integration)
