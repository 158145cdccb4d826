# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's pre-flight against proxies that would cut the agent off, through the real ansible-playbook.

One run of ssm.proxy.configure over a simulated fleet with one host per proxy behaviour of the state's
``network.proxies`` (tests/sim/README.md): each refusal fails that host before anything is written, with one
line per endpoint naming the role variables and never the password; the hosts whose proxy lets the agent
through are configured.
"""

from __future__ import annotations

import copy
import json
import os
import pathlib
import re
import subprocess
import typing as t

import pytest

from .conftest import ROOT, RUNNER, load_state

pytestmark = pytest.mark.integration

CONFIGURE = ROOT / "playbooks" / "configure.yml"
PROXY = "http://proxy.example.com:3128"
PASSWORD = "Hunter2-pf"
CREDENTIALS = {"ssm_proxy_username": "svc-ssm", "ssm_proxy_password": PASSWORD}
SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"
AGENT_LOG = "C:\\ProgramData\\Amazon\\SSM\\Logs\\amazon-ssm-agent.log"
REFUSED = "the proxy refused CONNECT to {host}.eu-west-1.amazonaws.com:443 with {words}"

# host: (the proxy's model, host variables)
HOSTS: dict[str, tuple[dict[str, t.Any], dict[str, t.Any]]] = {
    "connect403": ({"connect_status": 403}, {}),
    "connect502": ({"connect_status": 502}, {}),
    "connect503": ({"connect_status": 503}, {}),
    "connect504": ({"connect_status": 504}, {}),
    "deny": ({"deny": ["ssmmessages.*.amazonaws.com"]}, {}),
    "basic_without": ({"auth": "basic"}, {}),
    "basic_with": ({"auth": "basic"}, CREDENTIALS),
    "negotiate": ({"auth": "negotiate"}, CREDENTIALS),
    "intercept": ({"intercept_tls": True}, {}),
    "timeout": ({"timeout": True}, {"ssm_proxy_preflight_timeout": 4}),
    "s3_warned": ({"deny": ["s3.*"]}, {}),
    "s3_required": ({"deny": ["s3.*"]}, {"ssm_proxy_preflight_s3": "required"}),
    "timeout_too_long": ({}, {"ssm_proxy_preflight_timeout": 5000}),
    # What pre-flight prevents: without it the agent is configured, starts, and cannot reach Systems Manager.
    "negotiate_unchecked": ({"auth": "negotiate"}, {**CREDENTIALS, "ssm_proxy_preflight": False}),
}
PASSING = {"basic_with", "s3_warned", "negotiate_unchecked"}


def _state(model: dict[str, t.Any]) -> dict[str, t.Any]:
    state = copy.deepcopy(load_state("server2022"))
    state["network"] = {"proxies": {"proxy.example.com:3128": model}, "direct_blocked": True}
    return state


def _calls(path: pathlib.Path) -> list[dict[str, t.Any]]:
    return json.loads(path.read_text(encoding="utf-8")).get("calls", [])


def _host_state(path: pathlib.Path) -> dict[str, t.Any]:
    state = json.loads(path.read_text(encoding="utf-8"))
    state.pop("calls", None)
    return state


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> dict[str, t.Any]:
    """Run configure once over every host; keep each host's task results as the default callback printed them."""
    directory = tmp_path_factory.mktemp("preflight")
    inventory: dict[str, t.Any] = {"windows": {"hosts": {}}}
    before = {}
    for host, (model, variables) in HOSTS.items():
        path = directory / f"{host}.json"
        path.write_text(json.dumps(_state(model), indent=1), encoding="utf-8")
        before[host] = _host_state(path)
        inventory["windows"]["hosts"][host] = {"sim_state": str(path), **variables}
    (directory / "inventory.json").write_text(json.dumps(inventory), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_FORKS="8", ANSIBLE_NOCOLOR="1", SIM_SEED="12")
    process = subprocess.run([str(RUNNER), "-i", str(directory / "inventory.json"), str(CONFIGURE), "-e", f"ssm_proxy_url={PROXY}"],
                             capture_output=True, text=True, check=False, env=env, timeout=600)
    assert "PLAY RECAP" in process.stdout, process.stdout + process.stderr
    return {"process": process, "results": _results(process.stdout), "before": before,
            "after": {host: _host_state(directory / f"{host}.json") for host in HOSTS},
            "calls": {host: _calls(directory / f"{host}.json") for host in HOSTS}}


