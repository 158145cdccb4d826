#!/usr/bin/env python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a consistent simulated Windows host (state document, tests/sim/README.md) from a few options.

Usage (any Python 3.11+ with PyYAML; .venv has it):
    tests/sim/make_host.py /tmp/fleet/web01.json --windows 2019 --agent 3.2.582.0 \
        --winhttp-netsh proxy.corp:3128 --inventory /tmp/fleet/inventory.yml
    tests/sim/playbook -i /tmp/fleet/inventory.yml playbooks/report.yml

What "consistent" means here, as on a real instance: an installed agent has its service key (ImagePath, Start,
ObjectName as the MSI writes them), a `services` entry in the same state, its log file and an `agent` version; the
Windows version key (HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion) is what that release writes (since
Windows 10 / Server 2016 CurrentVersion stays "6.3" and the real version is in CurrentMajor/MinorVersionNumber);
Windows Server 2008 R2 runs the last agent that supports it (2.3.1644.0) unless told otherwise; instance metadata
answers with the region unless the host is not on EC2; a running agent has started once (booted) and logged its
startup block with the proxy it found. The base is tests/integration/states/server2022.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import pathlib
import sys
import typing as t

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BASE = ROOT / "tests" / "integration" / "states" / "server2022.json"
SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"
OS_KEY = "HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
WINHTTP_KEY = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections"
AGENT_LOG = "C:\\ProgramData\\Amazon\\SSM\\Logs\\amazon-ssm-agent.log"
# ProductName, build and NT version per release (values from the releases' own registry).
WINDOWS = {
    "2022": ("Windows Server 2022 Datacenter", "20348", (10, 0)),
    "2019": ("Windows Server 2019 Datacenter", "17763", (10, 0)),
    "2016": ("Windows Server 2016 Datacenter", "14393", (10, 0)),
    "2012r2": ("Windows Server 2012 R2 Datacenter", "9600", "6.3"),
    "2008r2": ("Windows Server 2008 R2 Datacenter", "7601", "6.1"),
}
DEFAULT_AGENT = "3.3.987.0"
# The last agent for Windows Server 2008 / 2008 R2 (AWS Systems Manager guide, "SSM Agent for Windows Server 2008").
WINDOWS_2008_AGENT = "2.3.1644.0"


def _registry_value(value: t.Any) -> dict[str, t.Any]:
    return {"type": "REG_DWORD" if isinstance(value, int) else "REG_SZ", "value": value}


def _windows_version_key(release: str, installation_type: str) -> dict[str, t.Any]:
    product, build, version = WINDOWS[release]
    values: dict[str, t.Any] = {"ProductName": product, "CurrentBuild": build, "InstallationType": installation_type}
    if isinstance(version, tuple):
        values.update(CurrentVersion="6.3", CurrentMajorVersionNumber=version[0], CurrentMinorVersionNumber=version[1])
    else:
        values["CurrentVersion"] = version
    return {name: _registry_value(value) for name, value in values.items()}


# The collection (for its WinHTTP codec) and the stand-in ansible.windows (for the simulated agent's start) are
# namespace packages under ansible_collections, merged from both directories.
for _path in (ROOT / ".cache" / "self", ROOT / "tests" / "sim" / "collections"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))


def _netsh_blob(proxy: str, bypass: str) -> str:
    """WinHttpSettings as `netsh winhttp set proxy <proxy> <bypass>` writes it (the collection's own codec)."""
    try:
        from ansible_collections.ssm.proxy.plugins.plugin_utils._blobs import (  # pylint: disable=import-outside-toplevel
            WinHttpProxySettings, blob_to_hex, encode_winhttp_settings)
    except ImportError as error:
        raise SystemExit(f"make_host: {error}; run `make self` so that .cache/self/ansible_collections/ssm/proxy exists") from error
    return blob_to_hex(encode_winhttp_settings(WinHttpProxySettings.named_proxy(proxy, bypass)))


