"""Features of a customer record: how long since the last order, and how often they order."""


def features(record: dict[str, float]) -> tuple[float, float]:
    return record["days_since_order"] / 30, record["orders_per_month"]
