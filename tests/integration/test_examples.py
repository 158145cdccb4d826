# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every documented example runs: the EXAMPLES of every module and filter, and every YAML snippet of README.md and docs/.

Examples that can run against a simulated Windows host do, all in ONE playbook run (a play and a fresh simulated host
per example, because each ansible-playbook start costs seconds); the PLAY RECAP says which host, so which example,
failed. Examples that need AWS or AWX (amazon.aws, aws_ssm, ssm_instance_status, awx.awx) get
`ansible-playbook --syntax-check` against the real collections, awx.awx taken from the pinned `ansible` wheel.
Inventories and extra-vars snippets run the role with their ssm_proxy_* variables on a simulated host; the other YAML
(execution-environment steps, collection requirements) is checked against what its consumer accepts.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import pathlib
import re
import shutil
import subprocess
import typing as t
import zipfile

import pytest
import yaml

from .conftest import ROOT, RUNNER, STATES

pytestmark = pytest.mark.integration

VENV = pathlib.Path(os.environ.get("SIM_VENV", ROOT / ".venv"))
WHEEL_GLOB = "ansible-*-py3-none-any.whl"
NEEDS_AWS = re.compile(r"amazon\.aws\.|ssm_instance_status|awx\.awx\.|aws_ssm")
# What the examples assume an operator's inventory or vault provides.
OPERATOR_VARS = {
    "ssm_proxy_url": "http://proxy.example.com:3128",
    "ssm_proxy_no_proxy": [".corp.example.com"],
    "vault_proxy_password": "Example-Pa55word",
    "vault_windows_password": "Example-Pa55word",
    "instance_id": "i-0123456789abcdef0",
    "placement": {"region": "eu-west-1"},
    "windows_2022_ami": "ami-0123456789abcdef0",
}
# ansible-builder v3 additional_build_steps keys (ansible-builder docs, "additional_build_steps").
BUILD_STEPS = {"prepend_base", "append_base", "prepend_galaxy", "append_galaxy", "prepend_builder", "append_builder",
               "prepend_final", "append_final"}
# The users wininet_proxy's example calls "logged-on": their profile hives are loaded (HKU:\<SID>).
LOGGED_ON = ("S-1-5-21-1004336348-1177238915-682003330-1001", "S-1-5-21-1004336348-1177238915-682003330-1002")
RESTART_HANDLER = {"name": "Restart the SSM Agent", "ansible.windows.win_service": {"name": "AmazonSSMAgent", "state": "restarted"}}


@dataclasses.dataclass
class Example:
    origin: str
    text: str

    @property
    def data(self) -> t.Any:
        return yaml.safe_load(self.text)

    @property
    def host(self) -> str:
        return "ex_" + re.sub(r"[^a-z0-9]+", "_", self.origin.lower()).strip("_")

    @property
    def kind(self) -> str:
        data = self.data
        if isinstance(data, list):
            top = data[0] if data and isinstance(data[0], dict) else {}
            playbook = "hosts" in top or any(key.endswith("import_playbook") for key in top)
            # A task names a module (a dotted name) or a block; a list of plain records (routes) is data.
            tasks = any(isinstance(item, dict) and any("." in str(key) or key in ("block", "name") for key in item) for item in data)
            if not playbook and not tasks:
                return "data"
            return ("aws_" if NEEDS_AWS.search(self.text) else "") + ("playbook" if playbook else "tasks")
        if isinstance(data, dict) and any(isinstance(group, dict) and "hosts" in group for group in data.values()):
            return "inventory"
        if isinstance(data, dict) and data and all(str(key).startswith("ssm_proxy_") for key in data):
            return "extra_vars"
        return "data"


