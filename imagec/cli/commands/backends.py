"""``imagec backends``: the installed backends, their health, and plugins that failed to load.

The table keeps one line per backend; why a backend is missing follows it, one line each::

    NAME           DISTRIBUTION                STATUS   DESCRIPTION
    containerfile  imagec-containerfile 0.1.0  ok       Containerfile text, ...
    docker         imagec-docker 0.1.0         missing  image built by a Docker engine ...

    docker: cannot reach the docker engine at unix:///var/run/docker.sock (...); start ...
"""

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
                "status": "ok" if health.ok else "missing",
                "reason": None if health.ok else (health.reason or "unavailable"),
                "description": cls.description,
            }
        )
        if args.json:  # the schema costs more than the table; only --json shows it
            rows[-1]["options"] = cls.Options.model_json_schema().get("properties", {})
    failures = [
        {"name": f.name, "distribution": f.distribution, "error": f.error} for f in plugins.failures
    ]
    if args.json:
        print_json({"backends": rows, "failures": failures})
        return 0
    table = [("NAME", "DISTRIBUTION", "STATUS", "DESCRIPTION")]
    table += [
        (r["name"], f"{r['distribution']} {r['version']}".strip(), r["status"], r["description"])
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(3)]
    for line in table:
        print("  ".join([*(cell.ljust(w) for cell, w in zip(line, widths, strict=False)), line[3]]))
    missing = [r for r in rows if not r["ok"]]
    if missing:
        print()
    for row in missing:
        print(f"{row['name']}: {row['reason']}")
    for failure in plugins.failures:
        print(f"imagec: warning: {failure}", file=sys.stderr)
    return 0
