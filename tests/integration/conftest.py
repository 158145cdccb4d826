# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Simulated Windows fleets for integration tests: state files, an inventory and the sim runner."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import pathlib
import subprocess
import typing as t

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "sim" / "playbook"
STATES = pathlib.Path(__file__).resolve().parent / "states"
AGENT_LOG = "C:\\ProgramData\\Amazon\\SSM\\Logs\\amazon-ssm-agent.log"


@dataclasses.dataclass
class SimFleet:
    """Simulated hosts in one directory: ``<name>.json`` state files and ``inventory.yml``."""

    directory: pathlib.Path
    hosts: list[str]

    def state_path(self, host: str) -> pathlib.Path:
        return self.directory / f"{host}.json"

    def state(self, host: str) -> dict[str, t.Any]:
        return json.loads(self.state_path(host).read_text(encoding="utf-8"))

    def host_state(self, host: str) -> dict[str, t.Any]:
        """The state without the calls record: what a real host would hold."""
        state = self.state(host)
        state.pop("calls", None)
        return state

    def calls(self, host: str) -> list[dict[str, t.Any]]:
        return self.state(host).get("calls", [])

    def registry_value(self, host: str, key: str, name: str) -> t.Any:
        keys = {path.lower(): values for path, values in self.state(host)["registry"].items()}
        found = keys.get(key.lower(), {}).get(name)
        return None if found is None else found["value"]

    def agent_log(self, host: str) -> str:
        return self.state(host).get("files", {}).get(AGENT_LOG, "")

    def run(self, playbook: str | pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a playbook against the fleet through tests/sim/playbook; output is kept for the assertion message."""
        command = [str(RUNNER), "-i", str(self.directory / "inventory.yml"), str(playbook), *args]
        env = dict(os.environ, ANSIBLE_ROLES_PATH=str(ROOT / "tests" / "integration" / "targets"))
        return subprocess.run(command, capture_output=True, text=True, check=False, env=env, timeout=600)


def load_state(template: str) -> dict[str, t.Any]:
    return json.loads((STATES / f"{template}.json").read_text(encoding="utf-8"))


@pytest.fixture
def sim_fleet(tmp_path: pathlib.Path) -> t.Callable[..., SimFleet]:
    """Factory: ``sim_fleet({"host": "server2022", ...})`` writes the states and an inventory (group ``windows``)."""

    def factory(hosts: dict[str, str | dict[str, t.Any]]) -> SimFleet:
        inventory: dict[str, t.Any] = {"windows": {"hosts": {}}}
        for name, template in hosts.items():
            state = load_state(template) if isinstance(template, str) else copy.deepcopy(template)
            path = tmp_path / f"{name}.json"
            path.write_text(json.dumps(state, indent=1), encoding="utf-8")
            inventory["windows"]["hosts"][name] = {"sim_state": str(path)}
        (tmp_path / "inventory.yml").write_text(json.dumps(inventory, indent=1), encoding="utf-8")
        return SimFleet(directory=tmp_path, hosts=list(hosts))

    return factory


def output(result: subprocess.CompletedProcess[str]) -> str:
    """Playbook output for assertion messages."""
    return f"rc={result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
