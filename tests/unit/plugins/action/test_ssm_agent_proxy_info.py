# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ssm_agent_proxy_info reads everything in one execution and decodes what Windows stores."""

from __future__ import annotations

import json
import re

import pytest

from ansible_collections.ssm.proxy.plugins.action.ssm_agent_proxy_info import (
    AGENT_LOG,
    LOCALSYSTEM_CONNECTIONS_KEY,
    MACHINE_CONNECTIONS_KEY,
    MACHINE_INTERNET_KEY,
    OS_KEY,
    POLICY_KEY,
    SERVICE_KEY,
    SYSTEM_ENVIRONMENT_KEY,
    ActionModule,
)

from ansible_collections.ssm.proxy.plugins.plugin_utils._blobs import WinHttpProxySettings, encode_winhttp_settings

from .conftest import FakeRegistry, failure

# What `netsh winhttp set proxy proxy.corp:3128` writes (header 0x28, flags 3).
NETSH_BARE = encode_winhttp_settings(WinHttpProxySettings.named_proxy("proxy.corp:3128"))
# Vector I4 of the spec (a regedit export): 127.0.0.1:80, bypass <local>, auto-detect on (flags 0x0b).
IE_MANUAL = bytes.fromhex(
    "46000000510000000b0000000c0000003132372e302e302e313a3830070000003c6c6f63616c3e"
    "000000000000000000000000000000000000000000000000000000000000000000000000"
)
LOG = (
    "2024-06-10 09:10:27.9020 INFO Proxy environment variables:\n"
    "2024-06-10 09:10:27.9021 INFO http_proxy: http://proxy.corp:3128\n"
    "2024-06-10 09:10:27.9021 INFO https_proxy: \n"
    "2024-06-10 09:10:27.9022 INFO no_proxy: \n"
    "2024-06-10 09:10:28.1234 INFO [amazon-ssm-agent] amazon-ssm-agent - v3.3.987.0\n"
)


def host(**extra) -> FakeRegistry:
    keys = {
        SERVICE_KEY: {"ImagePath": ("REG_EXPAND_SZ", "amazon-ssm-agent.exe")},
        OS_KEY: {"CurrentMajorVersionNumber": ("REG_DWORD", 10), "CurrentMinorVersionNumber": ("REG_DWORD", 0),
                 "InstallationType": ("REG_SZ", "Server"), "ProductName": ("REG_SZ", "Windows Server 2022 Datacenter"),
                 "CurrentBuild": ("REG_SZ", "20348")},
        MACHINE_CONNECTIONS_KEY: {"WinHttpSettings": ("REG_BINARY", list(NETSH_BARE))},
    }
    for path, values in extra.items():
        keys[path] = values
    return FakeRegistry(keys, files={AGENT_LOG: LOG})


def test_one_execution_and_winhttp_bare_proxy_diagnosed(make_action) -> None:
    reg = host()
    result = make_action(ActionModule, reg, {}).run(task_vars={})
    assert [call["module"] for call in reg.calls] == ["ansible.windows.win_powershell"]
    assert result["changed"] is False
    assert result["effective"] == {"http_proxy": "http://proxy.corp:3128", "https_proxy": "", "no_proxy": ""}
    assert result["effective_source"] == {"proxy": "winhttp", "bypass": "none"}
    assert result["sources"]["winhttp"] == {"proxy": "proxy.corp:3128", "bypass": ""}
    assert result["sources"]["winhttp_wow64"] == {"proxy": "", "bypass": ""}
    assert result["findings"][0]["code"] == "https_direct"
    assert result["running"]["http_proxy"] == "http://proxy.corp:3128" and result["restart_pending"] is False
    assert result["agent"]["version"] == "3.3.987.0" and result["os"]["version"] == "10.0"


def test_check_mode_reads_the_same(make_action) -> None:
    reg = host()
    result = make_action(ActionModule, reg, {}, check_mode=True).run(task_vars={})
    assert result["effective_source"]["proxy"] == "winhttp" and len(reg.calls) == 1


