"""Python frontends: read a ``@pipeline(...)`` spec statically (``pysource``) or by importing
the file (``pyimport``)."""
