# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults injected in simulated hosts: the role ends every host in its old or its new state, and says why.

One configure run over a fleet with one fault per host, then one report run; each host is checked for
the operator message, the exact registry bytes (old state after a rollback) and the agent's state.
"""

from __future__ import annotations

import copy
import json
import re
import pathlib
import typing as t

import pytest

from .conftest import AGENT_LOG, ROOT, SimFleet, load_state, output

pytestmark = pytest.mark.integration

PROXY = "http://proxy.example.com:3128"
SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"
WININET_KEY = "HKU:\\S-1-5-18\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings"
WOW64_KEY = "HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections"
OS_KEY = "HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
BACKUP_KEY = "HKLM:\\SOFTWARE\\ssm.proxy\\Backup"
CONFIGURE = ROOT / "playbooks" / "configure.yml"
REPORT = ROOT / "playbooks" / "report.yml"
# Every host: the agent, WinINet and WinHTTP unless a case narrows it (fewer module executions, a faster test).
# The pre-flight runs only where it is the point (no_imds): one module execution less per host.
ROLE_VARS = {"ssm_proxy_url": PROXY, "ssm_proxy_no_proxy": [".corp.example.com"], "ssm_proxy_verify_retries": 1, "ssm_proxy_verify_delay": 0,
             "ssm_proxy_preflight": False}
AGENT_ONLY = {"ssm_proxy_components": ["agent"]}


def host(template: str = "server2022", faults: dict[str, t.Any] | None = None, **changes: t.Any) -> dict[str, t.Any]:
    """A state from a template with faults and top-level sections replaced."""
    state = copy.deepcopy(load_state(template))
    if faults:
        state["faults"] = faults
    state.update(changes)
    return state


def with_os(state: dict[str, t.Any], values: dict[str, t.Any]) -> dict[str, t.Any]:
    """Add HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion as that Windows version writes it."""
    state["registry"][OS_KEY] = {name: {"type": "REG_DWORD" if isinstance(value, int) else "REG_SZ", "value": value} for name, value in values.items()}
    return state


def no_agent(ec2config: bool = False) -> dict[str, t.Any]:
    state = host("no-agent", imds={"region": "eu-west-1"})
    if ec2config:
        state["registry"]["HKLM:\\SYSTEM\\CurrentControlSet\\Services\\Ec2Config"] = {"DisplayName": {"type": "REG_SZ", "value": "Ec2Config"}}
        state["services"]["Ec2Config"] = {"state": "running", "start_mode": "auto", "display_name": "Ec2Config"}
    return state


def without_log(state: dict[str, t.Any]) -> dict[str, t.Any]:
    state["files"].pop(AGENT_LOG, None)
    return state


# host: (state, role variables beyond ROLE_VARS, message fragments, outcome: "old" registry, "new" registry, or "untouched")
CASES: dict[str, tuple[dict[str, t.Any], dict[str, t.Any], list[str], str]] = {
    "denied_agent": (
        host("server2019", {"registry_write_denied": [f"{SERVICE_KEY}\\Environment"]}), {},
        # RegSetValueEx refused: .NET's SetValue throws the generic UnauthorizedAccessException (Win32Error(ret, null)).
        ["Apply failed: Windows refused", f"Windows refused to write {SERVICE_KEY}\\Environment: Attempted to perform an unauthorized operation.",
         # Nothing of the agent's was written: its value is put back without a restart.
         "Restored the previous values of ssm_agent_proxy; the agent keeps running with its unchanged settings."], "old"),
    "denied_wininet_half_way": (
        host("server2022", {"registry_write_denied": [f"{WININET_KEY}\\ProxyServer"]}), {},
        ["Apply failed: ", f"Windows refused to write {WININET_KEY}\\ProxyServer", "unauthorized operation",
         "Written before it: ssm_agent_proxy, wininet_proxy (in part).",
         "Restored the previous values of ssm_agent_proxy, wininet_proxy and the agent runs with them again."], "old"),
    "denied_winhttp_wow64": (
        host("server2019", {"registry_write_denied": [f"{WOW64_KEY}\\WinHttpSettings"]}), {},
        ["Apply failed: ", f"Windows refused to write {WOW64_KEY}\\WinHttpSettings",
         "Restored the previous values of ssm_agent_proxy, wininet_proxy, winhttp_proxy and the agent runs with them again."], "old"),
    "agent_fails_to_start": (
        host("server2022", {"agent_start": "fails", "agent_start_faults_remaining": 1}), AGENT_ONLY,
        ["Restart failed: ", "Failed to start service 'Amazon SSM Agent (AmazonSSMAgent)'", "and the agent runs with them again"], "old"),
    "agent_without_settings": (
        host("server2022", {"agent_start": "without_settings", "agent_start_faults_remaining": 1}), AGENT_ONLY,
        ["Verify failed: The agent restarted but does not use the configured proxy", "https_proxy ''", "and the agent runs with them again"], "old"),
    "log_unreadable": (
        host("server2022", {"unreadable_files": [AGENT_LOG]}), AGENT_ONLY,
        [f"The agent log {AGENT_LOG} could not be read", "Access to the path", "is denied.", "Set ssm_proxy_verify=false",
         "but the agent could not be confirmed running with them"], "old"),
    "log_missing": (
        without_log(host("server2022", {"agent_log": "not_written"})), AGENT_ONLY,
        [f"The agent log {AGENT_LOG} does not exist after the restart", "Set ssm_proxy_verify=false"], "old"),
    "service_missing": (
        no_agent(), AGENT_ONLY,
        ["the Amazon SSM Agent is not installed on this host", "Install the agent first", "Nothing was changed."], "untouched"),
    "ec2config_only": (
        no_agent(ec2config=True), AGENT_ONLY,
        ["the Amazon SSM Agent is not installed on this host", "served only by EC2Config", "Nothing was changed."], "untouched"),
    "no_imds": (
        host("server2022", imds=None), {**AGENT_ONLY, "ssm_proxy_preflight": True},
        ["Cannot determine the AWS region", "Set ssm_proxy_region to the host's region.", "Nothing was changed."], "untouched"),
    "server2008_agent_2_3": (
        with_os(host("server2019", agent={"version": "2.3.1644.0"}),
                {"ProductName": "Windows Server 2008 R2 Datacenter", "CurrentVersion": "6.1", "CurrentBuild": "7601",
                 "InstallationType": "Server"}), AGENT_ONLY, [], "new"),
    "nano_server": (
        with_os(host("server2022"), {"ProductName": "Windows Server 2016 Datacenter", "CurrentMajorVersionNumber": 10,
                                     "CurrentMinorVersionNumber": 0, "CurrentBuild": "14393", "InstallationType": "Nano Server"}),
        AGENT_ONLY, [], "new"),
}
# What ssm.proxy.report says afterwards about each host it can explain.
REPORT_FINDINGS = {
    "log_unreadable": "agent_log_unreadable",
    "log_missing": "agent_log_missing",
    "ec2config_only": "ec2config_only",
    "service_missing": "agent_not_installed",
    "server2008_agent_2_3": "windows_2008_agent_limit",
    "nano_server": "nano_server",
}


def registry_without_collection_keys(state: dict[str, t.Any]) -> dict[str, t.Any]:
    return {key: value for key, value in state["registry"].items() if "\\ssm.proxy" not in key.lower()}


def failure_message(stdout: str, name: str) -> str:
    """The role's final message for a host (the ``msg`` of its last ``fatal: [host]: FAILED! => {...}``, one line or more)."""
    starts = [match.end() for match in re.finditer(rf"^fatal: \[{re.escape(name)}\]: FAILED! => ", stdout, re.MULTILINE)]
    return str(json.JSONDecoder().raw_decode(stdout, starts[-1])[0].get("msg", "")) if starts else ""


