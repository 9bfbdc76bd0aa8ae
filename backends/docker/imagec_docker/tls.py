"""TLS to a remote dockerd with the CA ``DOCKER_CERT_PATH`` names, whatever the environment
says about other CAs. Imported only where docker-py is (``engine._client_kwargs``).

requests lets ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` replace a session's ``verify`` on
every request (``Session.merge_environment_settings``), so docker-py, which sets the
session's ``verify`` to ``$DOCKER_CERT_PATH/ca.pem``, then checks the engine's certificate
against the machine's bundle and fails (``unable to get local issuer certificate``) on any
machine that sets those variables (a proxy's CA, a Nix profile). The docker CLI trusts only
``ca.pem`` for the engine; so does this. Proxies from the environment still apply.
"""

from __future__ import annotations

from typing import Any

from docker.tls import TLSConfig


class KeepVerify(TLSConfig):
    """``tls`` as it was configured, with the session's CA kept on every request."""

    def __init__(self, tls: TLSConfig) -> None:
        self.__dict__.update(vars(tls))

    def configure_client(self, client: Any) -> None:
        super().configure_client(client)
        merge = client.merge_environment_settings

        def keep_verify(url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
            settings = merge(url, proxies, stream, verify, cert)
            settings["verify"] = client.verify
            return settings

        client.merge_environment_settings = keep_verify


def own_ca(kwargs: dict[str, Any]) -> dict[str, Any]:
    """docker-py client arguments whose TLS verification keeps the engine's own CA."""
    tls = kwargs.get("tls")
    if not isinstance(tls, TLSConfig) or not (tls.verify and tls.ca_cert):
        return kwargs
    return {**kwargs, "tls": KeepVerify(tls)}
