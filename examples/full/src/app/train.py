"""Train the churn model (a stand-in: prints its configuration)."""

import os
import sys

print(f"training {os.environ.get('MODEL_NAME')} with {sys.argv[1:]}")
