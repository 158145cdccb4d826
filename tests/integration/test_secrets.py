# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A proxy password never leaves the registry values that need it (and the agent's own log).

Every module and the role run with a password at -vvv with --diff, in normal and in check mode, in one
playbook run; each result is dumped with debug; then ssm.proxy.report writes its files. The password, in
any form (clear, percent-encoded, as the agent's log mangles it), must appear nowhere in the output, the
report, the calls record, or the host state outside the service Environment, the backup and the agent log.
Running it through ansible-runner (events) is issue 6's and not covered here.
"""

from __future__ import annotations

import copy
import json
import pathlib
import typing as t
import urllib.parse

import pytest

from .conftest import AGENT_LOG, ROOT, load_state, output

pytestmark = pytest.mark.integration

# Every form of both passwords contains its marker; '%' and '=' and ':' make the encoded forms differ from the clear one.
PASSWORD = "Zq7:Vault=NEWSECRET%Pw!"
OLD_PASSWORD = "Old=OLDSECRET:pw"
MARKERS = ("NEWSECRET", "OLDSECRET")
PROXY = "http://proxy.example.com:3128"
SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"
BACKUP_KEY = "HKLM:\\SOFTWARE\\ssm.proxy\\Backup"
ROLE_VARS = {"ssm_proxy_url": PROXY, "ssm_proxy_username": "svc-ssm", "ssm_proxy_password": PASSWORD,
             "ssm_proxy_verify_retries": 1, "ssm_proxy_verify_delay": 0}


def module_tasks() -> list[dict[str, t.Any]]:
    """Each module with the password where it takes one; every result dumped at full length."""
    credentials = {"proxy_username": "svc-ssm", "proxy_password": PASSWORD}
    steps: list[tuple[str, dict[str, t.Any]]] = [
        ("ssm.proxy.ssm_agent_proxy", {"proxy": PROXY, "no_proxy": [".corp.example.com"], "backup": True, **credentials}),
        ("ssm.proxy.wininet_proxy", {"proxy": {"http": "proxy.example.com:3128", "https": "proxy.example.com:3128"}, "backup": True}),
        ("ssm.proxy.winhttp_proxy", {"proxy": "http=proxy.example.com:3128;https=proxy.example.com:3128", "backup": True}),
        ("ssm.proxy.ssm_agent_proxy_info", {"desired": {"ssm_agent_proxy": {"proxy": PROXY, **credentials}}}),
        ("ansible.windows.win_service", {"name": "AmazonSSMAgent", "state": "restarted"}),
        ("ssm.proxy.ssm_agent_proxy_info", {}),
        # Puts back the old Environment, whose password only the backup on the host holds.
        ("ssm.proxy.rollback", {}),
        ("ssm.proxy.ssm_agent_proxy_info", {}),
        # A refused URL that carries the password must not echo it.
        ("ssm.proxy.ssm_agent_proxy", {"proxy": f"http://svc:{urllib.parse.quote(PASSWORD, safe='')}@proxy.example.com:0"}),
    ]
    tasks = []
    for index, (module, args) in enumerate(steps):
        tasks.append({"name": f"step {index} {module}", module: args, "register": f"step{index}", "ignore_errors": True})
        tasks.append({"name": f"dump step {index}", "ansible.builtin.debug": {"var": f"step{index}"}})
    return tasks


def secrets_playbook() -> list[dict[str, t.Any]]:
    """The modules on the hosts named modules_*, the role on role_*; check mode comes from --check."""
    role = [{"name": "the role", "ansible.builtin.include_role": {"name": "ssm.proxy.agent_proxy"}},
            {"name": "dump the plan", "ansible.builtin.debug": {"var": "ssm_proxy_plan"}}]
    return [
        {"name": "modules", "hosts": "modules_*", "gather_facts": False, "tasks": module_tasks()},
        {"name": "role", "hosts": "role_*", "gather_facts": False, "vars": ROLE_VARS, "tasks": role},
    ]


def host_with_old_password() -> dict[str, t.Any]:
    """A host whose agent already uses a proxy with another password: the backup then holds a secret too."""
    state = copy.deepcopy(load_state("server2022"))
    old = f"http://old:{urllib.parse.quote(OLD_PASSWORD, safe='')}@oldproxy.example.com:8080"
    state["registry"][SERVICE_KEY]["Environment"] = {"type": "REG_MULTI_SZ", "value": [f"http_proxy={old}", f"https_proxy={old}"]}
    return state


def leaks(text: str) -> list[str]:
    return [marker for marker in MARKERS if marker in text]


def test_password_only_where_windows_needs_it(sim_fleet, tmp_path: pathlib.Path) -> None:
    hosts = ("modules_normal", "modules_check", "role_normal", "role_check")
    fleet = sim_fleet({name: host_with_old_password() for name in hosts})
    playbook = tmp_path / "secrets.yml"
    playbook.write_text(json.dumps(secrets_playbook()), encoding="utf-8")
    # --check, not the check_mode keyword: the role skips its verification on ansible_check_mode, which only --check sets.
    normal = fleet.run(playbook, "-vvv", "--diff", "--limit", "*_normal")
    assert normal.returncode == 0, output(normal)
    check = fleet.run(playbook, "-vvv", "--diff", "--check", "--limit", "*_check")
    assert check.returncode == 0, output(check)
    report_dir = tmp_path / "report"
    report = fleet.run(ROOT / "playbooks" / "report.yml", "-vvv", "--diff", "-e", json.dumps({**ROLE_VARS, "ssm_proxy_report_dir": str(report_dir)}))
    assert report.returncode == 0, output(report)

    # The runs did what they claim: a restart logged the new password, check mode changed nothing.
    assert "NEWSECRET" in fleet.agent_log("modules_normal") and "NEWSECRET" in fleet.agent_log("role_normal")
    assert "OLDSECRET" in json.dumps(fleet.registry_value("modules_normal", SERVICE_KEY, "Environment"))  # rolled back
    assert "NEWSECRET" in json.dumps(fleet.registry_value("role_normal", SERVICE_KEY, "Environment"))
    assert "********" in normal.stdout and "dump step 8" in check.stdout
    for name in ("modules_check", "role_check"):
        assert "NEWSECRET" not in json.dumps(fleet.state(name))

    places = {
        "playbook output": normal.stdout + normal.stderr,
        "check mode output": check.stdout + check.stderr,
        "report output": report.stdout + report.stderr,
        "report.json": (report_dir / "report.json").read_text(encoding="utf-8"),
        "report.md": (report_dir / "report.md").read_text(encoding="utf-8"),
    }
    for name in hosts:
        state = fleet.state(name)
        places[f"{name} calls"] = json.dumps(state.pop("calls"))
        # Allowed: the values the agent reads, the backup kept for rollback, and the agent's own log.
        state["registry"][SERVICE_KEY].pop("Environment", None)
        state["registry"].pop(BACKUP_KEY, None)
        state["files"].pop(AGENT_LOG, None)
        state.get("agent", {}).pop("running", None)  # the simulated agent process's environment, not a stored copy
        places[f"{name} state elsewhere"] = json.dumps(state)
    found = {place: leaks(text) for place, text in places.items() if leaks(text)}
    assert not found, found
