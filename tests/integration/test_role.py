# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent_proxy role through the configure/reset/report playbooks, on simulated fleets."""

from __future__ import annotations

import copy
import json
import pathlib
import re

import pytest

from ansible_collections.ssm.proxy.plugins.plugin_utils._blobs import WinHttpProxySettings, blob_to_hex, encode_winhttp_settings

from .conftest import ROOT, load_state, output

pytestmark = pytest.mark.integration

PROXY = "http://proxy.example.com:3128"
SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"
WINHTTP_KEY = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections"
CONFIGURE = ROOT / "playbooks" / "configure.yml"
RESET = ROOT / "playbooks" / "reset.yml"
REPORT = ROOT / "playbooks" / "report.yml"
VARS = json.dumps({"ssm_proxy_url": PROXY, "ssm_proxy_no_proxy": [".corp.example.com", "10.0.0.0/8"]})


def netsh_host() -> dict:
    """WinHTTP set earlier with `netsh winhttp set proxy proxy.example.com:3128` and other lines in the agent's Environment."""
    state = copy.deepcopy(load_state("server2019"))
    blob = encode_winhttp_settings(WinHttpProxySettings.named_proxy("proxy.example.com:3128", "<local>"))
    state["registry"][WINHTTP_KEY]["WinHttpSettings"] = {"type": "REG_BINARY", "value": blob_to_hex(blob)}
    return state


def modules(fleet, host: str) -> list[str]:
    return [call["module"].rsplit(".", 1)[-1] for call in fleet.calls(host)]


def blocks(fleet, host: str) -> int:
    return fleet.agent_log(host).count("Proxy environment variables:")


def without_collection_keys(state: dict) -> dict:
    """The host state without the collection's own bookkeeping keys (HKLM:\\SOFTWARE\\ssm.proxy...)."""
    state = copy.deepcopy(state)
    state["registry"] = {key: value for key, value in state["registry"].items() if "\\ssm.proxy" not in key.lower()}
    return state


def test_configure_changes_once_then_costs_one_execution_per_host(sim_fleet) -> None:
    fleet = sim_fleet({"clean": "server2022", "netsh": netsh_host(), "done": "server2022"})
    # "done" starts compliant: configure it alone first.
    first_done = fleet.run(CONFIGURE, "-e", VARS, "--limit", "done")
    assert first_done.returncode == 0, output(first_done)
    for host in fleet.hosts:
        fleet.state_path(host).write_text(json.dumps({**fleet.state(host), "calls": []}))
    log_blocks = {host: blocks(fleet, host) for host in fleet.hosts}

    result = fleet.run(CONFIGURE, "-e", VARS, "--diff")
    assert result.returncode == 0, output(result)
    for host in ("clean", "netsh"):
        assert modules(fleet, host).count("win_service") == 1, modules(fleet, host)  # restarted once
        assert blocks(fleet, host) == log_blocks[host] + 1
        assert re.search(rf"https_proxy: {re.escape(PROXY)}$", fleet.agent_log(host), re.M)
    assert modules(fleet, "done") == ["win_powershell"]  # the plan read, nothing else
    assert fleet.registry_value("netsh", SERVICE_KEY, "Environment")[0] == "AWS_REGION=eu-west-1"
    assert "password" not in result.stdout.lower() or "********" in result.stdout

    before = {host: len(fleet.calls(host)) for host in fleet.hosts}
    again = fleet.run(CONFIGURE, "-e", VARS)
    assert again.returncode == 0, output(again)
    assert "changed=0" in again.stdout and "RUNNING HANDLER" not in again.stdout, output(again)
    for host in fleet.hosts:
        assert len(fleet.calls(host)) == before[host] + 1, modules(fleet, host)[before[host]:]


def test_check_mode_changes_nothing(sim_fleet) -> None:
    fleet = sim_fleet({"clean": "server2022"})
    before = fleet.host_state("clean")
    result = fleet.run(CONFIGURE, "-e", VARS, "--check", "--diff")
    assert result.returncode == 0, output(result)
    assert fleet.host_state("clean") == before  # registry, services and the agent log
    # The plan's read only: the restart is announced on the controller, and win_service is not even asked.
    assert [call["module"] for call in fleet.calls("clean")] == ["ansible.windows.win_powershell"]
    assert "Its Environment value would change: AmazonSSMAgent would restart (check mode)." in result.stdout, output(result)


def test_unreachable_proxy_fails_preflight_with_nothing_changed(sim_fleet) -> None:
    state = copy.deepcopy(load_state("server2022"))
    state["network"] = {"unreachable_proxies": ["proxy.example.com:3128"]}
    fleet = sim_fleet({"cut": state})
    before = fleet.host_state("cut")
    result = fleet.run(CONFIGURE, "-e", VARS)
    assert result.returncode != 0, output(result)
    assert "Pre-flight failed: from the host through" in result.stdout, output(result)
    assert "https://ssm.eu-west-1.amazonaws.com/" in result.stdout and "Unable to connect to the remote server" in result.stdout
    assert without_collection_keys(fleet.host_state("cut")) == without_collection_keys(before)
    assert "win_regedit" not in modules(fleet, "cut")
    assert not [call for call in fleet.calls("cut") if "write_values" in str(call["args"].get("script", ""))]


