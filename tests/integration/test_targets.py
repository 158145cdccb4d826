# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every integration target, run through the sim runner against two simulated hosts."""

from __future__ import annotations

import pathlib

import pytest

from .conftest import ROOT, output

TARGETS_DIR = ROOT / "tests" / "integration" / "targets"
TARGETS = sorted(path.name for path in TARGETS_DIR.iterdir() if (path / "tasks" / "main.yml").exists())
RUN_TARGET = ROOT / "tests" / "integration" / "run_target.yml"


@pytest.mark.integration
@pytest.mark.parametrize("target", TARGETS)
def test_target(sim_fleet, target: str) -> None:
    fleet = sim_fleet({"win2022": "server2022", "win2019": "server2019"})
    before = {host: fleet.host_state(host) for host in fleet.hosts}
    result = fleet.run(RUN_TARGET, "-e", f"target={target}")
    assert result.returncode == 0, output(result)
    for host in fleet.hosts:
        assert f"{host}" in result.stdout and "failed=0" in result.stdout, output(result)
        # Targets restore everything they touch, as they must on a real host.
        assert fleet.host_state(host) == before[host], f"{host}: target {target} left the host changed"


def test_targets_exist() -> None:
    assert "ssm_agent_proxy" in TARGETS and pathlib.Path(RUN_TARGET).exists()
