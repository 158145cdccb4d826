# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows-format proxy and bypass strings, and how the SSM Agent reads them."""

from __future__ import annotations

import pytest

from ansible_collections.ssm.proxy.plugins.plugin_utils._proxy import ProxyInputError
from ansible_collections.ssm.proxy.plugins.plugin_utils._winproxy import (
    WININET_MACROS,
    agent_proxies,
    normalise_bypass_list,
    parse_windows_proxy,
    proxy_warnings,
)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("proxy:3128", "proxy:3128"),
        ("http://proxy:3128/", "proxy:3128"),
        ("proxy", "proxy"),
        ("[fd00::1]:3128", "[fd00::1]:3128"),
        ("HTTPS=b:2;HTTP=a:1", "https=b:2;http=a:1"),
        ("http=http://a:1;https=a:1;", "http=a:1;https=a:1"),
        ("a:1;socks=s:1080", "a:1;socks=s:1080"),
        ({"https": "b:2", "http": "http://a:1", "socks": "s:1080"}, "http=a:1;https=b:2;socks=s:1080"),
    ],
)
def test_parse_windows_proxy(value, stored) -> None:
    assert parse_windows_proxy("proxy", value) == stored


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({}, "empty dict"),
        ({"http": "a:1", "HTTP": "b:1"}, "names a scheme twice"),
        (3128, "must be a string"),
        ({"http": 3128}, "proxy.http: must be a string"),
        (";", "names no proxy server"),
        ("http=", "has no server after .http=.; write http=host:port"),
    ],
)
def test_parse_windows_proxy_refuses(value, fragment) -> None:
    with pytest.raises(ProxyInputError, match=fragment):
        parse_windows_proxy("proxy", value)


@pytest.mark.parametrize(
    ("proxy", "expected"),
    [
        # agent/proxyconfig/proxy_windows.go ParseProxySettings, case by case.
        ("p:1", ("p:1", None)),
        ("http=a:1;https=b:2", ("a:1", "b:2")),
        ("https=b:2", (None, "b:2")),
        ("https=b:2;o:3", ("o:3", "b:2")),
        ("http=a:1", ("a:1", None)),
        ("http=a:1;o:3", ("a:1", "o:3")),
        ("HTTP=a:1;HTTPS=b:2", (None, None)),  # scheme names are case-sensitive, unknown ones dropped
        ("ftp=f:1 socks=s:2", (None, None)),
    ],
)
def test_agent_proxies_mirror_parse_proxy_settings(proxy, expected) -> None:
    assert agent_proxies(proxy) == expected


def test_warnings_only_when_https_goes_direct() -> None:
    assert proxy_warnings("proxy", "http=a:1;https=a:1", "WinHTTP") == []
    assert "http_proxy only" in proxy_warnings("proxy", "a:1", "WinHTTP")[0]
    assert "no https= server" in proxy_warnings("proxy", "http=a:1", "WinHTTP")[0]


def test_bypass_list_order_dedupe_and_macros() -> None:
    entries = ["<LOCAL>", "Host.Example.com", "host.example.com", "10.*", "169.254.169.254", "<-loopback>", "[fd00::1]:80"]
    assert normalise_bypass_list("bypass", entries, True, WININET_MACROS) == [
        "Host.Example.com", "10.*", "169.254.169.254", "[fd00::1]:80", "fd00:ec2::254", "[fd00:ec2::254]", "<local>", "<-loopback>",
    ]


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ("10.1.0.0/16", "use '10.1.*'"),
        ("10.1.2.0/23", "list the addresses"),
        ("host:99999", "has port '99999'"),
        ("-bad-.example.com", "not a valid host name"),
        ("", "empty entry"),
        ("a,b", "several entries"),
    ],
)
def test_bypass_entries_refused(entry, fragment) -> None:
    with pytest.raises(ProxyInputError, match=fragment):
        normalise_bypass_list("bypass", [entry], False, WININET_MACROS)
