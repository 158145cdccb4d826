# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Twenty consecutive runs of ssm.proxy.configure on one fleet, then drift: no loss, no needless restart.

The first run changes every host; the next nineteen change nothing, cost one module execution per host
(the plan read) and restart nothing. Then an agent update drops the service's Environment value on one
host: the next run re-applies it there alone, and the run after that is quiet again.
"""

from __future__ import annotations

import json
import re

import pytest

from .conftest import ROOT, output

pytestmark = pytest.mark.integration

PROXY = "http://proxy.example.com:3128"
SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"
CONFIGURE = ROOT / "playbooks" / "configure.yml"
VARS = json.dumps({"ssm_proxy_url": PROXY, "ssm_proxy_no_proxy": [".corp.example.com", "10.0.0.0/8"], "ssm_proxy_verify_delay": 0})
RUNS = 20


def startup_blocks(fleet, host: str) -> int:
    return fleet.agent_log(host).count("Proxy environment variables:")


def changed_hosts(stdout: str) -> dict[str, int]:
    """host -> changed count from the PLAY RECAP."""
    return {match.group(1): int(match.group(2)) for match in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", stdout, re.M)}


def test_twenty_runs_then_drift(sim_fleet, monkeypatch) -> None:
    monkeypatch.setenv("ANSIBLE_PIPELINING", "1")
    fleet = sim_fleet({"win2022": "server2022", "win2019": "server2019", "win2022b": "server2022", "win2019b": "server2019"})
    first = fleet.run(CONFIGURE, "-e", VARS, "--forks", "4")
    assert first.returncode == 0, output(first)
    assert all(count > 0 for count in changed_hosts(first.stdout).values()), output(first)
    environments = {host: fleet.registry_value(host, SERVICE_KEY, "Environment") for host in fleet.hosts}
    blocks = {host: startup_blocks(fleet, host) for host in fleet.hosts}
    assert all(count == 1 for count in blocks.values()), blocks

    for run in range(2, RUNS + 1):
        calls = {host: len(fleet.calls(host)) for host in fleet.hosts}
        again = fleet.run(CONFIGURE, "-e", VARS, "--forks", "4")
        assert again.returncode == 0, (run, output(again))
        assert set(changed_hosts(again.stdout).values()) == {0}, (run, output(again))
        assert "RUNNING HANDLER" not in again.stdout, (run, output(again))
        for host in fleet.hosts:
            new_calls = fleet.calls(host)[calls[host]:]
            assert [call["module"] for call in new_calls] == ["ansible.windows.win_powershell"], (run, host, new_calls)
            assert startup_blocks(fleet, host) == blocks[host], (run, host)  # no restart
            assert fleet.registry_value(host, SERVICE_KEY, "Environment") == environments[host], (run, host)

    # An agent update rewrites the service key without the Environment value.
    state = fleet.state("win2022b")
    del state["registry"][SERVICE_KEY]["Environment"]
    fleet.state_path("win2022b").write_text(json.dumps(state), encoding="utf-8")
    repaired = fleet.run(CONFIGURE, "-e", VARS, "--forks", "4")
    assert repaired.returncode == 0, output(repaired)
    changed = changed_hosts(repaired.stdout)
    assert changed["win2022b"] > 0 and all(changed[host] == 0 for host in fleet.hosts if host != "win2022b"), output(repaired)
    assert fleet.registry_value("win2022b", SERVICE_KEY, "Environment") == environments["win2022b"]
    assert startup_blocks(fleet, "win2022b") == blocks["win2022b"] + 1
    assert fleet.state("win2022b")["agent"]["running"]["https_proxy"] == PROXY

    quiet = fleet.run(CONFIGURE, "-e", VARS, "--forks", "4")
    assert quiet.returncode == 0 and set(changed_hosts(quiet.stdout).values()) == {0}, output(quiet)