def make_fleet(sim_fleet: t.Callable[..., SimFleet]) -> SimFleet:
    fleet = sim_fleet({name: state for name, (state, _vars, _fragments, _outcome) in CASES.items()})
    inventory = json.loads((fleet.directory / "inventory.yml").read_text(encoding="utf-8"))
    for name, (_state, variables, _fragments, _outcome) in CASES.items():
        inventory["windows"]["hosts"][name].update({**ROLE_VARS, **variables})
    (fleet.directory / "inventory.yml").write_text(json.dumps(inventory), encoding="utf-8")
    return fleet


def test_every_fault_ends_old_or_new_with_a_clear_message(sim_fleet, tmp_path: pathlib.Path, monkeypatch) -> None:
    monkeypatch.setenv("ANSIBLE_PIPELINING", "1")
    fleet = make_fleet(sim_fleet)
    before = {name: fleet.host_state(name) for name in CASES}

    result = fleet.run(CONFIGURE, "--forks", "10")
    assert result.returncode != 0, output(result)
    # Every fault is one the steps foresee: none went through the block's rescue, none printed an ignored failure.
    assert "...ignoring" not in result.stdout and set(re.findall(r" rescued=(\d+) ", result.stdout)) == {"0"}, output(result)
    problems = []
    for name, (_state, _vars, fragments, outcome) in CASES.items():
        after = fleet.host_state(name)
        message = failure_message(result.stdout, name)
        if outcome == "new":
            if message:
                problems.append(f"{name}: failed: {message}")
            elif fleet.registry_value(name, SERVICE_KEY, "Environment") is None or after["agent"]["running"]["https_proxy"] != PROXY:
                problems.append(f"{name}: the agent does not run with the proxy: {after['agent'].get('running')}")
            continue
        # One failure per failed host: the role's own, after the rollback (a step that failed says nothing itself).
        failures = [line for line in result.stdout.splitlines() if line.startswith((f"fatal: [{name}]", f"failed: [{name}]"))]
        if len(failures) != 1:
            problems.append(f"{name}: {len(failures)} failure lines, not one: {failures}")
        missing = [fragment for fragment in fragments if fragment not in message]
        if missing:
            problems.append(f"{name}: missing {missing} in {message!r}")
        if registry_without_collection_keys(after) != registry_without_collection_keys(before[name]):
            problems.append(f"{name}: the registry is not byte for byte as before")
        if after["registry"].get(BACKUP_KEY):
            problems.append(f"{name}: a backup was left behind: {after['registry'][BACKUP_KEY]}")
        if outcome == "untouched":
            if after != before[name]:
                problems.append(f"{name}: the host changed")
        elif after["services"]["AmazonSSMAgent"]["state"] != "running":
            problems.append(f"{name}: the agent is {after['services']['AmazonSSMAgent']['state']}")
    assert not problems, "\n".join(problems) + "\n" + output(result)

    report_dir = tmp_path / "report"
    report = fleet.run(REPORT, "-e", f"ssm_proxy_report_dir={report_dir}")
    assert report.returncode == 0, output(report)
    rows = {row["host"]: row for row in json.loads((report_dir / "report.json").read_text(encoding="utf-8"))["hosts"]}
    for name, code in REPORT_FINDINGS.items():
        findings = {finding["code"]: finding["message"] for finding in rows[name]["findings"]}
        assert code in findings, (name, rows[name])
    unreadable = {finding["code"]: finding["message"] for finding in rows["log_unreadable"]["findings"]}["agent_log_unreadable"]
    assert "Access to the path" in unreadable and "connect as an account that may read" in unreadable
    assert rows["server2008_agent_2_3"]["agent_version"] == "2.3.1644.0"  # its v2 log format was read
    assert rows["server2008_agent_2_3"]["status"] == "compliant", rows["server2008_agent_2_3"]
