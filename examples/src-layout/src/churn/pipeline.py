"""The scoring pipeline. ``imagec compile src/churn/pipeline.py`` takes ``src/`` as the source
root (the package's import root) and runs ``churn.pipeline:score`` in the image, so the
absolute ``churn.features`` import works there as it does after ``pip install -e .``."""

from churn.features import features
from imagec import pipeline

CUSTOMERS = [
    {"days_since_order": 45.0, "orders_per_month": 0.5},
    {"days_since_order": 3.0, "orders_per_month": 4.0},
]


@pipeline(python_version="3.11")
def score() -> None:
    for record in CUSTOMERS:
        months_idle, frequency = features(record)
        print(f"churn risk: {months_idle / (months_idle + frequency):.2f}")
