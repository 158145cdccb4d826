# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What real Windows hosts do where a simpler model would agree with the collection for the wrong reason.

Each case follows a behaviour of the real ansible.windows 3.3.0 modules, of Windows or of the agent that the
simulated host models (tests/sim/README.md cites the source of each): win_regedit's case-insensitive
multistring comparison and its `data: []`, key-level ACL refusals, the agent logging its start after the
service reports running and logging shutdown lines, the detached restart, the read script's refusals,
task-level check mode and ConstrainedLanguage.
"""

from __future__ import annotations

import copy
import json
import pathlib
import re
import typing as t

import pytest

from .conftest import ROOT, SimFleet, load_state, output
from .test_faults import failure_message

pytestmark = pytest.mark.integration

PROXY = "http://proxy.example.com:3128"
SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"
COLLECTION_KEY = "HKLM:\\SOFTWARE\\ssm.proxy"
CONFIGURE = ROOT / "playbooks" / "configure.yml"
REPORT = ROOT / "playbooks" / "report.yml"
ROLE_VARS = {"ssm_proxy_url": PROXY, "ssm_proxy_no_proxy": [".corp.example.com"], "ssm_proxy_verify_retries": 3,
             "ssm_proxy_verify_delay": 0, "ssm_proxy_preflight": False, "ssm_proxy_components": ["agent"]}


def fleet_with_vars(sim_fleet: t.Callable[..., SimFleet], hosts: dict[str, tuple[dict[str, t.Any], dict[str, t.Any]]]) -> SimFleet:
    """A fleet whose hosts each get ROLE_VARS plus their own variables in the inventory."""
    fleet = sim_fleet({name: state for name, (state, _variables) in hosts.items()})
    inventory = json.loads((fleet.directory / "inventory.yml").read_text(encoding="utf-8"))
    for name, (_state, variables) in hosts.items():
        inventory["windows"]["hosts"][name].update({**ROLE_VARS, **variables})
    (fleet.directory / "inventory.yml").write_text(json.dumps(inventory), encoding="utf-8")
    return fleet


def state(faults: dict[str, t.Any] | None = None, **changes: t.Any) -> dict[str, t.Any]:
    data = copy.deepcopy(load_state("server2022"))
    if faults:
        data["faults"] = faults
    data.update(changes)
    return data


def write_playbook(directory: pathlib.Path, name: str, plays: list[dict[str, t.Any]]) -> pathlib.Path:
    path = directory / name
    path.write_text(json.dumps(plays), encoding="utf-8")
    return path


def interrupted_run(directory: pathlib.Path) -> pathlib.Path:
    """A playbook leaving the state of a run stopped between its write and its restart: registry right, agent direct."""
    return write_playbook(directory, "interrupted.yml", [{
        "hosts": "windows", "gather_facts": False, "tasks": [
            {"name": "the agent has started once and logged its (direct) settings",
             "ansible.windows.win_service": {"name": "AmazonSSMAgent", "state": "restarted"}},
            {"name": "the write of a run that stopped before its restart",
             "ssm.proxy.ssm_agent_proxy": {"proxy": PROXY, "no_proxy": [".corp.example.com"]}},
        ]}])


def environment(fleet: SimFleet, name: str) -> dict[str, t.Any] | None:
    keys = {path.lower(): values for path, values in fleet.state(name)["registry"].items()}
    return keys.get(SERVICE_KEY.lower(), {}).get("Environment")


def startup_blocks(fleet: SimFleet, name: str) -> int:
    return fleet.agent_log(name).count("Proxy environment variables:")


def executions(fleet: SimFleet, name: str) -> list[str]:
    return [call["module"].rsplit(".", 1)[-1] for call in fleet.calls(name)]


def test_agent_running_without_the_registry_values_is_restarted_once_then_left_alone(sim_fleet, tmp_path: pathlib.Path) -> None:
    """A run stopped between its write and its restart: the next run restarts once, verifies, and then converges."""
    fleet = fleet_with_vars(sim_fleet, {"h": (state(), {})})
    interrupted = interrupted_run(tmp_path)
    result = fleet.run(interrupted)
    assert result.returncode == 0, output(result)
    assert startup_blocks(fleet, "h") == 1 and fleet.state("h")["agent"]["running"]["https_proxy"] == ""

    checked = fleet.run(CONFIGURE, "--check")
    assert checked.returncode == 0, output(checked)
    assert "not the values its registry holds: AmazonSSMAgent would restart (check mode)." in checked.stdout, output(checked)
    assert startup_blocks(fleet, "h") == 1

    result = fleet.run(CONFIGURE)
    assert result.returncode == 0, output(result)
    # Nothing to write: the Apply step reports the restart the running agent needs, and the handler makes it.
    assert re.search(r"RUNNING HANDLER \[ssm\.proxy\.agent_proxy : Restart the SSM Agent\] \**\nchanged: \[h\]", result.stdout), output(result)
    assert startup_blocks(fleet, "h") == 2 and fleet.state("h")["agent"]["running"]["https_proxy"] == PROXY

    fleet.state_path("h").write_text(json.dumps({**fleet.state("h"), "calls": []}), encoding="utf-8")
    result = fleet.run(CONFIGURE)
    assert result.returncode == 0 and "changed=0" in result.stdout, output(result)
    assert executions(fleet, "h") == ["win_powershell"] and startup_blocks(fleet, "h") == 2

    # Upper-case names holding exactly the wanted values: Windows and the agent read names case-insensitively.
    data = fleet.state("h")
    lines = data["registry"][SERVICE_KEY]["Environment"]["value"]
    data["registry"][SERVICE_KEY]["Environment"]["value"] = [line.split("=", 1)[0].upper() + "=" + line.split("=", 1)[1] for line in lines]
    data["calls"] = []
    fleet.state_path("h").write_text(json.dumps(data), encoding="utf-8")
    result = fleet.run(CONFIGURE)
    assert result.returncode == 0 and "changed=0" in result.stdout, output(result)
    assert executions(fleet, "h") == ["win_powershell"] and startup_blocks(fleet, "h") == 2
    assert all(line.startswith(("HTTP_PROXY=", "HTTPS_PROXY=", "NO_PROXY=")) for line in environment(fleet, "h")["value"])


def test_a_preflight_that_stops_the_restart_only_case_changes_and_restarts_nothing(sim_fleet, tmp_path: pathlib.Path) -> None:
    """Registry right, running agent direct, proxy refusing CONNECT: the host fails once, with no change and no restart.

    The Apply step reports the restart the running agent needs as its change (changed_when), unless its pre-flight
    stopped it: changed_when is evaluated before failed_when (ansible-core TaskExecutor._execute_internal), so the
    action's own `failed` is what it reads.
    """
    fleet = fleet_with_vars(sim_fleet, {"h": (state(), {"ssm_proxy_preflight": True})})
    interrupted = interrupted_run(tmp_path)
    assert fleet.run(interrupted).returncode == 0
    data = fleet.state("h")
    data["network"] = {"proxies": {"proxy.example.com:3128": {"connect_status": 403}}, "direct_blocked": True}
    data["calls"] = []
    fleet.state_path("h").write_text(json.dumps(data), encoding="utf-8")
    before = fleet.host_state("h")

    result = fleet.run(CONFIGURE)
    assert result.returncode != 0, output(result)
    message = failure_message(result.stdout, "h")
    assert message.startswith("Pre-flight failed:") and "Nothing was changed." in message, output(result)
    assert "RUNNING HANDLER" not in result.stdout, output(result)
    assert re.search(r"^h\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=1", result.stdout, re.MULTILINE), output(result)
    assert fleet.host_state("h") == before and startup_blocks(fleet, "h") == 1
    assert executions(fleet, "h") == ["win_powershell", "win_powershell"]  # the plan's read, the pre-flight


def backups(fleet: SimFleet, name: str) -> list[str]:
    keys = {path.lower(): values for path, values in fleet.state(name)["registry"].items()}
    return sorted(keys.get(f"{COLLECTION_KEY}\\Backup".lower(), {}))


def test_a_failed_removal_of_the_backups_keeps_the_verified_settings(sim_fleet, tmp_path: pathlib.Path) -> None:
    """Verified, then the removal of this run's backups fails: no rollback, no second restart, and a to-do that works."""
    faults = {"write_values": "The network path was not found.", "write_values_runs_before_fault": 1}  # the write succeeds
    fleet = fleet_with_vars(sim_fleet, {"h": (state(faults), {})})
    starts = startup_blocks(fleet, "h")

    result = fleet.run(CONFIGURE)
    assert result.returncode != 0, output(result)
    message = failure_message(result.stdout, "h")
    assert message.startswith("Done failed: ansible.windows.win_powershell failed on the host: The network path was not found. "), output(result)
    assert "The settings this run verified stay: the agent runs with them. This run's backups are still on the host" in message
    assert "Restored" not in message and "Nothing was changed" not in message, message
    assert startup_blocks(fleet, "h") == starts + 1 and fleet.state("h")["agent"]["running"]["https_proxy"] == PROXY
    assert environment(fleet, "h") is not None and f"https_proxy={PROXY}" in environment(fleet, "h")["value"]
    command = re.search(r" To do: remove them once the host lets them be removed:\n(ansible h -m ssm\.proxy\.rollback -a '(.*)')$", message)
    assert command, message
    run_id = re.fullmatch(r"state=discarded run_id=(\S+)", command.group(2)).group(1)
    assert backups(fleet, "h") and all(name.endswith(f"@{run_id}") for name in backups(fleet, "h")), backups(fleet, "h")

    # The to-do, once the host lets the backups be removed (the ad-hoc command as a task); then nothing is left to do.
    data = fleet.state("h")
    del data["faults"]
    fleet.state_path("h").write_text(json.dumps(data), encoding="utf-8")
    removal = write_playbook(tmp_path, "discard.yml", [{"hosts": "h", "gather_facts": False, "tasks": [
        {"ssm.proxy.rollback": {"state": "discarded", "run_id": run_id}}]}])
    result = fleet.run(removal)
    assert result.returncode == 0 and "changed=1" in result.stdout, output(result)
    assert backups(fleet, "h") == []
    result = fleet.run(CONFIGURE)
    assert result.returncode == 0 and "changed=0" in result.stdout, output(result)
    assert startup_blocks(fleet, "h") == starts + 1


