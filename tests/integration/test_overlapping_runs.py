# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two runs on one host: the second refuses (or takes over a dead one), and no rollback undoes a newer change.

The runs are interleaved deterministically: run A is a playbook that does what the role does up to its
write (the settings module with A's run and a backup) and stops there, as a run paused between its write
and its restart; then the role runs as run B.
"""

from __future__ import annotations

import pathlib
import typing as t

import pytest

from .conftest import ROOT, SimFleet, output
from .test_faults import failure_message
from .test_real_hosts import PROXY, SERVICE_KEY, environment, fleet_with_vars, state, write_playbook

pytestmark = pytest.mark.integration

CONFIGURE = ROOT / "playbooks" / "configure.yml"
BACKUP_KEY = "HKLM:\\SOFTWARE\\ssm.proxy\\Backup"
RUN_A = {"id": "run-a", "owner": "AWX job 7", "started": "{{ now(utc=true).isoformat() }}", "wants": "present http://a.example.com:3128"}


def paused_run_a(tmp_path: pathlib.Path) -> pathlib.Path:
    return write_playbook(tmp_path, "run_a.yml", [{
        "hosts": "windows", "gather_facts": False, "tasks": [
            {"name": "run A writes its proxy and stops before its restart",
             "ssm.proxy.ssm_agent_proxy": {"proxy": "http://a.example.com:3128", "backup": True, "run": RUN_A}},
        ]}])


def backups(fleet: SimFleet, name: str) -> dict[str, t.Any]:
    keys = {path.lower(): values for path, values in fleet.state(name)["registry"].items()}
    return keys.get(BACKUP_KEY.lower(), {})


def test_a_second_run_refuses_while_the_first_is_in_progress(sim_fleet, tmp_path: pathlib.Path) -> None:
    fleet = fleet_with_vars(sim_fleet, {"h": (state(), {})})
    assert fleet.run(paused_run_a(tmp_path)).returncode == 0
    written_by_a = environment(fleet, "h")
    before_b = fleet.host_state("h")

    result = fleet.run(CONFIGURE)
    assert result.returncode != 0, output(result)
    message = failure_message(result.stdout, "h")
    assert "Another run run-a (AWX job 7, started" in message and "wanting present http://a.example.com:3128" in message, message
    assert "nothing was changed" in message and "ssm_proxy_run_wait" in message
    assert fleet.host_state("h") == before_b  # B wrote nothing, restarted nothing

    # Run A's own rollback (by hand, with its id) puts back what was there before A, and only A's backup goes.
    rollback = write_playbook(tmp_path, "rollback_a.yml", [{
        "hosts": "windows", "gather_facts": False, "tasks": [
            {"ssm.proxy.rollback": {"run_id": "run-a"}, "register": "undo"},
            {"ansible.builtin.assert": {"that": ["undo.rewritten == ['ssm_agent_proxy']"]}}]}])
    assert written_by_a is not None
    result = fleet.run(rollback)
    assert result.returncode == 0, output(result)
    assert environment(fleet, "h") is None and backups(fleet, "h") == {}


def test_a_dead_run_is_reported_and_taken_over_and_its_rollback_cannot_undo_the_newer_run(sim_fleet, tmp_path: pathlib.Path) -> None:
    fleet = fleet_with_vars(sim_fleet, {"h": (state(), {"ssm_proxy_run_stale_after": 0})})
    assert fleet.run(paused_run_a(tmp_path)).returncode == 0
    result = fleet.run(CONFIGURE)
    assert result.returncode == 0, output(result)
    shown = result.stdout + result.stderr
    assert "run run-a (AWX job 7" in shown and "never finished" in shown, output(result)
    assert fleet.state("h")["agent"]["running"]["https_proxy"] == PROXY
    # B's verified settings replace what the dead run wanted: its backup is gone, so nothing can roll B back.
    assert backups(fleet, "h") == {}
    result = fleet.run(write_playbook(tmp_path, "rollback_all.yml", [{
        "hosts": "windows", "gather_facts": False, "tasks": [{"ssm.proxy.rollback": None}]}]))
    assert result.returncode == 0, output(result)
    assert any(PROXY in line for line in environment(fleet, "h")["value"])


def test_a_run_that_fails_after_another_changed_the_host_leaves_that_change_alone(sim_fleet, tmp_path: pathlib.Path) -> None:
    """Run A wrote, run B (A taken for dead) wrote and succeeded; A's rollback then leaves B's value alone."""
    fleet = fleet_with_vars(sim_fleet, {"h": (state(), {"ssm_proxy_run_stale_after": 0, "ssm_proxy_rollback": True})})
    assert fleet.run(paused_run_a(tmp_path)).returncode == 0
    # B writes (its own backup next to A's) but is told to keep A's: rollback off for the clean-up, by stopping at its write.
    paused_b = write_playbook(tmp_path, "run_b.yml", [{
        "hosts": "windows", "gather_facts": False, "tasks": [
            {"ssm.proxy.ssm_agent_proxy": {"proxy": PROXY, "backup": True,
                                           "run": {"id": "run-b", "started": "{{ now(utc=true).isoformat() }}", "stale_after": 0}}}]}])
    assert fleet.run(paused_b).returncode == 0
    written_by_b = environment(fleet, "h")
    result = fleet.run(write_playbook(tmp_path, "rollback_a.yml", [{
        "hosts": "windows", "gather_facts": False, "tasks": [
            {"ssm.proxy.rollback": {"run_id": "run-a"}, "register": "undo"},
            {"ansible.builtin.debug": {"var": "undo"}}]}]))
    assert result.returncode == 0, output(result)
    assert environment(fleet, "h") == written_by_b
    # The warning (on stderr) names the value it left alone.
    assert "left alone" in result.stderr and f"{SERVICE_KEY}\\Environment" in result.stderr, output(result)
    assert sorted(backups(fleet, "h")) == ["ssm_agent_proxy@run-b"]
