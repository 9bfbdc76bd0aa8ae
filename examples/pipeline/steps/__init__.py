"""Steps of the churn pipeline."""
