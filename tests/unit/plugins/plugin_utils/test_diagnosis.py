# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings of the diagnosis: each code fires when the spec says it should, and not otherwise."""

from __future__ import annotations

import json

import pytest

from ansible_collections.ssm.proxy.plugins.plugin_utils._diagnosis import HostFacts, diagnose

GOOD = ["http_proxy=http://p:3128", "https_proxy=http://p:3128", "no_proxy=169.254.169.254,fd00:ec2::254"]


def codes(raw, facts=None, log=None) -> list[str]:
    return [finding["code"] for finding in diagnose(raw, facts, log)["findings"]]


def test_well_configured_agent_has_no_findings() -> None:
    assert not codes({"service_registry": GOOD})


@pytest.mark.parametrize(
    ("raw", "facts", "expected"),
    [
        ({"winhttp": {"proxy": "p:3128", "bypass": "169.254.169.254"}}, None, "https_direct"),
        ({"service_registry": ["http_proxy=http://p:1"]}, None, "https_direct"),
        # Instance metadata is asked over http://: only http_proxy can take it there.
        ({"service_registry": ["http_proxy=http://p:1", "https_proxy=http://p:1"]}, None, "imds_not_bypassed"),
        ({"service_registry": ["https_proxy=http://p:1", "no_proxy=[fd00:ec2::254],169.254.169.254"]}, None, "ipv6_imds_bracketed"),
        ({"service_registry": ["https_proxy=http://p:1", "no_proxy=169.254.169.254,10.*"]}, None, "ie_wildcard_ignored"),
        ({"wininet": {"proxy_enabled": True, "proxy": "http=p:1;https=p:1", "bypass": "<local>;169.254.169.254"}}, None, "local_macro_ignored"),
        ({"wininet": {"proxy_enabled": False, "auto_detect": True}}, None, "pac_or_wpad_ignored"),
        ({"wininet": {"proxy_enabled": False, "auto_config_url_enabled": True, "auto_config_url": "http://wpad/proxy.pac"}}, None,
         "pac_or_wpad_ignored"),
        ({"service_registry": ["https_proxy=https://p:443", "no_proxy=169.254.169.254"]}, None, "https_scheme_proxy"),
        ({"service_registry": ["https_proxy=http://u:secret@p:1", "no_proxy=169.254.169.254"]}, None, "credentials_in_log"),
        ({"service_registry": ["https_proxy=http://u:p%40ss@p:1", "no_proxy=169.254.169.254"]}, None, "percent_mangled_in_log"),
        ({"service_registry": ["https_proxy=http://u:p=ss@p:1", "no_proxy=169.254.169.254"]}, None, "equals_breaks_plugins"),
        ({"service_registry": GOOD, "system_environment": {"https_proxy": "http://other:1"}}, None, "shadowed"),
        ({"service_registry": GOOD, "winhttp": {"proxy": "w:1"}}, None, "shadowed"),
        ({"system_environment": {"https_proxy": "http://a:1"}, "localsystem_environment": {"https_proxy": "http://b:1"}}, None,
         "environment_conflict"),
        ({"system_environment": {"https_proxy": "http://a:1", "no_proxy": "169.254.169.254"}}, None, "environment_needs_reboot"),
        ({}, HostFacts(agent_installed=False), "agent_not_installed"),
        ({}, HostFacts(agent_installed=False, ec2config_installed=True), "ec2config_only"),
        ({"service_registry": GOOD}, HostFacts(os_version="6.1"), "windows_2008_agent_limit"),
        ({"service_registry": GOOD}, HostFacts(installation_type="Nano Server"), "nano_server"),
    ],
)
def test_finding_fires(raw, facts, expected) -> None:
    assert expected in codes(raw, facts)


@pytest.mark.parametrize(
    ("raw", "absent"),
    [
        ({"service_registry": GOOD}, "https_direct"),
        ({"service_registry": ["http_proxy=http://p:1", "no_proxy=169.254.0.0/16,fd00:ec2::/32"]}, "imds_not_bypassed"),
        ({"service_registry": ["http_proxy=http://p:1", "no_proxy=*"]}, "imds_not_bypassed"),
        ({"service_registry": GOOD, "system_environment": {"https_proxy": "http://a:1"},
          "localsystem_environment": {"https_proxy": "http://b:1"}}, "environment_conflict"),
        ({"service_registry": GOOD, "system_environment": {"https_proxy": "http://a:1"}}, "environment_needs_reboot"),
        ({"service_registry": ["https_proxy=http://p:1", "no_proxy=169.254.169.254,*.corp,.corp"]}, "ie_wildcard_ignored"),
        ({"wininet": {"proxy_enabled": False, "proxy": "ignored:1"}}, "shadowed"),
    ],
)
def test_finding_does_not_fire(raw, absent) -> None:
    assert absent not in codes(raw)