def test_a_failed_removal_of_the_backups_without_verification_says_the_settings_are_unverified(sim_fleet) -> None:
    """ssm_proxy_verify=false: the written settings stay too, and the message does not claim they were verified."""
    faults = {"write_values": "The network path was not found.", "write_values_runs_before_fault": 1}
    fleet = fleet_with_vars(sim_fleet, {"h": (state(faults), {"ssm_proxy_verify": False})})
    result = fleet.run(CONFIGURE)
    message = failure_message(result.stdout, "h")
    assert result.returncode != 0 and message.startswith("Done failed: "), output(result)
    assert "The settings this run wrote stay (not verified: ssm_proxy_verify=false, or the agent needed no restart)." in message, message
    assert "verified stay" not in message and "Restored" not in message, message
    assert f"https_proxy={PROXY}" in environment(fleet, "h")["value"] and backups(fleet, "h"), output(result)


def test_unknown_running_values_are_reported_and_restart_nothing(sim_fleet) -> None:
    """Registry right, log missing: a warning and a finding, and no restart on this run or the next."""
    data = state({"agent_log": "not_written"})
    data["files"] = {}
    fleet = fleet_with_vars(sim_fleet, {"h": (data, {"ssm_proxy_verify": False})})
    assert fleet.run(CONFIGURE).returncode == 0
    restarts = sum(call["module"].endswith("win_service") for call in fleet.calls("h"))
    for _run in range(2):
        result = fleet.run(CONFIGURE)
        assert result.returncode == 0 and "changed=0" in result.stdout, output(result)
        shown = result.stdout + result.stderr  # Ansible prints warnings on stderr
        assert "what the running agent uses is unknown" in shown and "agent_log_missing" in shown, output(result)
    assert sum(call["module"].endswith("win_service") for call in fleet.calls("h")) == restarts == 1


