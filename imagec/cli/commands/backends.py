"""``imagec backends``: the installed backends, their health, and plugins that failed to load."""

from __future__ import annotations

import argparse
import sys

from imagec.backend.base import Health
from imagec.cli.output import print_json
from imagec.plugins.manager import get_plugins


def run(args: argparse.Namespace) -> int:
    plugins = get_plugins()
    rows = []
    for name, (cls, owner) in plugins.backends().items():
        info = plugins.info.get(owner)
        try:
            health = cls.health()
        except Exception as exc:  # a plugin's broken health check must not hide the list
            health = Health(False, f"health check failed: {type(exc).__name__}: {exc}")
        rows.append(
            {
                "name": name,
                "distribution": info.distribution if info else owner,
                "version": info.version if info else "",
                "output": cls.output,
                "ok": health.ok,
                "reason": health.reason,
                "description": cls.description,
                "options": cls.Options.model_json_schema().get("properties", {}),
            }
        )
    failures = [
        {"name": f.name, "distribution": f.distribution, "error": f.error} for f in plugins.failures
    ]
    if args.json:
        print_json({"backends": rows, "failures": failures})
        return 0
    for row in rows:
        health = "ok" if row["ok"] else f"missing: {row['reason']}"
        print(
            f"{row['name']:<14} {row['distribution']} {row['version']:<8} {health:<10} "
            f"{row['description']}"
        )
    for failure in plugins.failures:
        print(f"imagec: warning: {failure}", file=sys.stderr)
    return 0
