"""The SSRF guard on callback URLs."""

from __future__ import annotations

import pytest

from shared.errors import InvalidRequest
from shared.webhooks.netguard import CallbackRefused, resolve_target, validate_callback_url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://172.16.5.4/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data",  # cloud metadata (link-local)
        "http://100.64.0.1/",  # carrier-grade NAT: not public
        "http://[::1]:8080/",
        "http://[fe80::1]/",
        "http://[::ffff:10.0.0.1]/",  # IPv4-mapped
        "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
        "http://2130706433/",  # 127.0.0.1 as one integer
        "http://0x7f.1/",  # and in hex shorthand
        "http://localhost:9000/",
        "http://api.localhost/",
        "http://localhost./hook",  # the absolute (trailing-dot) form of the same name
        "http://LOCALHOST.:8080/",
        "http://api.localhost./",
        "http://127.0.0.1./",
        "http://224.0.0.1/",
        "http://0.0.0.0/",
    ],
)
def test_internal_addresses_are_refused_at_submit(url: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        validate_callback_url(url, [])
    assert err.value.extra["errors"][0]["field"] == "callback_url"


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "file:///etc/passwd", "//example.com", "http://", "http://x:99999/", "http://./"],
)
def test_only_absolute_http_urls(url: str) -> None:
    with pytest.raises(InvalidRequest):
        validate_callback_url(url, [])


def test_public_urls_and_allow_listed_networks_pass() -> None:
    assert (
        validate_callback_url(" https://hooks.example.com/dfs?x=1 ", [])
        == "https://hooks.example.com/dfs?x=1"
    )
    assert validate_callback_url("http://8.8.8.8/", []) == "http://8.8.8.8/"
    assert validate_callback_url("http://10.20.3.4/", ["10.20.0.0/16"]) == "http://10.20.3.4/"
    with pytest.raises(InvalidRequest):
        validate_callback_url("http://10.21.3.4/", ["10.20.0.0/16"])
    assert validate_callback_url(None, []) is None and validate_callback_url("", []) is None


def test_send_time_resolution_vets_every_address_and_pins_the_checked_one() -> None:
    with pytest.raises(CallbackRefused):
        resolve_target("http://localhost:8080/hook", [])
    target = resolve_target("http://localhost:8080/hook?a=1", ["127.0.0.0/8", "::1/128"])
    assert target.address in ("127.0.0.1", "::1")
    assert target.host_header == "localhost:8080"
    assert target.pinned_url.endswith(":8080/hook?a=1") and "localhost" not in target.pinned_url


def test_settings_parse_the_allow_list() -> None:
    from shared.config import Settings

    assert Settings(webhook_allowed_networks="127.0.0.0/8, 10.0.0.0/8").webhook_allowed_networks == [  # type: ignore[arg-type]
        "127.0.0.0/8",
        "10.0.0.0/8",
    ]
    with pytest.raises(ValueError):
        Settings(webhook_allowed_networks="not-a-network")  # type: ignore[arg-type]