def test_everything_is_redacted() -> None:
    raw = {"service_registry": ["https_proxy=http://u:hunter2@p:1"], "wininet": {"proxy_enabled": True, "proxy": "http://v:hunter3@i:1"},
           "system_environment": {"HTTPS_PROXY": "http://w:hunter4@s:1"}}
    log = "2024-06-10 09:10:27.9020 INFO Proxy environment variables:\n2024-06-10 09:10:27.9021 INFO https_proxy: http://u:hunter2@p:1\n"
    text = json.dumps(diagnose(raw, log_text=log))
    assert "hunter" not in text and "********" in text


def test_running_and_restart_pending() -> None:
    log = ("2024-06-10 09:10:27.9020 INFO Proxy environment variables:\n"
           "2024-06-10 09:10:27.9021 INFO https_proxy: http://old:1\n"
           "2024-06-10 09:10:27.9021 INFO http_proxy: http://old:1\n"
           "2024-06-10 09:10:27.9022 INFO no_proxy: \n"
           "2024-06-10 09:10:28.1234 INFO [amazon-ssm-agent] amazon-ssm-agent - v3.3.987.0\n")
    result = diagnose({"service_registry": GOOD}, log_text=log)
    assert result["running"]["https_proxy"] == "http://old:1" and result["running"]["agent_version"] == "3.3.987.0"
    assert result["restart_pending"] is True
    current = log.replace("http://old:1", "http://p:3128").replace("no_proxy: ", "no_proxy: 169.254.169.254,fd00:ec2::254")
    assert diagnose({"service_registry": GOOD}, log_text=current)["restart_pending"] is False
    assert diagnose({"service_registry": GOOD}, log_text="")["restart_pending"] is None


def test_agent_warn_lines_come_back_as_findings_redacted() -> None:
    findings = diagnose({"winhttp": {"proxy": "http=u:secret@pr%41xy:1;https=p:1", "bypass": "<local>;169.254.169.254"}})["findings"]
    skips = [finding for finding in findings if finding["code"] == "agent_skips_value"]
    assert [finding["severity"] for finding in skips] == ["warning", "info"]
    assert 'invalid URL escape "%41"' in skips[0]["message"] and "http://u:********@pr%41xy:1" in skips[0]["message"]
    assert "secret" not in json.dumps(findings)
    assert "<local> host not supported, skipped" in skips[1]["message"]


@pytest.mark.parametrize(
    ("proxy", "bypass", "both"),
    [
        # Go 1.24.8 / 1.25.2 refuse a bracketed host that is not an IPv6 address; older releases keep it.
        ("http=[a,b]:80;https=p:1", "", ("skips it (parse \"http://[a,b]:80\": invalid host", "uses http://[a,b]:80")),
        # A second ':' in the host: accepted under the agent's go 1.21 go.mod, refused from go 1.26 on.
        ("http=p:1;https=p:1", "169.254.169.254;h:1:2", ("adds 'h:1:2' to no_proxy", "skips it (parse \"http://h:1:2\": invalid port")),
    ],
)
def test_go_release_dependent_values_name_both_outcomes(proxy: str, bypass: str, both: tuple[str, str]) -> None:
    findings = [f for f in diagnose({"winhttp": {"proxy": proxy, "bypass": bypass}})["findings"] if f["code"] == "go_release_dependent"]
    assert len(findings) == 1
    assert all(outcome in findings[0]["message"] for outcome in both)


def test_ordinary_values_depend_on_no_go_release() -> None:
    assert "go_release_dependent" not in codes({"winhttp": {"proxy": "http=p:1;https=[fd00::1]:3128", "bypass": "169.254.169.254;[::1]:80"}})


def test_imds_goes_direct_without_http_proxy_and_the_ipv6_address_counts_too() -> None:
    # Go's ProxyFromEnvironment uses only http_proxy for the http:// metadata URL.
    assert "imds_not_bypassed" not in codes({"service_registry": ["https_proxy=http://p:1"]})
    messages = [f["message"] for f in diagnose({"service_registry": ["http_proxy=http://p:1", "https_proxy=http://p:1",
                                                                     "no_proxy=169.254.169.254"]})["findings"] if f["code"] == "imds_not_bypassed"]
    assert len(messages) == 1 and "cover fd00:ec2::254" in messages[0]
