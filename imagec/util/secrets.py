"""Secrets written where they must not be, detected in one place for every caller (the spec
model, requirements files, the stack check, build secrets): passwords and tokens in URLs (in
any scheme, anywhere in a string), secret query parameters, ``Authorization``-style values and
well-known token shapes, keys that name a secret, and the ``${VAR}`` references that stand in
for them (resolved from the environment where the secret lives).

Detection errs on the side of refusing; ``${VAR}`` in place of the secret is always the way out.
"""

from __future__ import annotations

import re

# `scheme://userinfo@...` at the start: group 1 the scheme, group 2 the user info.
URL_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/@?#]*)@")
# The same anywhere in a string (`jdbc:postgresql://app:TOKEN@db`, `mirror=https://u:p@h`).
# The scheme's length is bounded, so a long run of letters is scanned at most 64 characters
# from each position: matching stays linear in the length of the string.
_ANY_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,63})://([^/@?#\s]*)@")
# `?access_token=...`, `&api_key=...`: group 1 the parameter name, group 2 its value.
_QUERY_PARAM = re.compile(r"[?&;]([A-Za-z0-9_.-]{1,256})=([^&#;\s]*)")
# Values that are a credential whatever key holds them.
_TOKEN_VALUE = re.compile(
    r"(?i:\b(?:bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,})"
    r"|\bsk-[A-Za-z0-9_-]{16,}|\bgh[pousr]_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}"
    r"|\bAKIA[0-9A-Z]{16}\b|\bxox[abprs]-[A-Za-z0-9-]{10,}|\bhf_[A-Za-z0-9]{20,}"
    r"|\bglpat-[A-Za-z0-9_-]{20,}|\bAIza[0-9A-Za-z_-]{35}"
)
# How to pass a credential instead: a build secret (the spec's `secrets`, `--secret`).
SECRET_HINT = (
    "pass it as a build secret: declare it in `secrets`, write ${NAME} in its place, and run "
    "`imagec build SPEC --secret id=NAME,env=VAR`"
)
# One `${NAME}` reference; group 1 the variable name.
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def is_env_ref(text: str) -> bool:
    """``${NAME}`` and nothing else."""
    return ENV_REF.fullmatch(text) is not None


def is_secret_key(key: str) -> bool:
    """Does a key name a secret? ``tracking_token``, ``apiKey``, ``passWord``, ``db_pass``,
    ``auth_header``, ``Authorization``: yes; ``token_uri``, ``key_prefix``,
    ``credentials_file``: no (they name where a secret is, not the secret)."""
    words = [w.lower() for w in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", key)]
    if not words or words[-1] in _NOT_SECRET_SUFFIXES or words[0] in _COUNT_PREFIXES:
        return False
    flat = "".join(words)
    return any(w in _SECRET_WORDS for w in words) or any(p in flat for p in _SECRET_PARTS)


_SECRET_PARTS = (
    "password", "passwd", "passphrase", "secret", "token", "credential", "apikey",
    "privatekey", "authorization", "cookie", "signature",
)  # fmt: skip
_SECRET_WORDS = {"key", "pwd", "pass", "auth", "pat", "sig", "session"}
_NOT_SECRET_SUFFIXES = {
    "dir", "endpoint", "env", "expiry", "file", "id", "location", "name", "path", "prefix",
    "region", "ttl", "type", "uri", "url", "var", "variable", "tokens", "count", "limit",
    "size", "length", "timeout",
}  # fmt: skip
# `max_tokens`, `num_keys`: how many, not which.
_COUNT_PREFIXES = {"max", "min", "num"}


def _userinfo_is_secret(scheme: str, userinfo: str) -> bool:
    user, colon, password = userinfo.partition(":")
    # A user name alone is fine for ssh (`git+ssh://git@host`) but is a token for http.
    secret = password if colon else ("" if "ssh" in scheme.lower() else user)
    return bool(secret) and not is_env_ref(secret)


def credential_in(text: str) -> str | None:
    """What credential ``text`` holds in plain text, for a message (``"a password or token in
    a URL"``), or None. ``${VAR}`` in place of the secret part is fine."""
    for m in _ANY_USERINFO.finditer(text):
        if _userinfo_is_secret(m.group(1), m.group(2)):
            return "a password or token in a URL"
    for m in _QUERY_PARAM.finditer(text):
        if is_secret_key(m.group(1)) and m.group(2) and not is_env_ref(m.group(2)):
            return f"a secret URL parameter ({m.group(1)}=)"
    if _TOKEN_VALUE.search(text):
        return "a token"
    return None


def has_literal_credentials(url: str) -> bool:
    """Does ``url`` carry a password or token in plain text? (``credential_in``)"""
    return credential_in(url) is not None


def redact_credentials(text: str) -> str:
    """``text`` with every credential ``credential_in`` finds replaced by ``***``: for
    messages, which end up in logs."""

    def userinfo(m: re.Match[str]) -> str:
        return f"{m.group(1)}://***@" if _userinfo_is_secret(m.group(1), m.group(2)) else m[0]

    def query(m: re.Match[str]) -> str:
        return f"{m[0][0]}{m.group(1)}=***" if is_secret_key(m.group(1)) else m[0]

    text = _ANY_USERINFO.sub(userinfo, text)
    text = _QUERY_PARAM.sub(query, text)
    return _TOKEN_VALUE.sub("***", text)


def redact_userinfo(url: str) -> str:
    """``https://***@host/...``: for messages (``redact_credentials``)."""
    return redact_credentials(url)


def strip_userinfo(url: str) -> str:
    """``https://host/...``: for labels, which end up in images."""
    return URL_USERINFO.sub(lambda m: f"{m.group(1)}://", url, count=1)