def test_localsystem_ie_blob_beats_winhttp(make_action) -> None:
    reg = host(**{LOCALSYSTEM_CONNECTIONS_KEY: {"DefaultConnectionSettings": ("REG_BINARY", list(IE_MANUAL))}})
    result = make_action(ActionModule, reg, {}).run(task_vars={})
    assert result["sources"]["wininet"]["proxy"] == "127.0.0.1:80" and result["sources"]["wininet"]["scope"] == "local_system"
    assert result["effective"]["http_proxy"] == "http://127.0.0.1:80"
    assert {"local_macro_ignored", "shadowed", "pac_or_wpad_ignored"} <= {finding["code"] for finding in result["findings"]}


def test_machine_wide_policy_reads_hklm_settings(make_action) -> None:
    reg = host(**{
        POLICY_KEY: {"ProxySettingsPerUser": ("REG_DWORD", 0)},
        MACHINE_INTERNET_KEY: {"ProxyEnable": ("REG_DWORD", 1), "ProxyServer": ("REG_SZ", "http=m:1;https=m:1")},
    })
    result = make_action(ActionModule, reg, {}).run(task_vars={})
    assert result["sources"]["wininet"]["scope"] == "machine" and result["sources"]["wininet"]["from"] == "plain values"
    assert result["effective"]["https_proxy"] == "http://m:1"


def test_environment_sources_and_redaction(make_action) -> None:
    reg = host(**{SYSTEM_ENVIRONMENT_KEY: {"HTTPS_PROXY": ("REG_SZ", "http://u:topsecret@sys:1")}})
    reg.keys[SERVICE_KEY.lower()]["Environment"] = ("REG_MULTI_SZ", ["no_proxy=169.254.169.254"])
    result = make_action(ActionModule, reg, {}).run(task_vars={})
    assert result["effective_source"] == {"proxy": "system_environment", "bypass": "service_registry"}
    assert "topsecret" not in json.dumps(result)
    assert "environment_needs_reboot" in [finding["code"] for finding in result["findings"]]


def test_agent_missing(make_action) -> None:
    reg = host()
    del reg.keys[SERVICE_KEY.lower()]
    result = make_action(ActionModule, reg, {}).run(task_vars={})
    assert result["findings"][0]["code"] == "agent_not_installed" and result["agent"]["installed"] is False


def test_corrupt_blob_fails_naming_the_value(make_action) -> None:
    reg = host()
    reg.keys[MACHINE_CONNECTIONS_KEY.lower()]["WinHttpSettings"] = ("REG_BINARY", [0x28, 0, 0])
    failure(make_action(ActionModule, reg, {}).run(task_vars={}), match="WinHttpSettings")


def test_tiny_tail_refused(make_action) -> None:
    failure(make_action(ActionModule, host(), {"log_tail_bytes": 10}).run(task_vars={}), match="log_tail_bytes")


def test_desired_compliance_in_the_same_read(make_action) -> None:
    reg = host()
    reg.keys[SERVICE_KEY.lower()]["Environment"] = ("REG_MULTI_SZ", [
        "http_proxy=http://proxy.corp:3128", "https_proxy=http://proxy.corp:3128", "no_proxy=169.254.169.254,fd00:ec2::254"])
    desired = {
        "ssm_agent_proxy": {"proxy": "http://proxy.corp:3128"},
        "winhttp_proxy": {"proxy": {"http": "proxy.corp:3128", "https": "proxy.corp:3128"}, "views": ["native"]},
        "wininet_proxy": None,
    }
    result = make_action(ActionModule, reg, {"desired": desired}).run(task_vars={})
    assert len(reg.calls) == 1
    assert result["compliance"] == {"ssm_agent_proxy": True, "winhttp_proxy": False} and result["compliant"] is False
    desired["winhttp_proxy"] = {"proxy": "proxy.corp:3128", "imds_bypass": False, "views": ["native"]}
    first_run = result["run"]
    result = make_action(ActionModule, reg, {"desired": desired}).run(task_vars={"awx_job_id": 42})
    assert result["compliance"]["winhttp_proxy"] is True  # netsh's bare proxy, as wanted
    # Every read names a new run for the change after it (the role keys its backups with it), at no execution; its
    # owner is the AWX job, else the controller's user.
    assert set(result["run"]) == {"id", "started", "owner"} and result["run"]["id"] != first_run["id"] and len(reg.calls) == 2
    assert result["run"]["owner"] == "AWX job 42" and first_run["owner"].endswith(" with ansible-playbook")
    assert any("http_proxy" in warning for warning in result["warnings"])  # the bare host:port warning


