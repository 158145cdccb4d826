# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The configure playbook run the way AWX/AAP runs a job: ansible-runner, a private data dir, extra vars, job events.

The extra vars are what a job template launch would send: the survey's default answers (examples/awx/survey.json),
the proxy credential injected by the custom credential type (examples/awx/credential_type.yml), plus what
tests/sim/playbook gives simulated hosts. One host is healthy, one sits behind a proxy it cannot reach.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import typing as t

import jinja2
import pytest
import yaml

from .conftest import ROOT, load_state

ansible_runner = pytest.importorskip("ansible_runner")

pytestmark = pytest.mark.integration

PROXY = "http://proxy.example.com:3128"
PASSWORD = "Zq7-awx-Proxy-Secret"  # unique, so that any occurrence in job output is this password
USERNAME = "svc-ssm"
CONFIGURE = ROOT / "playbooks" / "configure.yml"
SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"


def sim_envvars() -> dict[str, str]:
    """The environment tests/sim/playbook sets, for env/envvars of the private data dir."""
    venv_bin = pathlib.Path(sys.executable).parent
    return {
        "ANSIBLE_COLLECTIONS_PATH": f"{ROOT}/.cache/self:{ROOT}/tests/sim/collections:{ROOT}/.cache/collections",
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "SIM_UPSTREAM_COLLECTIONS": f"{ROOT}/.cache/collections",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        # ansible-runner starts `ansible-playbook` from PATH: this venv's, as the EE's is in AWX.
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def job_extravars() -> dict[str, t.Any]:
    """Survey defaults + the credential type's injected extra vars + the simulated hosts' connection variables."""
    survey = json.loads((ROOT / "examples" / "awx" / "survey.json").read_text(encoding="utf-8"))
    extravars: dict[str, t.Any] = {}
    for question in survey["spec"]:
        default = question.get("default")
        extravars[question["variable"]] = [item for item in default.split("\n") if item] if question["type"] == "multiselect" else default
    extravars["ssm_proxy_url"] = PROXY
    credential_type = yaml.safe_load((ROOT / "examples" / "awx" / "credential_type.yml").read_text(encoding="utf-8"))
    inputs = {"username": USERNAME, "password": PASSWORD}
    for name, template in credential_type["injectors"]["extra_vars"].items():
        extravars[name] = jinja2.Template(template).render(**inputs)
    extravars.update({
        "ansible_connection": "local",
        "ansible_shell_type": "sim.host.sh",
        "ansible_python_interpreter": sys.executable,
    })
    return extravars


@pytest.fixture(scope="module")
def job(tmp_path_factory) -> dict[str, t.Any]:
    """One job over two hosts: `ok` (server2022) and `cut` (its proxy is unreachable, so pre-flight fails)."""
    directory = tmp_path_factory.mktemp("awx")
    cut = load_state("server2022")
    cut["network"] = {"unreachable_proxies": ["proxy.example.com:3128"]}
    states = {"ok": load_state("server2022"), "cut": cut}
    hosts = {}
    for name, state in states.items():
        path = directory / f"{name}.json"
        path.write_text(json.dumps(state, indent=1), encoding="utf-8")
        hosts[name] = {"sim_state": str(path)}
    private_data_dir = directory / "private_data_dir"
    private_data_dir.mkdir()
    runner = ansible_runner.run(
        private_data_dir=str(private_data_dir),
        playbook=str(CONFIGURE),
        inventory={"windows": {"hosts": hosts}},
        extravars=job_extravars(),
        envvars=sim_envvars(),
        ident="job-1",
        quiet=True,
    )
    return {"runner": runner, "events": list(runner.events), "directory": directory, "private_data_dir": private_data_dir}


def host_events(events: list[dict[str, t.Any]], host: str, kind: str) -> list[dict[str, t.Any]]:
    return [event for event in events if event["event"] == kind and event["event_data"].get("host") == host]


def test_job_status_and_recap(job) -> None:
    runner = job["runner"]
    assert (runner.status, runner.rc) == ("failed", 2), runner.stdout.read()
    assert runner.stats["failures"] == {"cut": 1}
    assert "ok" not in runner.stats["failures"] and runner.stats["changed"].get("ok", 0) >= 3
    assert [event["event"] for event in job["events"]][-1] == "playbook_on_stats"


def test_healthy_host_runs_plan_apply_handler_and_verify(job) -> None:
    events = job["events"]
    ok_tasks = [event["event_data"]["task"] for event in host_events(events, "ok", "runner_on_ok")]
    plan = "Plan | read every source once and ask each module whether it would change anything"
    assert plan in ok_tasks
    assert "Apply | the agent's own proxy, LocalSystem's WinINet and the WinHTTP default proxy, in one write" in ok_tasks
    assert "Verify | read the agent's newest startup block" in ok_tasks
    # The rollback (and the host's one failure) comes only when a step failed: here it is skipped.
    skipped = [event["event_data"]["task"] for event in host_events(events, "ok", "runner_on_skipped")]
    assert "Rollback | put back the previous values, restart, and fail the host, naming what failed" in skipped
    assert not host_events(events, "ok", "runner_on_failed")
    notified = [event for event in events if event["event"] == "playbook_on_notify" and event["event_data"].get("host") == "ok"]
    assert notified, "the agent's settings changed, so the restart handler was notified"
    handler_runs = [event for event in host_events(events, "ok", "runner_on_ok")
                    if event["event_data"]["task_path"].split(":")[0].endswith("handlers/main.yml")]
    assert [event["event_data"]["task"] for event in handler_runs] == ["Restart the SSM Agent"]
    state = json.loads((job["directory"] / "ok.json").read_text(encoding="utf-8"))
    environment = state["registry"][SERVICE_KEY]["Environment"]["value"]
    assert f"https_proxy=http://{USERNAME}:{PASSWORD}@proxy.example.com:3128" in environment  # on the host only


def test_unreachable_proxy_fails_that_host_in_preflight(job) -> None:
    failed = host_events(job["events"], "cut", "runner_on_failed")
    tasks = [event["event_data"]["task"] for event in failed]
    # One failure event for the host: the role's, after the Apply step's pre-flight wrote nothing.
    assert tasks == ["Rollback | fail the host, naming what failed and what was restored"]
    assert "Pre-flight failed: from the host through" in failed[0]["event_data"]["res"]["msg"]
    assert "Nothing was changed." in failed[0]["event_data"]["res"]["msg"]
    (apply,) = [event for event in host_events(job["events"], "cut", "runner_on_ok") if event["event_data"]["task"].startswith("Apply |")]
    # The Apply step ran its pre-flight only: it stopped before anything was written.
    assert apply["event_data"]["res"]["preflight"]["blocking"] and not apply["event_data"]["res"]["changed"]
    state = json.loads((job["directory"] / "cut.json").read_text(encoding="utf-8"))
    assert "Environment" not in state["registry"][SERVICE_KEY]


def test_artifacts_are_written_as_awx_collects_them(job) -> None:
    artifacts = job["private_data_dir"] / "artifacts" / "job-1"
    assert (artifacts / "status").read_text() == "failed"
    assert (artifacts / "rc").read_text() == "2"
    assert "PLAY RECAP" in (artifacts / "stdout").read_text()
    assert len(list((artifacts / "job_events").glob("*.json"))) == len(job["events"])
    command = json.loads((artifacts / "command").read_text())
    assert command["command"][0] == "ansible-playbook" and str(CONFIGURE) in command["command"]


def test_password_is_in_no_event_stdout_or_artifact(job) -> None:
    assert PASSWORD not in json.dumps(job["events"])
    assert PASSWORD not in job["runner"].stdout.read()
    artifacts = job["private_data_dir"] / "artifacts"
    leaks = [str(path) for path in artifacts.rglob("*") if path.is_file() and PASSWORD in path.read_text(errors="replace")]
    assert not leaks
    # It was really sent: AWX's extra vars file in the private data dir (deleted after the job) holds it.
    assert PASSWORD in (job["private_data_dir"] / "env" / "extravars").read_text()
