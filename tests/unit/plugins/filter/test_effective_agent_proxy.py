# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The effective_agent_proxy filter."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.ssm.proxy.plugins.filter.core import FilterModule, effective_agent_proxy


def test_registered() -> None:
    assert FilterModule().filters()["effective_agent_proxy"] is effective_agent_proxy


def test_netsh_bare_proxy_sends_https_direct() -> None:
    result = effective_agent_proxy({"winhttp": {"proxy": "proxy.example.com:3128", "bypass": ""}})
    assert result["effective"] == {"http_proxy": "http://proxy.example.com:3128", "https_proxy": "", "no_proxy": ""}
    assert result["effective_source"] == {"proxy": "winhttp", "bypass": "none"}
    assert "http=proxy.example.com:3128;https=proxy.example.com:3128" in result["findings"][0]["message"]


def test_service_lines_and_ie_bypass_combine() -> None:
    result = effective_agent_proxy({
        "service_registry": ["https_proxy=http://a:3128"],
        "wininet": {"proxy_enabled": True, "proxy": "b:8080", "bypass": "*.corp;<local>"},
    })
    assert result["effective"] == {"http_proxy": "", "https_proxy": "http://a:3128", "no_proxy": "*.corp"}
    assert result["effective_source"] == {"proxy": "service_registry", "bypass": "wininet"}


@pytest.mark.parametrize(("value", "fragment"), [("x", "must be a dict"), ({"bogus": 1}, "unknown source(s) bogus"),
                                                 ({"winhttp": "p:1"}, "winhttp must be a dict")])
def test_bad_input(value, fragment) -> None:
    with pytest.raises(AnsibleFilterError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        effective_agent_proxy(value)


def test_endpoints_give_routes_in_order() -> None:
    result = effective_agent_proxy({
        "service_registry": ["https_proxy=http://u:pw@proxy:3128", "http_proxy=http://u:pw@proxy:3128", "no_proxy=169.254.169.254,.corp"],
        "endpoints": ["https://s3.eu-west-1.amazonaws.com", "http://169.254.169.254/latest/api/token", "https://git.corp", "http://[::1]:80"],
    })
    assert result["routes"] == [
        {"url": "https://s3.eu-west-1.amazonaws.com", "proxy": "http://u:********@proxy:3128", "matched": None},
        {"url": "http://169.254.169.254/latest/api/token", "proxy": "", "matched": "169.254.169.254"},
        {"url": "https://git.corp", "proxy": "", "matched": ".corp"},
        {"url": "http://[::1]:80", "proxy": "", "matched": None},
    ]
    assert "routes" not in effective_agent_proxy({"service_registry": ["https_proxy=http://p:1"]})


@pytest.mark.parametrize("endpoints", ["https://x", ["ftp://x"], [None]])
def test_bad_endpoints_are_named(endpoints) -> None:
    with pytest.raises(AnsibleFilterError, match="effective_agent_proxy: endpoints"):
        effective_agent_proxy({"endpoints": endpoints})
