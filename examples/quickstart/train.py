"""A stand-in training step: prints the versions it runs with."""

import platform

import requests
import yaml

python = platform.python_version()
print(f"python {python}, requests {requests.__version__}, pyyaml {yaml.__version__}")