@pytest.mark.parametrize("fault", ["without_settings", "fails"])
def test_agent_that_does_not_take_the_settings_is_rolled_back_byte_for_byte(sim_fleet, fault: str) -> None:
    state = netsh_host()
    state["faults"] = {"agent_start": fault, "agent_start_faults_remaining": 1}
    fleet = sim_fleet({"bad": state})
    before = fleet.host_state("bad")
    result = fleet.run(CONFIGURE, "-e", VARS)
    assert result.returncode != 0, output(result)
    assert "Restored the previous values of" in result.stdout, output(result)
    assert "the agent runs with them again" in result.stdout, output(result)
    after = fleet.host_state("bad")
    assert without_collection_keys(after)["registry"] == without_collection_keys(before)["registry"]
    assert after["services"]["AmazonSSMAgent"]["state"] == "running"
    assert "ssm_agent_proxy" not in json.dumps(after["registry"].get("HKLM:\\SOFTWARE\\ssm.proxy\\Backup", {}))


def test_detached_restart_path(sim_fleet) -> None:
    fleet = sim_fleet({"ssm": "server2022"})
    result = fleet.run(CONFIGURE, "-e", VARS, "-e", "ssm_proxy_restart_method=detached")
    assert result.returncode == 0, output(result)
    calls = fleet.calls("ssm")
    assert "win_service" not in modules(fleet, "ssm")
    assert any("restart_agent" in str(call["args"].get("script", "")) for call in calls), calls
    assert re.search(rf"https_proxy: {re.escape(PROXY)}$", fleet.agent_log("ssm"), re.M)
    # The handler reconnects before the verification reads again: the session died with the agent.
    order = [result.stdout.index(name) for name in (
        "RUNNING HANDLER [ssm.proxy.agent_proxy : Restart the SSM Agent detached]",
        "Restart the SSM Agent detached | drop the session the restart killed",
        "Restart the SSM Agent detached | wait until the host answers again",
        "TASK [ssm.proxy.agent_proxy : Verify | read the agent's newest startup block]")]
    assert order == sorted(order), output(result)


def test_detached_restart_survives_the_session_dying_under_it(sim_fleet) -> None:
    state = copy.deepcopy(load_state("server2022"))
    state["faults"] = {"restart_agent_session_lost": 1}
    fleet = sim_fleet({"ssm": state})
    result = fleet.run(CONFIGURE, "-e", VARS, "-e", "ssm_proxy_restart_method=detached")
    assert result.returncode == 0, output(result)
    restarts = [call for call in fleet.calls("ssm") if "restart_agent" in str(call["args"].get("script", ""))]
    assert len(restarts) == 2  # the lost call, then the retry with the same request id
    assert restarts[0]["args"]["parameters"] == restarts[1]["args"]["parameters"]
    assert blocks(fleet, "ssm") == 1  # restarted once, not twice
    assert re.search(rf"https_proxy: {re.escape(PROXY)}$", fleet.agent_log("ssm"), re.M)


def test_reset_leaves_a_clean_host(sim_fleet) -> None:
    fleet = sim_fleet({"host": netsh_host()})
    assert fleet.run(CONFIGURE, "-e", VARS).returncode == 0
    result = fleet.run(RESET)
    assert result.returncode == 0, output(result)
    assert fleet.registry_value("host", SERVICE_KEY, "Environment") == ["AWS_REGION=eu-west-1"]
    assert fleet.state("host")["agent"]["running"] == {"http_proxy": "", "https_proxy": "", "no_proxy": ""}
    assert fleet.registry_value("host", WINHTTP_KEY, "WinHttpSettings").startswith("28000000000000000100000000000000")


@pytest.mark.parametrize(("extra", "fragment"), [
    ({"ssm_proxy_components": ["bogus"]}, "ssm_proxy_components"),
    ({"ssm_proxy_preflight": "sometimes"}, "ssm_proxy_preflight"),
    ({"ssm_proxy_restart_method": "reboot"}, "ssm_proxy_restart_method"),
    ({"ssm_proxy_url": ""}, "needs ssm_proxy_url"),
    ({"ssm_proxy_no_proxy": ["10.*"]}, "use the CIDR 10.0.0.0/8"),
])
def test_bad_variables_fail_before_any_change(sim_fleet, extra, fragment) -> None:
    fleet = sim_fleet({"host": "server2022"})
    before = fleet.host_state("host")
    result = fleet.run(CONFIGURE, "-e", VARS, "-e", json.dumps(extra))
    assert result.returncode != 0, output(result)
    assert fragment in result.stdout + result.stderr, output(result)
    assert fleet.host_state("host") == before
    assert set(modules(fleet, "host")) <= {"win_powershell"}  # at most the plan read


def test_report_writes_markdown_and_json(sim_fleet, tmp_path: pathlib.Path) -> None:
    fleet = sim_fleet({"clean": "server2022", "netsh": netsh_host()})
    report_dir = tmp_path / "report"
    result = fleet.run(REPORT, "-e", VARS, "-e", f"ssm_proxy_report_dir={report_dir}")
    assert result.returncode == 0, output(result)
    report = json.loads((report_dir / "report.json").read_text())
    assert report["summary"]["hosts"] == 2 and report["summary"]["non_compliant"] == 2
    rows = {row["host"]: row for row in report["hosts"]}
    assert rows["netsh"]["effective_source"]["proxy"] == "winhttp"
    assert "https_direct" in {finding["code"] for finding in rows["netsh"]["findings"]}
    assert "| netsh | non_compliant |" in (report_dir / "report.md").read_text()
