"""One module per ``imagec`` command, each with ``run(args) -> exit code``; ``imagec.cli.main``
maps command names to them. Kept empty: a command loads only what it uses."""