def test_a_change_only_in_letter_case_reaches_the_registry(sim_fleet, tmp_path: pathlib.Path) -> None:
    """The role writes with write_values.ps1 (SetValue writes what it is given); the module alone uses win_regedit,
    which compares multistrings case-insensitively, so there the value is removed, then written anew."""
    credentials = {"ssm_proxy_username": "svc-ssm", "ssm_proxy_password": "Secret"}
    fleet = fleet_with_vars(sim_fleet, {"h": (state(), credentials)})
    assert fleet.run(CONFIGURE).returncode == 0
    assert any("svc-ssm:Secret@" in line for line in environment(fleet, "h")["value"])
    result = fleet.run(CONFIGURE, "-e", json.dumps({"ssm_proxy_password": "secret"}))
    assert result.returncode == 0, output(result)
    assert any("svc-ssm:secret@" in line for line in environment(fleet, "h")["value"])
    assert fleet.state("h")["agent"]["running"]["https_proxy"].startswith("http://svc-ssm:secret@")
    assert "secret" not in result.stdout and "Secret" not in result.stdout
    assert not [call for call in fleet.calls("h") if call["module"].endswith("win_regedit")]

    playbook = tmp_path / "alone.yml"
    playbook.write_text(json.dumps([{"name": "Module alone", "hosts": "windows", "gather_facts": False, "tasks": [
        {"name": "Set", "ssm.proxy.ssm_agent_proxy": {"proxy": PROXY, "no_proxy": ROLE_VARS["ssm_proxy_no_proxy"],
                                                      "proxy_username": "svc-ssm", "proxy_password": "SECRET"}}]}]))
    alone = fleet.run(playbook)
    assert alone.returncode == 0, output(alone)
    assert any("svc-ssm:SECRET@" in line for line in environment(fleet, "h")["value"])
    writes = [call["args"] for call in fleet.calls("h") if call["module"].endswith("win_regedit") and call["args"].get("name") == "Environment"]
    assert [args["state"] for args in writes] == ["absent", "present"]


