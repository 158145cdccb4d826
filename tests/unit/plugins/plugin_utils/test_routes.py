# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Routes: where each endpoint's traffic goes (Go's ProxyFromEnvironment; tests/unit/test_go_differential.py checks it against Go)."""

from __future__ import annotations

import pytest

from ansible_collections.ssm.proxy.plugins.plugin_utils._diagnosis import diagnose
from ansible_collections.ssm.proxy.plugins.plugin_utils._proxy import ProxyInputError
from ansible_collections.ssm.proxy.plugins.plugin_utils._routes import (
    agent_endpoints,
    partition_domain,
    requested_endpoints,
    routes,
)

PROXY = {"http_proxy": "http://u:secret@proxy:3128", "https_proxy": "http://u:secret@proxy:3128", "no_proxy": "169.254.169.254,.corp,10.0.0.0/8"}


@pytest.mark.parametrize(("region", "domain"), [
    ("eu-west-1", "amazonaws.com"), ("cn-north-1", "amazonaws.com.cn"), ("us-gov-west-1", "amazonaws.com"), ("us-iso-east-1", "c2s.ic.gov")])
def test_partition_domain(region: str, domain: str) -> None:
    assert partition_domain(region) == domain


def test_agent_endpoints_in_a_china_region() -> None:
    assert agent_endpoints("cn-north-1")[:3] == [("ssm", "https://ssm.cn-north-1.amazonaws.com.cn"),
                                                 ("ec2messages", "https://ec2messages.cn-north-1.amazonaws.com.cn"),
                                                 ("ssmmessages", "wss://ssmmessages.cn-north-1.amazonaws.com.cn")]
    assert [name for name, _url in agent_endpoints(None)] == ["imds", "imds_ipv6"]


def test_routes_name_the_proxy_redacted_and_the_matching_entry() -> None:
    found = routes(PROXY, [("a", "https://ssm.eu-west-1.amazonaws.com"), ("b", "https://git.corp"), ("c", "https://10.1.2.3:8443"),
                           ("d", "http://169.254.169.254/latest"), ("e", "http://[fd00:ec2::254]/"), ("f", "https://localhost:1"),
                           ("g", "ftp://files.example.com")])
    assert [(route["proxy"], route["matched"]) for route in found] == [
        ("http://u:********@proxy:3128", None), ("", ".corp"), ("", "10.0.0.0/8"), ("", "169.254.169.254"),
        ("http://u:********@proxy:3128", None), ("", None), ("", None)]
    assert "secret" not in repr(found)


def test_websocket_urls_are_asked_as_https() -> None:
    # Only https_proxy can take the data channel: the websocket client asks for wss:// as https://.
    found = routes({"http_proxy": "http://h:1", "https_proxy": "", "no_proxy": ""}, [("ssmmessages", "wss://ssmmessages.eu-west-1.amazonaws.com")])
    assert found[0]["proxy"] == ""
    found = routes({"http_proxy": "", "https_proxy": "http://s:1", "no_proxy": ""}, [("ssmmessages", "wss://ssmmessages.eu-west-1.amazonaws.com")])
    assert found[0]["proxy"] == "http://s:1" and found[0]["url"] == "wss://ssmmessages.eu-west-1.amazonaws.com"


@pytest.mark.parametrize(("region", "endpoints", "named"), [
    ("eu_west_1", None, "region"), ("eu-west-1", "https://x", "endpoints"), (None, ["proxy:3128"], "endpoints"),
    (None, ["https://%zz"], "endpoints"), (None, [3], "endpoints")])
def test_bad_region_or_endpoint_is_named(region, endpoints, named) -> None:
    with pytest.raises(ProxyInputError) as error:
        requested_endpoints(region, endpoints)
    assert error.value.option == named


def codes(raw, region) -> list[str]:
    return [f["code"] for f in diagnose(raw, endpoints=requested_endpoints(region, None))["findings"]]


def test_ssm_direct_names_the_no_proxy_entry() -> None:
    raw = {"service_registry": ["https_proxy=http://p:1", "http_proxy=http://p:1", "no_proxy=169.254.169.254,fd00:ec2::254,amazonaws.com"]}
    result = diagnose(raw, endpoints=requested_endpoints("eu-west-1", None))
    [finding] = [f for f in result["findings"] if f["code"] == "ssm_direct"]
    assert "'amazonaws.com'" in finding["message"]
    assert "ssm_direct" not in codes({"service_registry": ["https_proxy=http://p:1", "no_proxy=169.254.169.254"]}, "eu-west-1")
    # No proxy at all: direct is what the host wants, nothing to report.
    assert "ssm_direct" not in codes({}, "eu-west-1")


def test_session_manager_cannot_use_an_https_proxy() -> None:
    raw = {"service_registry": ["https_proxy=https://p:443", "http_proxy=http://p:1", "no_proxy=169.254.169.254,fd00:ec2::254"]}
    assert "session_manager_https_proxy" in codes(raw, "eu-west-1")
    assert "session_manager_https_proxy" not in codes(raw, None)  # without a region the endpoint is unknown


def test_routes_that_depend_on_the_go_release_name_both_outcomes() -> None:
    raw = {"service_registry": ["https_proxy=http://[a,b]:80", "http_proxy=http://h:1:2", "no_proxy=169.254.169.254"]}
    messages = [f["message"] for f in diagnose(raw, endpoints=requested_endpoints("eu-west-1", None))["findings"]
                if f["code"] == "go_release_dependent"]
    # https_proxy: Go 1.24.8 / 1.25.2 refuse the bracketed host and retry with http:// in front; older Go keep it.
    assert any("https://ssm.eu-west-1.amazonaws.com" in m and "later it goes http://http://[a,b]:80" in m
               and "older Go http://[a,b]:80" in m for m in messages)
    # http_proxy: two colons, fine under the agent's go 1.21 go.mod, refused (then retried) from go 1.26 on.
    assert any("[fd00:ec2::254]" in m and "go 1.21) it goes http://h:1:2" in m for m in messages)
    assert len(messages) == 2