def _results(stdout: str) -> dict[str, dict[str, t.Any]]:
    """``{host: {task name: result}}`` from the default callback's ``ok: [host] => {...}`` / ``fatal: [host]: FAILED! => {...}``."""
    results: dict[str, dict[str, t.Any]] = {host: {} for host in HOSTS}
    decoder = json.JSONDecoder()
    task = ""
    for match in re.finditer(r"^TASK \[(?:[\w.]+ : )?(.*)\] \**$|^(ok|changed|fatal|skipping): \[(\w+)\](?:: FAILED!)? => ", stdout, re.MULTILINE):
        if match.group(1) is not None:
            task = match.group(1)
            continue
        result = decoder.raw_decode(stdout, match.end())[0]
        result["failed"] = match.group(2) == "fatal"  # the callback prints a failure without its `failed` key
        results[match.group(3)][task] = result
    return results


def _failure(fleet: dict[str, t.Any], host: str) -> str:
    """The message the host failed with (the rescue's, which carries the pre-flight's report)."""
    failed = [result for result in fleet["results"][host].values() if result["failed"]]
    assert failed, f"{host} did not fail: {sorted(fleet['results'][host])}"
    return failed[-1]["msg"]


def _lines(message: str) -> dict[str, str]:
    """The report's endpoint lines, ``{service: rest of the line}``."""
    lines = re.findall(r"^- (\w+) (\S+)(?: \(warning only\))?: (.*)$", message, re.MULTILINE)
    assert all(url == f"https://{service}.eu-west-1.amazonaws.com/" for service, url, _rest in lines), lines
    return {service: rest for service, _url, rest in lines}


@pytest.mark.parametrize("host, status", [("connect403", "403 Forbidden"), ("connect502", "502 Bad Gateway"),
                                          ("connect503", "503 Service Unavailable"), ("connect504", "504 Gateway Timeout")])
def test_refused_connect_fails_with_the_proxys_status(fleet: dict[str, t.Any], host: str, status: str) -> None:
    message = _failure(fleet, host)
    assert message.count("Pre-flight failed: from the host through") == 1
    lines = _lines(message)
    assert list(lines) == ["ssm", "ec2messages", "ssmmessages", "s3"]
    for service, line in lines.items():
        assert line == "connect refused: " + REFUSED.format(host=service, words=status)
    assert f"ssm_proxy_url={PROXY} without credentials (ssm_proxy_username is empty)" in message
    assert "let the proxy allow CONNECT to ssm.eu-west-1.amazonaws.com, ec2messages.eu-west-1.amazonaws.com" in message


def test_deny_list_names_the_refused_host_only(fleet: dict[str, t.Any]) -> None:
    lines = _lines(_failure(fleet, "deny"))
    assert lines["ssm"] == "reachable (404 Not Found from the endpoint)" and lines["s3"].startswith("reachable")
    assert lines["ssmmessages"] == "connect refused: " + REFUSED.format(host="ssmmessages", words="403 Forbidden")


def test_basic_proxy_without_credentials_says_none_were_sent(fleet: dict[str, t.Any]) -> None:
    message = _failure(fleet, "basic_without")
    assert _lines(message)["ssm"] == ("proxy auth required: " + REFUSED.format(host="ssm", words="407 Proxy Authentication Required")
                                      + ": it asks for Basic credentials and none were sent")
    assert "To do: set ssm_proxy_username and ssm_proxy_password (the proxy asks for Basic credentials)." in message


def test_negotiate_only_proxy_fails_because_the_agent_sends_only_basic(fleet: dict[str, t.Any]) -> None:
    message = _failure(fleet, "negotiate")
    assert _lines(message)["ssm"].endswith(
        "with 407 Proxy Authentication Required: it offers only Negotiate, NTLM and the SSM Agent can authenticate to a proxy "
        "only with Basic (no credentials were sent)")
    assert "as ssm_proxy_username=svc-ssm (Basic only, as the agent)" in message
    assert "let the proxy accept Basic for ssm_proxy_username" in message


