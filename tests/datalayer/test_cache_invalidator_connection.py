"""How the deployed cache invalidator connects: TLS, its own user, the password from its secret.

The real-server tests (``test_cache.py``) run without TLS (the local server's wheel has none);
here the connection is built offline and its parameters checked."""

from __future__ import annotations

import pytest
import valkey
from valkey.connection import SSLConnection

from functions.cache_invalidator.handler import cache_url, from_environment

CLOUD = {
    "CACHE_HOST": "master.medeez-prod-cache.abc123.euc1.cache.amazonaws.com",
    "CACHE_PORT": "6379",
    "CACHE_TLS": "true",
    "CACHE_USER": "invalidator",
    "CACHE_SECRET_ARN": "arn:aws:secretsmanager:eu-central-1:111111111111:secret:x",
    "CACHE_KEY_PREFIX": "medeez:prod:",
    "CACHE_TTL_SECONDS": "60",
}


def _password(arn: str) -> str:
    assert arn == CLOUD["CACHE_SECRET_ARN"]
    return "p/ss@word"


def test_cloud_connection_is_tls_as_the_invalidator_user() -> None:
    invalidator = from_environment(CLOUD, _password)
    pool = invalidator.cache.client.connection_pool
    assert pool.connection_class is SSLConnection
    kwargs = pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == (CLOUD["CACHE_HOST"], 6379, 0)
    assert (kwargs["username"], kwargs["password"]) == ("invalidator", "p/ss@word")
    assert kwargs.get("ssl_cert_reqs", "required") == "required"
    assert (kwargs["lib_name"], kwargs["lib_version"]) == (None, None)
    assert invalidator.cache.settings.key_prefix == "medeez:prod:"
    assert invalidator.cache.settings.ttl_seconds == 60


def test_without_tls_the_connection_is_plain() -> None:
    url = cache_url({**CLOUD, "CACHE_TLS": "false"}, _password)
    assert url.startswith("valkey://invalidator:")
    pool = valkey.ConnectionPool.from_url(url)  # type: ignore[no-untyped-call]
    assert pool.connection_class is valkey.Connection


def test_local_url_wins_and_no_secret_is_read() -> None:
    def refuse(arn: str) -> str:
        raise AssertionError("no secret locally")

    url = "valkey://app:pw@127.0.0.1:7000/0"
    assert cache_url({**CLOUD, "CACHE_URL": url}, refuse) == url


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"CACHE_HOST": ""}, "cache invalidator: CACHE_URL or CACHE_HOST not set"),
        ({"CACHE_TLS": "yes"}, "cache invalidator: CACHE_TLS is 'yes'; allowed: true, false"),
        ({"CACHE_PORT": "x"}, "cache invalidator: CACHE_PORT is 'x'; allowed: a port number"),
        ({"CACHE_TTL_SECONDS": ""}, "cache invalidator: CACHE_TTL_SECONDS not set"),
    ],
)
def test_bad_environment_is_one_line(change: dict[str, str], message: str) -> None:
    with pytest.raises(RuntimeError) as error:
        from_environment({**CLOUD, **change}, _password)
    assert str(error.value) == message
