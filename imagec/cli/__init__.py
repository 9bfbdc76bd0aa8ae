"""Layer 10, the ``imagec`` command: parsing (``parser``), dispatch and error printing
(``main``), and one small module per command (``commands/``).

Exit codes: 0 ok, 1 build or engine failure, 2 bad input (spec, paths, flags).
"""

from __future__ import annotations

from imagec.cli.main import main

__all__ = ["main"]
