"""Fetch model weights into the directory given (a stand-in: writes a marker file)."""

import os
import sys
from pathlib import Path

target = Path(sys.argv[1])
target.mkdir(parents=True, exist_ok=True)
(target / "weights.txt").write_text("token given\n" if os.environ.get("HF_TOKEN") else "none\n")
