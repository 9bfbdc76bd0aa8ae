#!/usr/bin/env bash
# Install and configure the container engines the engine tests use (podman + runc, dockerd
# from docker.io, buildah) and mmdebstrap, which makes the tests' Debian base images
# (tests/support/baseimages.py).
#
# Idempotent: packages already present are not fetched again and the podman
# configuration is rewritten only when it differs. Quiet on success; on failure
# it prints the failing step and its output and exits non-zero.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    echo "engines.sh: must run as root (installs packages, writes /etc/containers)" >&2
    exit 1
fi

PACKAGES=(
    podman
    runc
    docker.io
    buildah
    # The registry tests: the distribution registry and htpasswd (tests/support/registry.py).
    docker-registry
    apache2-utils
    # The remote-podman test reaches a podman service through sshd in a network namespace.
    openssh-server
    # The base images: Debian's packages, by Debian's tools (root mode, merged /usr).
    mmdebstrap
    ca-certificates
    # .ci/setup's virtual environment.
    python3
    python3-venv
)

LOG=$(mktemp -t imagec-engines.XXXXXX.log)
POLICY_RC_CREATED=0

cleanup() {
    if [[ $POLICY_RC_CREATED -eq 1 ]]; then
        rm -f /usr/sbin/policy-rc.d
    fi
}
trap cleanup EXIT

# Run a step quietly; on failure show what it printed.
run() {
    local what=$1
    shift
    if ! "$@" >"$LOG" 2>&1; then
        echo "engines.sh: FAILED: $what" >&2
        echo "--- command: $*" >&2
        tail -n 60 "$LOG" >&2
        exit 1
    fi
}

missing_packages() {
    local pkg status
    for pkg in "${PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
        if [[ $status != installed ]]; then
            echo "$pkg"
        fi
    done
}

mapfile -t MISSING < <(missing_packages)
if [[ ${#MISSING[@]} -gt 0 ]]; then
    # Without systemd, the docker.io maintainer scripts would try to start a
    # system dockerd through its init script. Tests start their own daemons.
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 0755 /usr/sbin/policy-rc.d
        POLICY_RC_CREATED=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    run "apt-get update" apt-get update
    run "apt-get install ${MISSING[*]}" \
        apt-get install -y --no-install-recommends "${PACKAGES[@]}"
    mapfile -t STILL_MISSING < <(missing_packages)
    if [[ ${#STILL_MISSING[@]} -gt 0 ]]; then
        echo "engines.sh: packages still not installed: ${STILL_MISSING[*]}" >&2
        exit 1
    fi
fi

for bin in podman runc dockerd containerd buildah mmdebstrap; do
    if ! command -v "$bin" >/dev/null 2>&1; then
        echo "engines.sh: '$bin' not on PATH after install" >&2
        exit 1
    fi
done

# Podman configuration for machines without systemd and with a hybrid cgroup
# layout (crun fails there: "cgroups in hybrid mode not supported, drop all
# controllers from cgroupv2"). Containers only start with ulimits the sandbox
# allows ("setrlimit RLIMIT_NOFILE: Operation not permitted" otherwise).
NOFILE=$(ulimit -Hn)
NPROC=$(ulimit -Hu)
if [[ $NOFILE == unlimited ]]; then NOFILE=1048576; fi
if [[ $NPROC == unlimited || $NPROC -gt 32768 ]]; then NPROC=32768; fi

mkdir -p /etc/containers
run "configure /etc/containers/containers.conf" \
    /usr/bin/python3 - /etc/containers/containers.conf "$NOFILE" "$NPROC" <<'PY'
"""Set the keys the engine tests need in containers.conf, keeping everything else."""

import os
import re
import sys
import tomllib

path, nofile, nproc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
wanted: dict[str, dict[str, str]] = {
    "containers": {
        "default_ulimits": f'["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]',
    },
    "engine": {
        "runtime": '"runc"',
        "cgroup_manager": '"cgroupfs"',
        "events_logger": '"file"',
    },
}

try:
    with open(path, encoding="utf-8") as fh:
        original = fh.read()
except FileNotFoundError:
    original = "# Written by imagec's .ci/engines.sh; other settings may be added.\n"

header = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]\s*(#.*)?$")
lines = original.splitlines()
out: list[str] = []
section: str | None = None
done: set[tuple[str, str]] = set()
skip_array = False


def flush(sec: str | None) -> None:
    """Append wanted keys of `sec` that the file did not have."""
    if sec in wanted:
        for key, value in wanted[sec].items():
            if (sec, key) not in done:
                out.append(f"{key} = {value}")
                done.add((sec, key))


for line in lines:
    if skip_array:
        # Drop the rest of a multi-line array value that was replaced.
        if "]" in line.split("#", 1)[0]:
            skip_array = False
        continue
    m = header.match(line)
    if m and not line.lstrip().startswith("[["):
        flush(section)
        section = m.group(1)
        out.append(line)
        continue
    key_match = re.match(r"^\s*([A-Za-z0-9_\-]+)\s*=(.*)$", line)
    if section in wanted and key_match and key_match.group(1) in wanted[section]:
        key = key_match.group(1)
        if (section, key) in done:
            continue
        out.append(f"{key} = {wanted[section][key]}")
        done.add((section, key))
        rest = key_match.group(2).split("#", 1)[0]
        if rest.count("[") > rest.count("]"):
            skip_array = True
        continue
    out.append(line)
flush(section)
for sec in wanted:
    if any((sec, key) not in done for key in wanted[sec]):
        out.append("")
        out.append(f"[{sec}]")
        flush(sec)

text = "\n".join(out).rstrip("\n") + "\n"
parsed = tomllib.loads(text)
assert parsed["engine"]["runtime"] == "runc", parsed
assert parsed["containers"]["default_ulimits"][0] == f"nofile={nofile}:{nofile}", parsed
if text != original:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
PY

# A quick check that the configuration took: `podman info` reads containers.conf.
run "podman info" podman info --format '{{.Host.OCIRuntime.Name}}'
if [[ $(<"$LOG") != runc ]]; then
    echo "engines.sh: podman does not use runc; check /etc/containers/containers.conf" >&2
    cat "$LOG" >&2
    exit 1
fi

rm -f "$LOG"
