# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Round-trip budgets (issue 8), counted in the simulated hosts' calls record: one entry per module execution.

- A no-change run of the role: 1 module execution per host (the plan's read) and no agent restart.
- Check mode (``--check`` or the ``check_mode`` keyword) after the wanted proxy changed: 1 execution, the same diffs
  and the same per-component "would change" as the run that then changes the host.
- A first run with every safety on (pre-flight, backup, one restart, verification, clean-up): at most 8 (today 6).
- ssm_agent_proxy_info: at most 2 executions per host (target 1).
- Each settings module on its own: one read, plus one write per registry value that differs (none when nothing does).
`make bench` measures the same counts on large fleets against the documented procedure (docs/scale.md).
"""

from __future__ import annotations

import copy
import json
import pathlib
import re
import typing as t

import pytest

from .conftest import ROOT, SimFleet, load_state, output

pytestmark = pytest.mark.integration

CONFIGURE = ROOT / "playbooks" / "configure.yml"
PROXY = "http://proxy.example.com:3128"
NO_PROXY = [".corp.example.com", "10.0.0.0/8"]
VARS = json.dumps({"ssm_proxy_url": PROXY, "ssm_proxy_no_proxy": NO_PROXY})
WINHTTP_KEY = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections"
SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"
# `netsh winhttp set proxy proxy.example.com:3128 "<local>"`, as in the demo fleet.
NETSH_BLOB = "28000000000000000300000016000000" + b"proxy.example.com:3128".hex() + "07000000" + b"<local>".hex()
STARTUP_MARK = "Proxy environment variables:"
# How the settings modules read the host: the collection's read_state script, or win_reg_stat for a single key.
READS = ("win_powershell:read_state", "win_reg_stat")

ROLE_NO_CHANGE_BUDGET = 1
CHECK_BUDGET = 1
FIRST_RUN_BUDGET = 8
INFO_BUDGET = 2
SETTINGS_MODULES = ("ssm_agent_proxy", "wininet_proxy", "winhttp_proxy")
WINDOWS_BYPASS = "{{ %s | ssm.proxy.windows_bypass }}" % json.dumps(NO_PROXY)
# Each settings module alone, with what the role passes it (roles/agent_proxy/vars/main.yml); backup off, so that
# every write is a setting.
MODULE_TASKS = [
    {"name": "ssm_agent_proxy", "ssm.proxy.ssm_agent_proxy": {"proxy": PROXY, "no_proxy": NO_PROXY}},
    {"name": "wininet_proxy", "ssm.proxy.wininet_proxy": {
        "proxy": {"http": PROXY, "https": PROXY}, "bypass": WINDOWS_BYPASS, "auto_detect": False, "scope": "local_system"}},
    {"name": "winhttp_proxy", "ssm.proxy.winhttp_proxy": {
        "proxy": {"http": PROXY, "https": PROXY}, "bypass": WINDOWS_BYPASS, "views": ["native", "wow64"]}},
]


def netsh_host() -> dict[str, t.Any]:
    """WinHTTP set by netsh and an old proxy line in the agent's Environment: every module has something to write."""
    state = copy.deepcopy(load_state("server2019"))
    state["registry"][WINHTTP_KEY]["WinHttpSettings"] = {"type": "REG_BINARY", "value": NETSH_BLOB}
    state["registry"][SERVICE_KEY]["Environment"] = {"type": "REG_MULTI_SZ", "value": ["AWS_REGION=eu-west-1", "HTTP_PROXY=http://old-proxy:8080"]}
    return state


def call_counts(fleet: SimFleet) -> dict[str, int]:
    return {host: len(fleet.calls(host)) for host in fleet.hosts}


def new_calls(fleet: SimFleet, before: dict[str, int]) -> dict[str, list[dict[str, t.Any]]]:
    return {host: fleet.calls(host)[before[host]:] for host in fleet.hosts}


def short(call: dict[str, t.Any]) -> str:
    """``win_powershell:read_state`` for the collection's scripts, else the module's short name."""
    name = call["module"].rsplit(".", 1)[-1]
    script = str(call["args"].get("script", ""))
    return f"{name}:{script.split()[1]}" if script.startswith("<script: ") else name


def is_restart(call: dict[str, t.Any]) -> bool:
    if call.get("check_mode"):
        return False
    return short(call) == "win_powershell:restart_agent" or (
        short(call) == "win_service" and call["args"].get("state") in ("restarted", "started"))


def registry_values(state: dict[str, t.Any]) -> dict[tuple[str, str], t.Any]:
    return {(key.lower(), name.lower()): entry for key, values in state["registry"].items() for name, entry in values.items()}


def differing_values(before: dict[str, t.Any], after: dict[str, t.Any]) -> set[tuple[str, str]]:
    old, new = registry_values(before), registry_values(after)
    return {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}


def segments(calls: list[dict[str, t.Any]]) -> list[list[str]]:
    """The calls split where a settings module starts: each of them begins with its one read."""
    out: list[list[str]] = []
    for call in calls:
        if short(call) in READS or not out:
            out.append([])
        out[-1].append(short(call))
    return out


@pytest.fixture(name="configured")
def configured_fleet(sim_fleet) -> SimFleet:
    """Three hosts in different starting states, configured once by the role (quickly: the settings are the same
    without pre-flight, verification and rollback bookkeeping)."""
    fleet = sim_fleet({"clean2022": "server2022", "clean2019": "server2019", "netsh2019": netsh_host()})
    quick = {"ssm_proxy_preflight": False, "ssm_proxy_verify": False, "ssm_proxy_rollback": False}
    result = fleet.run(CONFIGURE, "-e", VARS, "-e", json.dumps(quick))
    assert result.returncode == 0, output(result)
    return fleet


def test_role_no_change_run_and_info_stay_within_budget(configured: SimFleet, tmp_path: pathlib.Path) -> None:
    fleet = configured
    before, log_blocks = call_counts(fleet), {host: fleet.agent_log(host).count(STARTUP_MARK) for host in fleet.hosts}
    result = fleet.run(CONFIGURE, "-e", VARS)
    assert result.returncode == 0 and "changed=0" in result.stdout, output(result)
    for host, calls in new_calls(fleet, before).items():
        assert 1 <= len(calls) <= ROLE_NO_CHANGE_BUDGET, (host, [short(call) for call in calls])
        assert not [call for call in calls if is_restart(call)], (host, [short(call) for call in calls])
        assert fleet.agent_log(host).count(STARTUP_MARK) == log_blocks[host]

    playbook = tmp_path / "info.yml"
    playbook.write_text(json.dumps([{"name": "Info", "hosts": "windows", "gather_facts": False,
                                     "tasks": [{"name": "Read", "ssm.proxy.ssm_agent_proxy_info": {}}]}]), encoding="utf-8")
    before = call_counts(fleet)
    result = fleet.run(playbook)
    assert result.returncode == 0, output(result)
    for host, calls in new_calls(fleet, before).items():
        assert 1 <= len(calls) <= INFO_BUDGET, (host, [short(call) for call in calls])
        assert all(call["module"] != "ansible.windows.win_regedit" for call in calls)


# What a first run costs, in order: the plan's read, the pre-flight, one write of every backup and value, the restart,
# the verification's read, the removal of the backups.
FIRST_RUN = ["win_powershell:read_state", "win_powershell:preflight", "win_powershell:write_values", "win_service",
             "win_powershell:read_state", "win_powershell:write_values"]
APPLY_TASK = "Apply | the agent's own proxy, LocalSystem's WinINet and the WinHTTP default proxy, in one write"


def task_output(stdout: str, task: str) -> str:
    """What the callback printed for one task (its diff and result), up to the next task."""
    start = stdout.index(f"TASK [ssm.proxy.agent_proxy : {task}]")
    following = stdout.find("\nTASK [", start + 1)
    return stdout[start:following if following > 0 else None]


def handler_output(stdout: str, handler: str) -> str:
    """What the callback printed for one handler, up to the next task or handler."""
    start = stdout.index(f"RUNNING HANDLER [ssm.proxy.agent_proxy : {handler}]")
    ends = [end for end in (stdout.find("\nTASK [", start + 1), stdout.find("\nRUNNING HANDLER [", start + 1)) if end > 0]
    return stdout[start:min(ends) if ends else None]


def per_host(task: str) -> dict[str, str]:
    """A task's output split per host: each host's diff is printed right before its ``changed: [host]`` line."""
    parts = re.split(r"^changed: \[([^\]]+)\]$", task.split("\n", 1)[1], flags=re.MULTILINE)
    return {host: text.strip() for text, host in zip(parts[0::2], parts[1::2])}


def test_check_mode_costs_one_execution_and_shows_what_the_first_run_does(sim_fleet, tmp_path: pathlib.Path) -> None:
    hosts = {"clean2022": "server2022", "netsh2019": netsh_host()}
    fleet = sim_fleet(hosts)
    states = {host: fleet.state(host) for host in fleet.hosts}
    checked = fleet.run(CONFIGURE, "-e", VARS, "--check", "--diff")
    assert checked.returncode == 0, output(checked)
    for host in fleet.hosts:
        calls = fleet.calls(host)
        assert [short(call) for call in calls] == ["win_powershell:read_state"], (host, [short(call) for call in calls])
        assert differing_values(states[host], fleet.state(host)) == set()
    # The same through the check_mode keyword on the play (ansible_check_mode stays false there).
    keyword = tmp_path / "keyword.yml"
    keyword.write_text(json.dumps([{"name": "Check by keyword", "hosts": "windows", "gather_facts": False, "check_mode": True,
                                    "roles": [{"role": "ssm.proxy.agent_proxy"}]}]), encoding="utf-8")
    by_keyword = fleet.run(keyword, "-e", VARS, "--diff")
    assert by_keyword.returncode == 0, output(by_keyword)
    for host in fleet.hosts:
        assert len(fleet.calls(host)) == 2 * CHECK_BUDGET, (host, [short(call) for call in fleet.calls(host)])
        assert differing_values(states[host], fleet.state(host)) == set()

    changed = fleet.run(CONFIGURE, "-e", VARS, "--diff")
    assert changed.returncode == 0, output(changed)
    # Per component, the diffs check mode showed are the ones the run that wrote showed.
    would, did = task_output(checked.stdout, APPLY_TASK), task_output(changed.stdout, APPLY_TASK)
    assert would.count("changed: [") == did.count("changed: [") == len(hosts)
    assert "AmazonSSMAgent\\Environment" in did and "WinINet settings" in did and "WinHttpSettings (native, wow64)" in did
    assert per_host(would) == per_host(did), (would, did)
    # Check mode names the restart on the controller; the run restarts with win_service, once per host.
    would_restart = handler_output(checked.stdout, "Restart the SSM Agent (check mode)")
    assert would_restart.count("Its Environment value would change: AmazonSSMAgent would restart (check mode).") == len(hosts)
    assert "RUNNING HANDLER [ssm.proxy.agent_proxy : Restart the SSM Agent]" not in checked.stdout, output(checked)
    assert handler_output(changed.stdout, "Restart the SSM Agent").count("changed: [") == len(hosts)
    assert "Restart the SSM Agent (check mode)" not in changed.stdout, output(changed)


def test_first_run_with_every_safety_on_stays_within_budget(sim_fleet) -> None:
    fleet = sim_fleet({"clean2022": "server2022", "clean2019": "server2019", "netsh2019": netsh_host()})
    starts = {host: fleet.agent_log(host).count(STARTUP_MARK) for host in fleet.hosts}
    result = fleet.run(CONFIGURE, "-e", VARS)
    assert result.returncode == 0, output(result)
    for host in fleet.hosts:
        calls = [short(call) for call in fleet.calls(host)]
        assert len(calls) <= FIRST_RUN_BUDGET and calls == FIRST_RUN, (host, calls)
        assert fleet.agent_log(host).count(STARTUP_MARK) == starts[host] + 1  # one restart
        assert "HKLM:\\SOFTWARE\\ssm.proxy\\Backup" not in fleet.state(host)["registry"]
    before = call_counts(fleet)
    again = fleet.run(CONFIGURE, "-e", VARS)
    assert again.returncode == 0 and "changed=0" in again.stdout, output(again)
    assert all(len(calls) == ROLE_NO_CHANGE_BUDGET for calls in new_calls(fleet, before).values())


def test_each_settings_module_reads_once_and_writes_only_what_differs(sim_fleet, tmp_path: pathlib.Path) -> None:
    fleet = sim_fleet({"clean2022": "server2022", "netsh2019": netsh_host()})
    playbook = tmp_path / "modules.yml"
    playbook.write_text(json.dumps([{"name": "Modules", "hosts": "windows", "gather_facts": False, "tasks": MODULE_TASKS}]), encoding="utf-8")

    for run in ("first", "again"):
        states, before = {host: fleet.state(host) for host in fleet.hosts}, call_counts(fleet)
        result = fleet.run(playbook)
        assert result.returncode == 0, output(result)
        for host, calls in new_calls(fleet, before).items():
            parts = segments(calls)
            assert len(parts) == len(SETTINGS_MODULES), (run, host, parts)
            for part in parts:  # one read, then writes only
                assert part[0] in READS and set(part[1:]) <= {"win_regedit"}, (run, host, parts)
            writes = sum(len(part) - 1 for part in parts)
            changed = differing_values(states[host], fleet.state(host))
            # Every write changed a value of its own: none was already right, none was written twice.
            assert writes == len(changed), (run, host, parts, sorted(changed))
            if run == "first":
                assert all(len(part) > 1 for part in parts), (host, parts)  # each module had something to change
            else:
                assert writes == 0, (host, parts)
        if run == "again":
            assert "changed=0" in result.stdout, output(result)
