"""Shared test fixtures."""

pytest_plugins = ["engine_support"]
