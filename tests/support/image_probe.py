"""What an image holds, seen from inside a container of it: files with modes, owners and
digests under /app and /etc/imagec, the user, the working directory, the environment and the
installed distributions."""

from __future__ import annotations

import json

from support.containers import run_container
from support.engines import Engine

# Prints what a test asserts about an image, from inside a container of it.
PROBE = r"""
import hashlib, importlib.metadata as md, json, os, pwd
def files(root):
    out = {}
    for dirpath, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names) + [d + "/" for d in dirs]:
            path = os.path.join(dirpath, name)
            st = os.lstat(path.rstrip("/"))
            digest = ""
            if not name.endswith("/"):
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
            out[path] = [oct(st.st_mode), st.st_uid, st.st_gid, digest]
    return out
try:
    import imagec_probe
    probe = imagec_probe.VALUE
except ImportError as exc:
    probe = str(exc)
print(json.dumps({
    "cwd": os.getcwd(),
    "user": pwd.getpwuid(os.getuid()).pw_name,
    "env": dict(os.environ),
    "files": {**files("/app"), **files("/etc/imagec")},
    "packages": sorted(f"{d.metadata['Name']}=={d.version}" for d in md.distributions()),
    "probe": probe,
}))
"""


def probe(engine: Engine, image: str) -> dict:
    result = run_container(engine, image, ["-c", PROBE], entrypoint=["python"])
    data = json.loads(result.stdout)
    # HOSTNAME is the container's own name.
    data["env"].pop("HOSTNAME", None)
    return data
