"""Load customer snapshots: last month's (reference) and this month's (current)."""

import json
from pathlib import Path

import pandas as pd


def load_customers(data_dir: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    root = Path(data_dir)
    schema = json.loads((root / "schema.json").read_text())
    dtypes = {column["name"]: column["dtype"] for column in schema["columns"]}
    frame = pd.read_csv(root / "customers.csv", dtype=dtypes)
    reference = frame[frame["month"] < frame["month"].max()]
    current = frame[frame["month"] == frame["month"].max()]
    return reference, current
