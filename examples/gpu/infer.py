"""Load the weights and report the device (a stand-in for real inference)."""

import os
from pathlib import Path

print(Path(os.environ.get("WEIGHTS", "/opt/weights"), "weights.txt").read_text().strip())
