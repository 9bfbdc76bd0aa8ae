"""Fail early when this month's customers differ too much from last month's."""

import pandas as pd
from evidently.metric_preset import DataDriftPreset
from evidently.report import Report


def check_drift(reference: pd.DataFrame, current: pd.DataFrame) -> None:
    report = Report(metrics=[DataDriftPreset()])
    report.run(reference_data=reference, current_data=current)
    result = report.as_dict()["metrics"][0]["result"]
    if result["dataset_drift"]:
        raise RuntimeError(f"data drift in {result['number_of_drifted_columns']} columns")