def test_overlapping_faults_of_real_hosts(sim_fleet) -> None:
    """One configure run over hosts that each show one real-host behaviour."""
    empty = state({"agent_start": "fails", "agent_start_faults_remaining": 1})
    empty["registry"][SERVICE_KEY]["Environment"] = {"type": "REG_MULTI_SZ", "value": []}
    clm = state(powershell={"language_mode": "ConstrainedLanguage"})
    hosts = {
        "empty_environment": (empty, {}),
        "key_denied": (state({"registry_key_write_denied": [SERVICE_KEY]}), {}),
        "slow_agent": (state(agent={"version": "3.3.987.0", "start_delay_executions": 2}), {}),
        "unreadable_key": (state({"registry_read_denied": [SERVICE_KEY]}), {}),
        "constrained": (clm, {}),
    }
    fleet = fleet_with_vars(sim_fleet, hosts)
    before = {name: fleet.host_state(name) for name in hosts}
    result = fleet.run(CONFIGURE, "--forks", "5")
    assert result.returncode != 0, output(result)

    # Rollback of an empty REG_MULTI_SZ ends in exactly that empty value again, not the failed run's lines.
    assert "Failed to start service" in failure_message(result.stdout, "empty_environment"), output(result)
    assert environment(fleet, "empty_environment") == {"type": "REG_MULTI_SZ", "value": []}

    # A key whose ACL refuses writes: the role's one write (write_values.ps1) fails on it; the message names the value, never data.
    message = message_of_key_denied = failure_message(result.stdout, "key_denied")
    # CreateSubKey opens the existing key for writing; RegCreateKeyEx is refused (UnauthorizedAccessException naming the key).
    assert (f"Windows refused to write {SERVICE_KEY}\\Environment: Access to the registry key "
            "'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent' is denied.") in message, message
    assert environment(fleet, "key_denied") is None

    # The agent logs its start two executions after the service runs: verify waits for that block.
    assert not failure_message(result.stdout, "slow_agent"), output(result)
    assert fleet.state("slow_agent")["agent"]["running"]["https_proxy"] == PROXY

    message = failure_message(result.stdout, "unreadable_key")
    assert f"{SERVICE_KEY} exists but could not be read (Requested registry access is not allowed.)" in message, message
    message = failure_message(result.stdout, "constrained")
    assert "ConstrainedLanguage" in message and "Set-AuthenticodeSignature" in message, message
    for name in ("unreadable_key", "constrained"):
        assert fleet.host_state(name) == before[name], name
    # The refused key was never written: nothing to put back, no restart (only the collection's own key remains).
    after = fleet.host_state("key_denied")
    assert {key: value for key, value in after["registry"].items() if "ssm.proxy" not in key} == before["key_denied"]["registry"]
    assert after["files"] == before["key_denied"]["files"] and "keeps running with its unchanged settings" in message_of_key_denied


