"""A stand-in pipeline step: prints the locked versions it runs with."""

from importlib.metadata import version

from dateutil import parser

when = parser.isoparse("2026-12-03T15:00:00Z")
print(f"python-dateutil {version('python-dateutil')}, tzdata {version('tzdata')}: {when}")
