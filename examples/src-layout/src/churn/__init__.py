"""Churn scoring, laid out as an installable ``src/`` package."""
