"""A one-file project: ``imagec build report.py`` copies this directory into the image and runs
``report.py:report`` there."""

from statistics import mean

from imagec import pipeline

LATENCIES_MS = [112, 98, 130, 101, 87]


@pipeline(python_version="3.11")
def report() -> None:
    print(f"mean latency: {mean(LATENCIES_MS):.1f} ms over {len(LATENCIES_MS)} requests")
