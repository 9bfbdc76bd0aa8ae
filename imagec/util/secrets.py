"""Secrets written where they must not be: passwords and tokens in URLs, and the ``${VAR}``
references that stand in for them (resolved from the environment where the secret lives)."""

from __future__ import annotations

import re

# `scheme://userinfo@...`: group 1 the scheme, group 2 the user info.
URL_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/@?#]*)@")
# One `${NAME}` reference; group 1 the variable name.
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def is_env_ref(text: str) -> bool:
    """``${NAME}`` and nothing else."""
    return ENV_REF.fullmatch(text) is not None


def has_literal_credentials(url: str) -> bool:
    """Does ``url`` carry a password or token in plain text? ``${VAR}`` in its place is fine;
    a user name alone is fine for ssh (``git+ssh://git@host``) but is a token for http."""
    m = URL_USERINFO.match(url)
    if m is None:
        return False
    scheme, userinfo = m.groups()
    user, colon, password = userinfo.partition(":")
    secret = password if colon else ("" if "ssh" in scheme.lower() else user)
    return bool(secret) and not is_env_ref(secret)


def redact_userinfo(url: str) -> str:
    """``https://***@host/...``: for messages, which end up in logs."""
    return URL_USERINFO.sub(lambda m: f"{m.group(1)}://***@", url, count=1)


def strip_userinfo(url: str) -> str:
    """``https://host/...``: for labels, which end up in images."""
    return URL_USERINFO.sub(lambda m: f"{m.group(1)}://", url, count=1)
