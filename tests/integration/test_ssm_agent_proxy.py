# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ssm_agent_proxy with a restart handler end to end on simulated hosts.

What the integration target cannot do on a real host lives here: a host without the agent, the agent's
log after a restart, and what every output shows of a password at the highest verbosity.
"""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from .conftest import output

SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"
PASSWORD = "Pa55:w0rd=S3cret!"
PROXY = "http://proxy.example.com:3128"

pytestmark = pytest.mark.integration


def write_playbook(directory: pathlib.Path, tasks: list[dict], handlers: list[dict] | None = None) -> pathlib.Path:
    play = {"name": "test", "hosts": "windows", "gather_facts": False, "tasks": tasks, "handlers": handlers or []}
    path = directory / "play.yml"
    path.write_text(json.dumps([play], indent=1), encoding="utf-8")
    return path


def test_host_without_agent_fails_clearly_and_only_reads(sim_fleet, tmp_path) -> None:
    fleet = sim_fleet({"bare": "no-agent"})
    before = fleet.host_state("bare")
    playbook = write_playbook(tmp_path, [{"ssm.proxy.ssm_agent_proxy": {"proxy": PROXY}}])
    result = fleet.run(playbook)
    assert result.returncode != 0, output(result)
    assert "the Amazon SSM Agent is not installed on this host" in result.stdout, output(result)
    assert "EC2Config" in result.stdout
    assert fleet.host_state("bare") == before
    assert [call["module"] for call in fleet.calls("bare")] == ["ansible.windows.win_reg_stat"]


HANDLER = {"name": "Restart the SSM Agent", "ansible.windows.win_service": {"name": "AmazonSSMAgent", "state": "restarted"}}


def test_module_with_handler_restarts_once_and_the_agent_logs_the_new_proxy(sim_fleet, tmp_path) -> None:
    fleet = sim_fleet({"win2022": "server2022", "win2019": "server2019"})
    tasks = [{"name": "set", "ssm.proxy.ssm_agent_proxy": {"proxy": PROXY, "no_proxy": [".corp.example.com"]}, "notify": "Restart the SSM Agent"}]
    playbook = write_playbook(tmp_path, tasks, [HANDLER])
    result = fleet.run(playbook, "--diff")
    assert result.returncode == 0, output(result)
    assert "RUNNING HANDLER [Restart the SSM Agent]" in result.stdout
    for host in fleet.hosts:
        log = fleet.agent_log(host)
        assert re.search(rf"INFO https_proxy: {re.escape(PROXY)}$", log, re.M), log
        assert re.search(rf"INFO http_proxy: {re.escape(PROXY)}$", log, re.M), log
        assert re.search(r"INFO no_proxy: \.corp\.example\.com,169\.254\.169\.254,fd00:ec2::254$", log, re.M), log
        modules = [call["module"] for call in fleet.calls(host)]
        assert modules == ["ansible.windows.win_reg_stat", "ansible.windows.win_regedit", "ansible.windows.win_service"]
    # The foreign line of the 2019 host is still first, byte for byte.
    assert fleet.registry_value("win2019", SERVICE_KEY, "Environment")[0] == "AWS_REGION=eu-west-1"

    logs = {host: fleet.agent_log(host) for host in fleet.hosts}
    again = fleet.run(playbook)
    assert again.returncode == 0, output(again)
    assert "changed=0" in again.stdout and "RUNNING HANDLER" not in again.stdout, output(again)
    for host in fleet.hosts:
        assert fleet.agent_log(host) == logs[host]  # no restart
        assert [call["module"] for call in fleet.calls(host)][3:] == ["ansible.windows.win_reg_stat"]

    reset = fleet.run(write_playbook(tmp_path, [{"name": "reset", "ssm.proxy.ssm_agent_proxy": {"state": "absent"},
                                                 "notify": "Restart the SSM Agent"}], [HANDLER]))
    assert reset.returncode == 0, output(reset)
    assert fleet.registry_value("win2019", SERVICE_KEY, "Environment") == ["AWS_REGION=eu-west-1"]
    assert fleet.registry_value("win2022", SERVICE_KEY, "Environment") is None
    newest_block = fleet.agent_log("win2022").rsplit("Proxy environment variables:", 1)[1]
    assert re.search(r"INFO https_proxy: ?$", newest_block, re.M), newest_block  # restarted without a proxy


@pytest.mark.parametrize("mode", [[], ["--check"]], ids=["apply", "check"])
def test_password_never_shown_at_any_verbosity(sim_fleet, tmp_path, mode) -> None:
    fleet = sim_fleet({"win2022": "server2022"})
    tasks = [
        {"name": "set", "ssm.proxy.ssm_agent_proxy": {"proxy": PROXY, "proxy_username": "svc", "proxy_password": PASSWORD},
         "register": "set_result"},
        {"name": "show", "ansible.builtin.debug": {"var": "set_result"}},
        {"name": "bad", "ssm.proxy.ssm_agent_proxy": {"proxy": "http://svc:" + PASSWORD.replace(":", "") + "@proxy:0"},
         "ignore_errors": True},
    ]
    result = fleet.run(write_playbook(tmp_path, tasks), "-vvv", "--diff", *mode)
    assert result.returncode == 0, output(result)
    everything = result.stdout + result.stderr + json.dumps(fleet.calls("win2022"))
    for secret in (PASSWORD, PASSWORD.replace(":", ""), "Pa55%3Aw0rd", "w0rd%3DS3cret"):
        assert secret not in everything
    assert "http://svc:********@proxy.example.com:3128" in result.stdout
    stored = fleet.registry_value("win2022", SERVICE_KEY, "Environment")
    if mode:
        assert stored is None
    else:
        assert "https_proxy=http://svc:Pa55%3Aw0rd%3DS3cret%21@proxy.example.com:3128" in stored
