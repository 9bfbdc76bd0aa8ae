"""Layer 3, readers: every input format becomes a ``Document`` (plain data plus the file,
line and column of each value). YAML/TOML/JSON/pyproject in ``loaders``; ``@pipeline(...)``
read from Python source statically (``pysource``) or by importing it (``pyimport``)."""