def test_detached_restarts_are_unique_per_run_and_a_failed_one_is_reported(sim_fleet, tmp_path: pathlib.Path) -> None:
    data = state({"agent_log": "not_written"})
    data["files"] = {}
    fleet = fleet_with_vars(sim_fleet, {"h": (data, {"ssm_proxy_restart_method": "detached", "ssm_proxy_verify": False})})
    assert fleet.run(CONFIGURE).returncode == 0
    assert fleet.state("h")["agent"]["running"]["https_proxy"] == PROXY
    other = "http://other.example.com:3128"
    result = fleet.run(CONFIGURE, "-e", json.dumps({"ssm_proxy_url": other}))
    assert result.returncode == 0, output(result)
    # Without a log the old request id was the same on every run, and this second restart never happened.
    assert fleet.state("h")["agent"]["running"]["https_proxy"] == other

    data = fleet.state("h")
    data["faults"]["agent_start"] = "fails"
    data["faults"]["agent_start_faults_remaining"] = 3
    fleet.state_path("h").write_text(json.dumps(data), encoding="utf-8")
    assert fleet.run(CONFIGURE).returncode == 0  # nobody sees the detached process fail ...
    report_dir = tmp_path / "report"
    assert fleet.run(REPORT, "-e", f"ssm_proxy_report_dir={report_dir}").returncode == 0
    [row] = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))["hosts"]
    codes = {finding["code"]: finding["message"] for finding in row["findings"]}
    assert "detached_restart_failed" in codes, row  # ... but the next read says so
    assert "Failed to start service" in codes["detached_restart_failed"]


def test_check_mode_by_the_task_behaves_as_check_on_the_command_line(sim_fleet, tmp_path: pathlib.Path) -> None:
    fleet = fleet_with_vars(sim_fleet, {"h": (state(), {"ssm_proxy_components": ["agent", "wininet", "winhttp"]})})
    before = fleet.host_state("h")
    playbook = write_playbook(tmp_path, "check.yml", [
        {"hosts": "windows", "gather_facts": False, "check_mode": True, "roles": [{"role": "ssm.proxy.agent_proxy"}]},
        # A wrapper playbook's block: handlers do not inherit it, the role's restart handler follows the plan.
        {"hosts": "windows", "gather_facts": False, "tasks": [
            {"check_mode": True, "block": [{"ansible.builtin.include_role": {"name": "ssm.proxy.agent_proxy"}}]}]},
    ])
    result = fleet.run(playbook, "--diff")
    assert result.returncode == 0, output(result)
    assert "no new startup block" not in result.stdout and "changed=" in result.stdout
    assert fleet.host_state("h") == before
    assert all(call.get("check_mode") for call in fleet.calls("h")), fleet.calls("h")