def documentation_examples() -> list[Example]:
    examples = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for number, match in enumerate(re.finditer(r"^```ya?ml\n(.*?)^```", path.read_text(encoding="utf-8"), re.M | re.S)):
            examples.append(Example(f"{path.relative_to(ROOT)} yaml {number}", match.group(1)))
    for path in sorted((ROOT / "plugins" / "modules").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and any(getattr(target, "id", "") == "EXAMPLES" for target in node.targets):
                examples.append(Example(f"{path.relative_to(ROOT)} EXAMPLES", ast.literal_eval(node.value)))
    # The filters' documentation is a YAML file per filter beside plugins/filter/core.py (ansible-doc's sidecar format).
    for path in sorted((ROOT / "plugins" / "filter").glob("*.yml")):
        examples.append(Example(f"{path.relative_to(ROOT)} EXAMPLES", yaml.safe_load(path.read_text(encoding="utf-8"))["EXAMPLES"]))
    return examples


EXAMPLES = documentation_examples()
BY_KIND = {kind: [example for example in EXAMPLES if example.kind == kind]
           for kind in ("playbook", "tasks", "aws_playbook", "aws_tasks", "inventory", "extra_vars", "data")}


def plays_for(example: Example) -> list[dict[str, t.Any]]:
    """The example as plays on its own simulated host."""
    kind, data, host = example.kind, example.data, example.host
    if kind.endswith("playbook"):
        plays = []
        for play in data:
            if any(key.endswith("import_playbook") for key in play):
                plays.append({**play, "vars": {**play.get("vars", {}), "ssm_proxy_hosts": host}})
            else:
                plays.append({**play, "hosts": host})
        return plays
    if kind.endswith("tasks"):
        return [{"name": example.origin, "hosts": host, "gather_facts": False, "tasks": data, "handlers": [RESTART_HANDLER]}]
    # Inventories and extra vars: the role with their variables (host variables, see inventory()).
    return [{"name": example.origin, "hosts": host, "gather_facts": False, "roles": [{"role": "ssm.proxy.agent_proxy"}]}]


def host_variables(example: Example) -> dict[str, t.Any]:
    """An inventory's or an extra-vars snippet's ssm_proxy_* variables (connection settings stay out: this host is simulated)."""
    if example.kind == "extra_vars":
        return dict(example.data)
    found: dict[str, t.Any] = {}
    for group in example.data.values():
        found.update({key: value for key, value in (group.get("vars") or {}).items() if not key.startswith("ansible_")})
    return found


def write_workdir(directory: pathlib.Path, examples: list[Example], states: bool) -> pathlib.Path:
    """One file per example (errors name it), a site.yml importing them all, an inventory and the files they read."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "build").mkdir(exist_ok=True)
    (directory / "scripts").mkdir(exist_ok=True)
    (directory / "scripts" / "patch.ps1").write_text("Install-WindowsUpdate\n", encoding="utf-8")
    (directory / "examples" / "awx").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "examples" / "awx" / "credential_type.yml", directory / "examples" / "awx")
    hosts: dict[str, t.Any] = {}
    site = []
    host_state = json.loads((STATES / "server2022.json").read_text(encoding="utf-8"))
    for sid in LOGGED_ON:
        host_state["registry"][f"HKU:\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings"] = {}
    state = json.dumps(host_state, indent=1)
    for example in examples:
        name = f"{example.host}.yml"
        (directory / name).write_text(yaml.safe_dump(plays_for(example), sort_keys=False), encoding="utf-8")
        site.append({"ansible.builtin.import_playbook": name})
        hosts[example.host] = host_variables(example) if example.kind in ("inventory", "extra_vars") else {}
        if states:
            (directory / f"{example.host}.json").write_text(state, encoding="utf-8")
            hosts[example.host]["sim_state"] = str(directory / f"{example.host}.json")
    inventory = {"windows": {"hosts": hosts, "vars": OPERATOR_VARS}}
    (directory / "inventory.yml").write_text(json.dumps(inventory, indent=1), encoding="utf-8")
    (directory / "site.yml").write_text(yaml.safe_dump(site), encoding="utf-8")
    return directory


def recap(stdout: str) -> dict[str, dict[str, int]]:
    rows = re.findall(r"^(\S+)\s+: ok=(\d+)\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)", stdout, re.M)
    return {host: {"ran": int(ok) + int(skipped), "unreachable": int(unreachable), "failed": int(failed)}
            for host, ok, unreachable, failed, skipped in rows}


@pytest.fixture(scope="module")
def simulated_run(tmp_path_factory) -> tuple[str, dict[str, dict[str, int]]]:
    """Run every example; again for those a failure left unrun (ansible-playbook stops when a play's only host fails)."""
    pending = [example for kind in ("playbook", "tasks", "inventory", "extra_vars") for example in BY_KIND[kind]]
    outputs, hosts = [], {}
    while pending:
        directory = write_workdir(tmp_path_factory.mktemp("examples"), pending, states=True)
        result = subprocess.run([str(RUNNER), "-i", "inventory.yml", "site.yml", "--forks", "10"], cwd=directory,
                                capture_output=True, text=True, check=False, timeout=900)
        outputs.append(f"--- stdout\n{result.stdout[-8000:]}\n--- stderr\n{result.stderr[-3000:]}")
        ran = recap(result.stdout)
        hosts.update(ran)
        if not ran:
            break
        pending = [example for example in pending if example.host not in ran]
    return "\n".join(outputs), hosts


def awx_collection(destination: pathlib.Path) -> pathlib.Path:
    """awx.awx from the pinned `ansible` wheel that `make collections` downloads (no Galaxy here)."""
    wheels = sorted((ROOT / ".cache" / "wheels").glob(WHEEL_GLOB))
    assert wheels, "no ansible wheel in .cache/wheels: run `make collections`"
    with zipfile.ZipFile(wheels[-1]) as archive:
        archive.extractall(destination, [name for name in archive.namelist() if name.startswith("ansible_collections/awx/awx/")])
    return destination


@pytest.fixture(scope="module")
def syntax_check(tmp_path_factory) -> subprocess.CompletedProcess[str]:
    examples = BY_KIND["aws_playbook"] + BY_KIND["aws_tasks"]
    directory = write_workdir(tmp_path_factory.mktemp("aws_examples"), examples, states=False)
    awx = awx_collection(tmp_path_factory.mktemp("awx"))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=f"{ROOT / '.cache' / 'self'}:{ROOT / '.cache' / 'collections'}:{awx}",
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
    return subprocess.run([str(VENV / "bin" / "ansible-playbook"), "--syntax-check", "-i", "inventory.yml", "site.yml"],
                          cwd=directory, env=env, capture_output=True, text=True, check=False, timeout=300)


def test_the_catalogue_finds_every_kind_of_example() -> None:
    assert len(EXAMPLES) >= 25
    assert all(BY_KIND[kind] for kind in BY_KIND), {kind: len(examples) for kind, examples in BY_KIND.items()}
    assert sum(len(examples) for examples in BY_KIND.values()) == len(EXAMPLES)


@pytest.mark.parametrize("example", [e for kind in ("playbook", "tasks", "inventory", "extra_vars") for e in BY_KIND[kind]],
                         ids=lambda example: example.origin)
def test_example_runs_against_a_simulated_host(simulated_run, example: Example) -> None:
    outputs, hosts = simulated_run
    detail = f"{example.origin} (host {example.host}):\n{example.text}\n{outputs}"
    assert example.host in hosts, f"never ran: {detail}"
    assert hosts[example.host]["failed"] == 0 and hosts[example.host]["unreachable"] == 0, detail
    assert hosts[example.host]["ran"] > 0, detail


def test_examples_that_need_aws_pass_the_syntax_check(syntax_check) -> None:
    assert syntax_check.returncode == 0, f"--- stdout\n{syntax_check.stdout}\n--- stderr\n{syntax_check.stderr}"


@pytest.mark.parametrize("example", BY_KIND["data"], ids=lambda example: example.origin)
def test_other_yaml_is_what_its_consumer_accepts(example: Example) -> None:
    data = example.data
    if "additional_build_steps" in data:
        steps = data["additional_build_steps"]
        assert set(steps) <= BUILD_STEPS and all(isinstance(step, list) for step in steps.values()), steps
        definition = yaml.safe_load((ROOT / "ee" / "execution-environment.yml").read_text(encoding="utf-8"))
        assert definition["version"] == 3
    elif "collections" in data:
        available = {"ssm.proxy"} | {f"{path.parent.name}.{path.name}"
                                     for path in (ROOT / ".cache" / "collections" / "ansible_collections").glob("*/*")}
        assert {item["name"] for item in data["collections"]} <= available
    elif isinstance(data, dict) and "endpoints" in data:
        # The effective_agent_proxy filter's input (docs/diagnosing.md; tests/unit/test_diagnosing_example.py checks the output).
        from ansible_collections.ssm.proxy.plugins.filter.core import effective_agent_proxy
        assert len(effective_agent_proxy(data)["routes"]) == len(data["endpoints"])
    elif isinstance(data, list) and data and all(isinstance(item, dict) and set(item) == {"url", "proxy", "matched"} for item in data):
        pass  # the filter's routes, compared with the filter's real output by tests/unit/test_diagnosing_example.py
    else:
        pytest.fail(f"{example.origin}: no check for this YAML; add one:\n{example.text}")
