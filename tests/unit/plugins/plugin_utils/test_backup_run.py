# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run a plan read names (ssm_agent_proxy_info's ``run``): what the role keys its backups and detached restart with."""

from __future__ import annotations

import datetime

from ansible_collections.ssm.proxy.plugins.plugin_utils._backup import RunInfo, backup_name, new_run, run_owner, split_backup_name


def test_a_new_run_is_its_start_and_a_random_number() -> None:
    at = datetime.datetime(2026, 12, 2, 23, 3, 46, 123456, tzinfo=datetime.timezone.utc)
    run = new_run(at)
    assert run["started"] == "2026-12-02T23:03:46.123456Z"
    prefix, sep, number = run["id"].partition("-")
    assert sep == "-" and prefix == "20261202T230346.123456Z" and 0 <= int(number) < 2 ** 32, run


def test_runs_read_in_the_same_microsecond_differ() -> None:
    at = datetime.datetime(2026, 12, 2, 23, 3, 46, tzinfo=datetime.timezone.utc)
    assert len({new_run(at)["id"] for attempt in range(50)}) > 45


def test_a_new_run_is_one_the_settings_modules_accept() -> None:
    """The id goes into a backup value's name (``<component>@<id>``) and must come back out of it whole."""
    run = new_run()
    info = RunInfo.from_options({**run, "owner": "AWX job 7", "wants": "present http://proxy:3128 for agent"})
    assert info is not None and info.id == run["id"] and info.started == run["started"]
    assert split_backup_name(backup_name("ssm_agent_proxy", info)) == ("ssm_agent_proxy", run["id"])
    # The start is the controller's clock in UTC, so that runs from several controllers compare.
    started = datetime.datetime.strptime(run["started"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()) < 60


def test_the_owner_is_the_awx_job_or_the_controller_user() -> None:
    assert run_owner(7, "awx") == "AWX job 7" and run_owner(0, None) == "AWX job 0"
    assert run_owner(None, "alice") == "alice with ansible-playbook" and run_owner(None, "") == "someone with ansible-playbook"
    assert new_run(owner="AWX job 7")["owner"] == "AWX job 7"