def build_state(options: argparse.Namespace) -> dict[str, t.Any]:
    """The state document for the options (see --help)."""
    state = copy.deepcopy(json.loads(BASE.read_text(encoding="utf-8")))
    state["registry"][OS_KEY] = _windows_version_key(options.windows, options.installation_type)
    if options.no_agent:
        del state["registry"][SERVICE_KEY]
        state["services"].pop("AmazonSSMAgent")
        state.pop("agent")
        state["files"].pop(AGENT_LOG)
    else:
        state["agent"]["version"] = options.agent or (WINDOWS_2008_AGENT if options.windows == "2008r2" else DEFAULT_AGENT)
        state["services"]["AmazonSSMAgent"]["state"] = "stopped" if options.agent_stopped else "running"
        lines = list(options.agent_env)
        if options.agent_proxy:
            lines += [f"http_proxy={options.agent_proxy}", f"https_proxy={options.agent_proxy}"]
        if lines:
            state["registry"][SERVICE_KEY]["Environment"] = {"type": "REG_MULTI_SZ", "value": lines}
    if options.winhttp_netsh:
        state["registry"][WINHTTP_KEY]["WinHttpSettings"] = {"type": "REG_BINARY", "value": _netsh_blob(options.winhttp_netsh, options.winhttp_bypass)}
    if options.no_imds:
        state.pop("imds")
    else:
        state["imds"] = {"region": options.region}
    network: dict[str, t.Any] = {}
    if options.unreachable_proxy:
        network["unreachable_proxies"] = options.unreachable_proxy
    if options.direct_blocked:
        network["direct_blocked"] = True
    if network:
        state["network"] = network
    state["calls"] = []
    return state


def start_agent(path: pathlib.Path) -> None:
    """Start the simulated agent once, as the service manager does at boot: it reads its proxy sources and writes its
    startup block (the agent version and proxy lines ssm_agent_proxy_info reads) to its log (tests/sim/README.md)."""
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.ansible.windows.plugins.module_utils import _sim_host, _sim_services

    with _sim_host.locked_state(str(path)) as state:
        _sim_services.start_service(state, "AmazonSSMAgent")


def add_to_inventory(inventory: pathlib.Path, name: str, state_path: pathlib.Path) -> None:
    """Add (or point again) the host in group `windows` of a YAML inventory, keeping everything else."""
    data = yaml.safe_load(inventory.read_text(encoding="utf-8")) if inventory.exists() else None
    data = data or {}
    hosts = data.setdefault("windows", {}).setdefault("hosts", {}) or {}
    data["windows"]["hosts"] = hosts
    hosts.setdefault(name, {})
    hosts[name] = {**(hosts[name] or {}), "sim_state": str(state_path.resolve())}
    inventory.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("state", type=pathlib.Path, help="the state document to write (e.g. /tmp/fleet/web01.json)")
    parser.add_argument("--windows", choices=sorted(WINDOWS), default="2022", help="Windows Server release (default 2022)")
    parser.add_argument("--installation-type", default="Server", choices=["Server", "Server Core", "Nano Server"])
    agent = parser.add_mutually_exclusive_group()
    agent.add_argument("--agent", metavar="VERSION", help=f"SSM Agent version (default {DEFAULT_AGENT}; {WINDOWS_2008_AGENT} on 2008r2)")
    agent.add_argument("--no-agent", action="store_true", help="no SSM Agent installed (no service, key or log)")
    parser.add_argument("--agent-stopped", action="store_true", help="the AmazonSSMAgent service is stopped")
    parser.add_argument("--agent-proxy", metavar="URL", help="http_proxy and https_proxy already in the service Environment")
    parser.add_argument("--agent-env", metavar="NAME=VALUE", action="append", default=[],
                        help="another line of the service Environment value (repeatable), e.g. AWS_REGION=eu-west-1")
    parser.add_argument("--winhttp-netsh", metavar="HOST:PORT", help="WinHTTP proxy as `netsh winhttp set proxy HOST:PORT` writes it")
    parser.add_argument("--winhttp-bypass", default="<local>", help="its bypass list (default <local>)")
    imds = parser.add_mutually_exclusive_group()
    imds.add_argument("--region", default="eu-west-1", help="the region instance metadata answers (default eu-west-1)")
    imds.add_argument("--no-imds", action="store_true", help="instance metadata does not answer (not on EC2)")
    parser.add_argument("--unreachable-proxy", metavar="HOST:PORT", action="append", default=[],
                        help="requests through this proxy fail (repeatable)")
    parser.add_argument("--direct-blocked", action="store_true", help="requests without a proxy fail (no direct internet access)")
    parser.add_argument("--inventory", type=pathlib.Path, help="add the host to group windows of this YAML inventory")
    parser.add_argument("--name", help="host name in the inventory (default: the state file's name)")
    options = parser.parse_args(argv)
    if options.no_agent and (options.agent_stopped or options.agent_proxy or options.agent_env):
        parser.error("--no-agent: there is no service to stop or configure")
    return options


def main(argv: list[str]) -> None:
    options = parse_arguments(argv)
    options.state.parent.mkdir(parents=True, exist_ok=True)
    options.state.write_text(json.dumps(build_state(options), indent=1), encoding="utf-8")
    if not (options.no_agent or options.agent_stopped):
        start_agent(options.state)
    if options.inventory:
        add_to_inventory(options.inventory, options.name or options.state.stem, options.state)


if __name__ == "__main__":
    main(sys.argv[1:])
