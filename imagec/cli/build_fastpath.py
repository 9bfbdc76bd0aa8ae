"""``imagec build`` of an unchanged project: answered from its fingerprint record before the
spec is read, the plugins are loaded or an engine SDK is imported.

See ``imagec.backend.engine.fingerprint`` for what the record proves and how; this module
only decides when to ask it, and starts recording on the full path.
"""

from __future__ import annotations

import argparse

from imagec.backend.engine import fingerprint
from imagec.util.installation import installation_key


def fast_build(args: argparse.Namespace) -> int | None:
    """The exit code when the recorded image is still the answer, else None (after starting
    to record what the full build reads)."""
    options = vars(args)
    if not fingerprint.eligible(options):
        return None
    key = fingerprint.build_key(options, installation_key())
    record = fingerprint.lookup(key)
    if record is not None and fingerprint.confirm(record):
        if args.quiet:
            print(record["image_id"])
        else:
            print(f"up to date: {record['image_id']} {' '.join(record['tags'])}")
        return 0
    fingerprint.begin(key, fingerprint.probed_paths(args.spec))
    return None
