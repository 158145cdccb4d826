# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The effective_agent_proxy filter."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.ssm.proxy.plugins.filter.effective_agent_proxy import FilterModule, effective_agent_proxy


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