def test_tls_interception_is_named(fleet: dict[str, t.Any]) -> None:
    line = _lines(_failure(fleet, "intercept"))["ssm"]
    assert line.startswith("tls untrusted: the certificate presented for ssm.eu-west-1.amazonaws.com:443 is not trusted by this host")
    assert "TLS-intercepting proxy" in line and "exempt *.amazonaws.com from TLS inspection" in _failure(fleet, "intercept")


def test_silent_proxy_times_out(fleet: dict[str, t.Any]) -> None:
    message = _failure(fleet, "timeout")
    assert _lines(message)["ssm"] == "timeout: no answer within 4 s (Timeout)"
    assert "check ssm_proxy_url (host and port)" in message


def test_a_time_limit_beyond_an_hour_is_refused_naming_the_variable(fleet: dict[str, t.Any]) -> None:
    message = _failure(fleet, "timeout_too_long")
    assert "ssm_proxy_preflight_timeout must be at most 3600 seconds (got 5000)" in message
    assert not [call for call in fleet["calls"]["timeout_too_long"] if "preflight" in str(call["args"].get("script"))]


@pytest.mark.parametrize("host", sorted(set(HOSTS) - PASSING))
def test_every_refused_host_is_unchanged(fleet: dict[str, t.Any], host: str) -> None:
    assert fleet["after"][host] == fleet["before"][host]  # registry, services, the agent log: byte for byte
    assert "Environment" not in fleet["after"][host]["registry"].get(SERVICE_KEY, {})
    message = _failure(fleet, host)
    assert "Nothing was changed." in message and "Exception" not in message and "CategoryInfo" not in message


def test_s3_is_a_warning_by_default_and_blocks_when_required(fleet: dict[str, t.Any]) -> None:
    # An Ansible warning of the Apply step (the callback wraps it: compared without line breaks).
    shown = " ".join((fleet["process"].stdout + fleet["process"].stderr).split())
    assert shown.count("[WARNING]: Pre-flight passed with warnings, from the host through http://proxy.example.com:3128,") == 1, shown
    assert ("s3 https://s3.eu-west-1.amazonaws.com/ (warning only): connect refused: "
            + REFUSED.format(host="s3", words="403 Forbidden") + ". The settings were written: s3 is not required") in shown, shown
    assert fleet["after"]["s3_warned"]["agent"]["registered"] is True  # S3 is not what registration needs
    message = _failure(fleet, "s3_required")
    assert _lines(message)["s3"].startswith("connect refused") and _lines(message)["ssm"].startswith("reachable")
    assert "(warning only)" not in message


def test_basic_proxy_with_credentials_is_configured(fleet: dict[str, t.Any]) -> None:
    assert not _failures(fleet, "basic_with")
    after = fleet["after"]["basic_with"]
    assert after["agent"]["running"]["https_proxy"] == f"http://svc-ssm:{PASSWORD}@proxy.example.com:3128"
    assert after["agent"]["registered"] is True and " ERROR " not in after["files"][AGENT_LOG]


def test_without_preflight_the_agent_starts_and_cannot_register(fleet: dict[str, t.Any]) -> None:
    """The cut-off instance pre-flight exists to prevent: the agent runs, logs its settings, then its refusals."""
    assert not _failures(fleet, "negotiate_unchecked")
    after = fleet["after"]["negotiate_unchecked"]
    assert after["services"]["AmazonSSMAgent"]["state"] == "running" and after["agent"]["registered"] is False
    assert 'Post "https://ssm.eu-west-1.amazonaws.com/": Proxy Authentication Required' in after["files"][AGENT_LOG]


def test_no_password_in_the_output(fleet: dict[str, t.Any]) -> None:
    assert PASSWORD not in fleet["process"].stdout and PASSWORD not in fleet["process"].stderr


def _failures(fleet: dict[str, t.Any], host: str) -> list[str]:
    return [name for name, result in fleet["results"][host].items() if result["failed"]]
