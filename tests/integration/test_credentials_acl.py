# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who can read the proxy password on a host (issue 16), through the real role and the simulated key ACLs.

- A backup that holds a password goes under a key restricted to SYSTEM and Administrators, restricted before
  the backup is written (the order of the calls record).
- ssm_agent_proxy_info reports credentials_readable on a default host with a password, naming BUILTIN\\Users,
  and not after ssm_proxy_restrict_acl; the fleet report counts it.
- ssm_proxy_restrict_acl restarts and verifies the agent, and is undone when the agent does not come back.
"""

from __future__ import annotations

import copy
import json
import pathlib
import typing as t

import pytest

from .conftest import ROOT, SimFleet, load_state, output

pytestmark = pytest.mark.integration

CONFIGURE = ROOT / "playbooks" / "configure.yml"
REPORT = ROOT / "playbooks" / "report.yml"
SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"
COLLECTION_KEY = "HKLM:\\SOFTWARE\\ssm.proxy"
BACKUP_KEY = COLLECTION_KEY + "\\Backup"
ROLE_VARS = {"ssm_proxy_url": "http://proxy.example.com:3128", "ssm_proxy_username": "svc", "ssm_proxy_password": "N3w-Secret",
             "ssm_proxy_components": ["agent"], "ssm_proxy_preflight": False, "ssm_proxy_verify_retries": 1, "ssm_proxy_verify_delay": 0}


def old_password_host(**faults: t.Any) -> dict[str, t.Any]:
    """A host whose agent already uses an authenticating proxy: the backup of a rotation holds the old password."""
    state = copy.deepcopy(load_state("server2022"))
    state["registry"][SERVICE_KEY]["Environment"] = {"type": "REG_MULTI_SZ", "value": [
        "https_proxy=http://svc:0ld-Secret@proxy.example.com:3128", "http_proxy=http://svc:0ld-Secret@proxy.example.com:3128"]}
    if faults:
        state["faults"] = faults
    return state


def set_host_vars(fleet: SimFleet, host_vars: dict[str, dict[str, t.Any]]) -> None:
    inventory_path = fleet.directory / "inventory.yml"
    inventory = json.loads(inventory_path.read_text(encoding="utf-8"))
    for host, extra in host_vars.items():
        inventory["windows"]["hosts"][host].update(extra)
    inventory_path.write_text(json.dumps(inventory), encoding="utf-8")


def service_acl(fleet: SimFleet, host: str) -> dict[str, t.Any] | None:
    listed = {path.lower(): entry for path, entry in (fleet.state(host).get("registry_acl") or {}).items()}
    return listed.get(SERVICE_KEY.lower())


def test_credentials_stay_with_administrators(sim_fleet, tmp_path: pathlib.Path) -> None:
    fleet = sim_fleet({
        "rotate": old_password_host(),
        "default": "server2022",
        "hardened": "server2022",
        "no_comeback": old_password_host(agent_start="fails", agent_start_faults_remaining=1),
    })
    set_host_vars(fleet, {"hardened": {"ssm_proxy_restrict_acl": True}, "no_comeback": {"ssm_proxy_restrict_acl": True}})
    before = {host: fleet.host_state(host) for host in fleet.hosts}
    result = fleet.run(CONFIGURE, "-e", json.dumps(ROLE_VARS))
    assert result.returncode != 0, output(result)
    assert "N3w-Secret" not in result.stdout + result.stderr and "0ld-Secret" not in result.stdout + result.stderr

    # The backup of the rotation held the old password: the collection's key was restricted before it was written.
    calls = fleet.calls("rotate")
    names = [(call["module"].rsplit(".", 1)[-1], call["args"].get("path"), call["args"].get("name")) for call in calls]
    # The role writes its backups (ssm_agent_proxy@<run id>, ...) and the settings in one write_values execution.
    backup_write = next(index for index, call in enumerate(calls) if "write_values" in str(call["args"].get("script", "")))
    protect = names.index(("win_acl_inheritance", COLLECTION_KEY, None))
    grants = [index for index, name in enumerate(names) if name[0] == "win_acl"]
    assert grants and max(grants) < protect < backup_write, names
    assert calls[protect]["args"] == {"path": COLLECTION_KEY, "state": "absent", "reorganize": False}
    collection = {path.lower(): entry for path, entry in fleet.state("rotate")["registry_acl"].items()}[COLLECTION_KEY.lower()]
    assert collection == {"protected": True, "readers": ["NT AUTHORITY\\SYSTEM", "BUILTIN\\Administrators"]}
    # A first configuration has no old password to keep: nothing to restrict, no extra execution.
    assert not [call for call in fleet.calls("default") if "win_acl" in call["module"]]

    # Hardened: the service key no longer inherits, the agent was restarted and runs with the new settings.
    assert service_acl(fleet, "hardened") == {"protected": True, "readers": ["NT AUTHORITY\\SYSTEM", "BUILTIN\\Administrators"]}
    running = fleet.state("hardened")["agent"]["running"]
    assert running["https_proxy"] == "http://svc:N3w-Secret@proxy.example.com:3128", running

    # The agent did not come back after the restriction: the ACL is as before, the values too, the agent runs again.
    assert service_acl(fleet, "no_comeback") == {"protected": False, "readers": []}
    after = fleet.host_state("no_comeback")
    # Only the collection's (empty, restricted) keys are new: the backup was put back and removed.
    assert {path: values for path, values in after["registry"].items() if not path.startswith(COLLECTION_KEY)} == before["no_comeback"]["registry"]
    assert not any(after["registry"].get(path) for path in (COLLECTION_KEY, BACKUP_KEY))
    assert after["agent"]["running"]["https_proxy"] == "http://svc:0ld-Secret@proxy.example.com:3128"
    assert "service key has its inherited ACL back" in result.stdout, output(result)

    report_dir = tmp_path / "report"
    report = fleet.run(REPORT, "-e", f"ssm_proxy_report_dir={report_dir}")
    assert report.returncode == 0, output(report)
    document = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    findings = {row["host"]: {item["code"]: item["message"] for item in row["findings"]} for row in document["hosts"]}
    for host in ("rotate", "default", "no_comeback"):
        message = findings[host]["credentials_readable"]
        assert SERVICE_KEY in message and "BUILTIN\\Users" in message and "ALL APPLICATION PACKAGES" in message, (host, message)
        assert "Secret" not in message
    assert "credentials_readable" not in findings["hardened"], findings["hardened"]
    assert document["summary"]["credentials_readable"] == 3

    # Hardening in check mode: the plan's read and one read of the Apply step (the plan keeps no read of a host whose
    # settings match), nothing changed, the restart announced on the controller.
    calls_before = len(fleet.calls("default"))
    checked = fleet.run(CONFIGURE, "--check", "--diff", "--limit", "default", "-e", json.dumps({**ROLE_VARS, "ssm_proxy_restrict_acl": True}))
    assert checked.returncode == 0, output(checked)
    assert [call["module"] for call in fleet.calls("default")[calls_before:]] == ["ansible.windows.win_powershell"] * 2
    assert "Its service key's ACL would be restricted: AmazonSSMAgent would restart (check mode)." in checked.stdout, output(checked)
    assert f"{SERVICE_KEY} (ACL)" in checked.stdout and "readers: NT AUTHORITY\\SYSTEM, BUILTIN\\Administrators" in checked.stdout, output(checked)
    assert service_acl(fleet, "default") is None

    # Hardening a host whose settings are already right: the ACL changes, the agent is restarted and verified.
    calls_before, hardened_before = len(fleet.calls("default")), len(fleet.calls("hardened"))
    result = fleet.run(CONFIGURE, "-e", json.dumps({**ROLE_VARS, "ssm_proxy_restrict_acl": True}))
    assert result.returncode == 0, output(result)
    new = [call["module"].rsplit(".", 1)[-1] for call in fleet.calls("default")[calls_before:]]
    assert "win_acl_inheritance" in new and new.index("win_acl_inheritance") < new.index("win_service"), new
    assert new.count("ssm_agent_proxy_info") == 0 and new.count("win_powershell") >= 2, new  # the plan and the verification reads
    assert service_acl(fleet, "default") == {"protected": True, "readers": ["NT AUTHORITY\\SYSTEM", "BUILTIN\\Administrators"]}
    assert fleet.state("default")["agent"]["running"]["https_proxy"] == "http://svc:N3w-Secret@proxy.example.com:3128"
    # Already hardened and configured: the plan read alone.
    assert [call["module"] for call in fleet.calls("hardened")[hardened_before:]] == ["ansible.windows.win_powershell"]


STARTUP_MARK = "Proxy environment variables:"
RESTRICTED = {"protected": True, "readers": ["NT AUTHORITY\\SYSTEM", "BUILTIN\\Administrators"]}


def test_a_second_role_run_in_one_play_answers_for_itself(sim_fleet, tmp_path: pathlib.Path) -> None:
    """Registered results last for the whole playbook run: the second role run must not act on the first one's.

    The first role run restricts the service key's ACL (ssm_proxy_restrict_acl) and restarts the agent; the second
    changes WinINet alone. On `quiet` it needs no restart, whatever the first run's restriction registered. On
    `failing` its write throws (write_values' third run: the first role run wrote and discarded): the rollback must not give the key its inherited ACL
    back, which this run never took.
    """
    fleet = sim_fleet({
        "quiet": "server2022",
        "failing": {**copy.deepcopy(load_state("server2022")),
                    "faults": {"write_values": "The network path was not found.", "write_values_runs_before_fault": 2}},
    })
    common = {"ssm_proxy_url": "http://proxy.example.com:3128", "ssm_proxy_preflight": False,
              "ssm_proxy_verify_retries": 1, "ssm_proxy_verify_delay": 0}
    playbook = tmp_path / "twice.yml"
    playbook.write_text(json.dumps([{
        "name": "two role runs in one play", "hosts": "windows", "gather_facts": False,
        "tasks": [
            {"name": "restrict the ACL and configure the agent", "ansible.builtin.include_role": {"name": "ssm.proxy.agent_proxy"},
             "vars": {**common, "ssm_proxy_components": ["agent"], "ssm_proxy_restrict_acl": True}},
            {"name": "then WinINet alone", "ansible.builtin.include_role": {"name": "ssm.proxy.agent_proxy"},
             "vars": {**common, "ssm_proxy_components": ["wininet"]}},
        ],
    }]), encoding="utf-8")
    starts = {host: fleet.agent_log(host).count(STARTUP_MARK) for host in fleet.hosts}
    result = fleet.run(playbook)
    assert result.returncode != 0, output(result)
    for host in ("quiet", "failing"):
        # The first role run: one restart, the ACL restricted.
        assert fleet.agent_log(host).count(STARTUP_MARK) == starts[host] + 1, (host, output(result))
        assert service_acl(fleet, host) == RESTRICTED, (host, output(result))
    recap = {line.split()[0]: line for line in result.stdout.splitlines() if " : ok=" in line}
    assert "failed=0" in recap["quiet"] and "failed=1" in recap["failing"], recap
    # The second role run on `quiet`: WinINet written, no restart, no ACL rule touched after the first run's.
    modules = [call["module"].rsplit(".", 1)[-1] for call in fleet.calls("quiet")]
    assert modules.count("win_service") == 1 and modules.count("win_acl_inheritance") == 1, modules
    # On `failing`: the failure is this run's write, and the rollback left the ACL alone.
    shown = result.stdout + result.stderr
    assert "Apply failed: ansible.windows.win_powershell failed on the host: The network path was not found." in shown, output(result)
    assert "has its inherited ACL back" not in shown and "ACL could not be put back" not in shown, output(result)
    failing = [call["module"].rsplit(".", 1)[-1] for call in fleet.calls("failing")]
    assert failing.count("win_acl_inheritance") == 1 and failing.count("win_service") == 1, failing


def test_a_refused_restriction_fails_the_host_and_puts_the_settings_back(sim_fleet) -> None:
    """The service key's ACL cannot be changed (faults.acl_write_denied): Restrict is the failure, once.

    The Apply step's write went through before it, so the rollback puts the previous values back; the ACL was never
    changed, so it is not "put back", and the agent was never restarted with the new settings.
    """
    guarded = copy.deepcopy(load_state("server2022"))
    guarded["faults"] = {"acl_write_denied": [SERVICE_KEY]}
    fleet = sim_fleet({"guarded": guarded})
    before = fleet.host_state("guarded")
    starts = fleet.agent_log("guarded").count(STARTUP_MARK)
    result = fleet.run(CONFIGURE, "-e", json.dumps({**ROLE_VARS, "ssm_proxy_restrict_acl": True}))
    assert result.returncode != 0, output(result)
    shown = result.stdout + result.stderr
    assert shown.count("fatal: [guarded]") == 1, output(result)
    assert (f"Restrict failed: {SERVICE_KEY} could not be restricted to SYSTEM and Administrators: ansible.windows.win_acl failed on the host"
            in shown), output(result)
    assert "an exception occurred when adding the specified rule - Cannot write to the registry key." in shown, output(result)
    assert "Restored the previous values of ssm_agent_proxy and the agent runs with them again." in shown, output(result)
    assert "has its inherited ACL back" not in shown and "N3w-Secret" not in shown, output(result)
    after = fleet.host_state("guarded")
    assert {path: values for path, values in after["registry"].items() if not path.startswith(COLLECTION_KEY)} == before["registry"]
    assert service_acl(fleet, "guarded") is None  # never written: Windows' inherited defaults
    modules = [call["module"].rsplit(".", 1)[-1] for call in fleet.calls("guarded")]
    # Refused at the first grant: no second grant, no inheritance change; the one restart is the rollback's, with the
    # previous settings (the handler restarts only when no step before it failed).
    assert modules.count("win_acl") == 1 and "win_acl_inheritance" not in modules, modules
    assert modules.count("win_service") == 1 and fleet.agent_log("guarded").count(STARTUP_MARK) == starts + 1, modules
    # The image has no proxy in the agent's Environment: that is what it was restarted with.
    assert fleet.state("guarded")["agent"]["running"]["https_proxy"] == "", fleet.state("guarded")["agent"]
