# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bad-input catalogue (bad_inputs.yml): every malformed or hostile input fails clearly and changes nothing.

All cases run in ONE playbook run, one simulated host per case, because each ansible-playbook start costs
seconds: a block runs the case's module (or the role) on its host, its rescue keeps what failed, and a last
play on the controller writes every host's outcome to one JSON file that the assertions read.
"""

from __future__ import annotations

import json
import pathlib
import typing as t

import pytest
import yaml

from .conftest import SimFleet, output

pytestmark = pytest.mark.integration

CATALOGUE = pathlib.Path(__file__).resolve().parent / "bad_inputs.yml"
MODULES = ("ssm_agent_proxy", "wininet_proxy", "winhttp_proxy", "ssm_agent_proxy_info", "rollback")
# What a host may see from a case: reads only (win_reg_stat, and the read-only scripts through win_powershell).
READ_SCRIPTS = ("<script: read_state ", "<script: preflight ")


def load_cases() -> list[dict[str, t.Any]]:
    return yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))


def catalogue_playbook(outcomes: pathlib.Path) -> list[dict[str, t.Any]]:
    """Run each host's case inside a block whose rescue records the failure, then collect every outcome."""
    tasks: list[dict[str, t.Any]] = [
        # The arguments come whole from the inventory so that wrong types and unknown options reach the module as written.
        {"name": f"case {module}", f"ssm.proxy.{module}": "{{ case_args }}", "when": f"case_module == '{module}'"}
        for module in MODULES
    ]
    tasks.append({"name": "case role", "ansible.builtin.include_role": {"name": "ssm.proxy.agent_proxy"}, "when": "case_module == 'role'"})
    tasks.append({"name": "accepted", "ansible.builtin.set_fact": {"case_outcome": {"failed": False}}})
    return [
        {
            "name": "bad inputs",
            "hosts": "windows",
            "gather_facts": False,
            "tasks": [{
                "block": tasks,
                "rescue": [{"ansible.builtin.set_fact": {"case_outcome": {
                    "failed": True, "task": "{{ ansible_failed_task.name }}", "msg": "{{ ansible_failed_result.msg | default('') }}",
                    "result": "{{ ansible_failed_result }}"}}}],
            }],
        },
        {
            "name": "collect",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"ansible.builtin.copy": {
                "dest": str(outcomes), "mode": "0644",
                "content": "{{ dict(groups.windows | zip(groups.windows | map('extract', hostvars, 'case_outcome'))) | to_json }}",
            }}],
        },
    ]


def write_inventory(fleet: SimFleet, cases: list[dict[str, t.Any]]) -> None:
    """Each host gets its case: module arguments as case_args, or the role's variables as host variables."""
    inventory = json.loads((fleet.directory / "inventory.yml").read_text(encoding="utf-8"))
    for case in cases:
        host = inventory["windows"]["hosts"][case["id"]]
        host["case_module"] = case["module"]
        if case["module"] == "role":
            host.update(case["args"])
        else:
            host["case_args"] = case["args"]
    (fleet.directory / "inventory.yml").write_text(json.dumps(inventory), encoding="utf-8")


def written(fleet: SimFleet, host: str) -> list[dict[str, t.Any]]:
    """The calls that could have changed the host: anything but win_reg_stat and the read-only scripts."""
    writes = []
    for call in fleet.calls(host):
        module = call["module"].rsplit(".", 1)[-1]
        script = str(call["args"].get("script", ""))
        if module == "win_reg_stat" or (module == "win_powershell" and script.startswith(READ_SCRIPTS)):
            continue
        writes.append(call)
    return writes


def test_catalogue_is_broad() -> None:
    cases = load_cases()
    assert len(cases) >= 40
    assert len({case["id"] for case in cases}) == len(cases)
    assert {case["module"] for case in cases} == {*MODULES, "role"}


def test_every_bad_input_fails_clearly_and_changes_nothing(sim_fleet, tmp_path: pathlib.Path) -> None:
    cases = load_cases()
    fleet = sim_fleet({case["id"]: "server2022" for case in cases})
    write_inventory(fleet, cases)
    before = {case["id"]: fleet.host_state(case["id"]) for case in cases}
    outcomes_path = tmp_path / "outcomes.json"
    playbook = tmp_path / "bad_inputs.yml"
    playbook.write_text(json.dumps(catalogue_playbook(outcomes_path)), encoding="utf-8")

    result = fleet.run(playbook, "--forks", "10")
    assert result.returncode == 0, output(result)
    outcomes = json.loads(outcomes_path.read_text(encoding="utf-8"))

    problems = []
    for case in cases:
        outcome = outcomes[case["id"]]
        message = str(outcome.get("msg", ""))
        if not outcome["failed"]:
            problems.append(f"{case['id']}: accepted")
            continue
        missing = [fragment for fragment in case["expect"] if fragment not in message]
        leaked = [fragment for fragment in case.get("absent", []) if fragment in json.dumps(outcome)]
        if missing or leaked:
            problems.append(f"{case['id']}: missing {missing} leaked {leaked} in {message!r} (task {outcome['task']!r})")
        # One failure per host: the module's, or the role's own after its checks (no step prints one before it).
        failures = [line for line in result.stdout.splitlines() if line.startswith(f"fatal: [{case['id']}]")]
        if len(failures) != 1:
            problems.append(f"{case['id']}: {len(failures)} failure lines, not one: {failures}")
        if fleet.host_state(case["id"]) != before[case["id"]]:
            problems.append(f"{case['id']}: the host changed")
        if written(fleet, case["id"]):
            problems.append(f"{case['id']}: write calls {written(fleet, case['id'])}")
    assert not problems, "\n".join(problems)