@pytest.mark.parametrize(("desired", "fragment"), [
    ({"bogus": {}}, "desired: unknown component 'bogus'"),
    ({"ssm_agent_proxy": {"proxy": "socks5://p:1"}}, "proxy: scheme 'socks5'"),
    ({"ssm_agent_proxy": {"prxy": "http://p:1"}}, "desired.ssm_agent_proxy: "),
    ({"winhttp_proxy": "p:1"}, "must be a dict of winhttp_proxy options"),
])
def test_bad_desired_fails_before_reading(make_action, desired, fragment) -> None:
    reg = host()
    failure(make_action(ActionModule, reg, {"desired": desired}).run(task_vars={}), match=re.escape(fragment))
    assert reg.calls == []


def test_pending_backups_reported(make_action) -> None:
    reg = host()
    reg.keys["hklm:\\software\\ssm.proxy\\backup"] = {"ssm_agent_proxy": ("REG_SZ", "{}")}
    assert make_action(ActionModule, reg, {}).run(task_vars={})["pending_backups"] == ["ssm_agent_proxy"]


def test_routes_for_the_region_instance_metadata_and_extra_endpoints(make_action) -> None:
    reg = host(**{SERVICE_KEY: {"Environment": ("REG_MULTI_SZ", ["https_proxy=https://u:pw@p:443", "no_proxy=.cn-north-1.amazonaws.com.cn"])}})
    result = make_action(ActionModule, reg, {"region": "cn-north-1", "endpoints": ["wss://example.com/x"]}).run(task_vars={})
    assert [(route["name"], route["url"].split("/")[2], route["proxy"], route["matched"]) for route in result["routes"]] == [
        (name, f"{name}.cn-north-1.amazonaws.com.cn", "", ".cn-north-1.amazonaws.com.cn")
        for name in ("ssm", "ec2messages", "ssmmessages", "s3", "kms", "logs")
    ] + [("imds", "169.254.169.254", "", None), ("imds_ipv6", "[fd00:ec2::254]", "", None), (None, "example.com", "https://u:********@p:443", None)]
    assert "ssm_direct" in [finding["code"] for finding in result["findings"]]
    assert len(reg.calls) == 1


def test_routes_without_region_hold_instance_metadata_only(make_action) -> None:
    result = make_action(ActionModule, host(), {}).run(task_vars={})
    assert [route["name"] for route in result["routes"]] == ["imds", "imds_ipv6"]
    # netsh's bare proxy.corp:3128 is http_proxy only: metadata (http://) goes through it.
    assert result["routes"][0]["proxy"] == "http://proxy.corp:3128"


@pytest.mark.parametrize(("args", "fragment"), [({"region": "EU-WEST-1"}, "region: 'EU-WEST-1' is not an AWS region"),
                                                ({"endpoints": ["proxy:3128"]}, "endpoints: 'proxy:3128' needs an http://")])
def test_bad_region_or_endpoints_fail_before_reading(make_action, args, fragment) -> None:
    reg = host()
    failure(make_action(ActionModule, reg, args).run(task_vars={}), match=re.escape(fragment))
    assert reg.calls == []
