"""A stand-in training step: prints the versions it runs with."""

import platform

import requests
import yaml

print(f"python {platform.python_version()}, requests {requests.__version__}, pyyaml {yaml.__version__}")
