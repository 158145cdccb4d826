#!/usr/bin/env python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the demo fleet: three simulated Windows hosts in the starting states operators meet most."""

from __future__ import annotations

import copy
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[3]
STATES = ROOT / "tests" / "integration" / "states"
WINHTTP_KEY = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections"
SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"
# `netsh winhttp set proxy proxy.example.com:3128 "<local>"`: header 0x28, flags 3, a bare host:port.
NETSH_BARE = "28000000000000000300000016000000" + b"proxy.example.com:3128".hex() + "07000000" + b"<local>".hex()


def load(name: str) -> dict:
    return json.loads((STATES / f"{name}.json").read_text(encoding="utf-8"))


def main(work: pathlib.Path) -> None:
    clean = load("server2022")
    netsh = load("server2019")
    netsh["registry"][WINHTTP_KEY]["WinHttpSettings"] = {"type": "REG_BINARY", "value": NETSH_BARE}
    netsh["registry"][SERVICE_KEY]["Environment"] = {"type": "REG_MULTI_SZ", "value": ["AWS_REGION=eu-west-1", "HTTP_PROXY=http://old-proxy:8080"]}
    compliant = copy.deepcopy(clean)  # configured below by a first, silent run
    hosts = {"win2022-clean": clean, "win2019-netsh": netsh, "win2022-compliant": compliant}
    inventory = {"windows": {"hosts": {}}}
    for name, state in hosts.items():
        path = work / f"{name}.json"
        path.write_text(json.dumps(state, indent=1), encoding="utf-8")
        inventory["windows"]["hosts"][name] = {"sim_state": str(path)}
    (work / "inventory.yml").write_text(json.dumps(inventory, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
