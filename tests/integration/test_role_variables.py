# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role variables as operators pass them: `-e key=value`, AWX extra vars and survey text arrive as strings.

ansible-core's argument-spec validation (meta/argument_specs.yml) checks that "false" or "10" converts, but hands the
role the string; ansible-core 2.19+ refuses a string as a conditional, and a non-empty string is true. Each boolean
and integer variable is passed here as a string on the command line, and its effect on the host is checked.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import typing as t

import pytest

from .conftest import ROOT, SimFleet, load_state, output

pytestmark = pytest.mark.integration

CONFIGURE = ROOT / "playbooks" / "configure.yml"
SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"
READ = "<script: read_state "
PREFLIGHT = "<script: preflight "
# Lines of roles/agent_proxy/tasks/main.yml's block, verify.yml and rollback.yml still read the public names; the
# internal __ssm_proxy_* (vars/main.yml) they must read instead are there. Strict: this fails once they do.


def script_calls(fleet: SimFleet, host: str, prefix: str) -> list[dict[str, t.Any]]:
    return [call for call in fleet.calls(host) if str(call["args"].get("script", "")).startswith(prefix)]


def agent_environment(fleet: SimFleet, host: str) -> list[str]:
    return fleet.registry_value(host, SERVICE_KEY, "Environment") or []


def touched_backup(fleet: SimFleet, host: str) -> bool:
    """A backup written (it stays on the host without the clean-up), or a clean-up run (a second write_values)."""
    backups = {path.lower(): values for path, values in fleet.state(host)["registry"].items()}.get("hklm:\\software\\ssm.proxy\\backup")
    return bool(backups) or len(script_calls(fleet, host, "<script: write_values ")) != 1


def reads_after_restart(fleet: SimFleet, host: str) -> int:
    """read_state executions after the agent restart, up to the rollback's first look at the backup (win_reg_stat)."""
    calls = fleet.calls(host)
    start = next(i for i, call in enumerate(calls) if call["module"].endswith("win_service"))
    end = next((i for i, call in enumerate(calls) if i > start and call["module"].endswith("win_reg_stat")), len(calls))
    return sum(1 for call in calls[start:end] if str(call["args"].get("script", "")).startswith(READ))


@dataclasses.dataclass
class Case:
    extra: list[str]
    check: t.Callable[[SimFleet, str], None]
    faults: dict[str, t.Any] | None = None
    succeeds: bool = True


def no_preflight(fleet: SimFleet, host: str) -> None:
    assert script_calls(fleet, host, PREFLIGHT) == []
    assert "https_proxy=http://proxy.example.com:3128" in agent_environment(fleet, host)


def preflight_ran(fleet: SimFleet, host: str) -> None:
    assert len(script_calls(fleet, host, PREFLIGHT)) == 1


def no_verify(fleet: SimFleet, host: str) -> None:
    # No look at the agent's log after the restart (each settings module reads its own values before it).
    assert reads_after_restart(fleet, host) == 0


def no_backup(fleet: SimFleet, host: str) -> None:
    assert not touched_backup(fleet, host)


def imds_not_bypassed(fleet: SimFleet, host: str) -> None:
    no_proxy = [line for line in agent_environment(fleet, host) if line.startswith("no_proxy=")]
    assert no_proxy == [] or "169.254.169.254" not in no_proxy[0], no_proxy


def timeout_sent_as_int(fleet: SimFleet, host: str) -> None:
    (call,) = script_calls(fleet, host, PREFLIGHT)
    assert call["args"]["parameters"]["TimeoutSeconds"] == 7


def three_looks(fleet: SimFleet, host: str) -> None:
    assert reads_after_restart(fleet, host) == 3


def detached_restart(fleet: SimFleet, host: str) -> None:
    assert script_calls(fleet, host, "<script: restart_agent "), "the agent was not restarted detached"


CASES = {
    "preflight_false": pytest.param(Case(["-e", "ssm_proxy_preflight=false"], no_preflight)),
    "preflight_true_survey_text": pytest.param(Case(["-e", '{"ssm_proxy_preflight": "true"}'], preflight_ran)),
    "verify_no": pytest.param(Case(["-e", "ssm_proxy_verify=no"], no_verify)),
    "rollback_false": pytest.param(Case(["-e", "ssm_proxy_rollback=false"], no_backup)),
    "imds_bypass_false": Case(["-e", "ssm_proxy_imds_bypass=false"], imds_not_bypassed),
    "preflight_timeout_7": Case(["-e", "ssm_proxy_preflight_timeout=7"], timeout_sent_as_int),
    "verify_retries_2_delay_0": Case(["-e", "ssm_proxy_verify_retries=2", "-e", "ssm_proxy_verify_delay=0"], three_looks,
                                     faults={"agent_log": "not_written"}, succeeds=False),
    "restart_timeout_60": Case(["-e", "ssm_proxy_restart_timeout=60", "-e", "ssm_proxy_restart_method=detached"], detached_restart),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_string_value_takes_effect(sim_fleet, case: Case) -> None:
    state = copy.deepcopy(load_state("server2022"))
    if case.faults:
        state["faults"] = case.faults
    fleet = sim_fleet({"win": state})
    result = fleet.run(CONFIGURE, "-e", "ssm_proxy_url=http://proxy.example.com:3128", *case.extra)
    assert "derived from value of type 'str'" not in result.stdout + result.stderr, output(result)
    assert (result.returncode == 0) == case.succeeds, output(result)
    case.check(fleet, "win")


def test_string_values_from_a_json_file_are_checked_like_typed_ones(sim_fleet, tmp_path) -> None:
    """A survey answer that is no boolean is refused by the argument spec, naming the variable, before any read."""
    fleet = sim_fleet({"win": "server2022"})
    extra = tmp_path / "survey.json"
    extra.write_text(json.dumps({"ssm_proxy_url": "http://proxy.example.com:3128", "ssm_proxy_preflight": "perhaps"}))
    result = fleet.run(CONFIGURE, "-e", f"@{extra}")
    assert result.returncode != 0
    assert "ssm_proxy_preflight" in result.stdout, output(result)
    assert fleet.calls("win") == []


def test_a_misspelt_variable_is_warned_about_once(sim_fleet) -> None:
    fleet = sim_fleet({"win": "server2022"})
    before = fleet.host_state("win")
    result = fleet.run(CONFIGURE, "--check", "-e", '{"ssm_proxy_url": "http://proxy.example.com:3128", "ssm_proxy_noproxy": ["corp.example.com"]}')
    assert result.returncode == 0, output(result)
    warning = "ssm_proxy_noproxy is not a variable of ssm.proxy.agent_proxy and is ignored; did you mean ssm_proxy_no_proxy?"
    assert (result.stdout + result.stderr).count(warning) == 1, output(result)
    assert fleet.host_state("win") == before


def test_a_mistake_across_variables_fails_before_the_host_is_read_and_still_warns(sim_fleet) -> None:
    fleet = sim_fleet({"win": "server2022"})
    variables = {"ssm_proxy_url": "http://proxy.example.com:3128", "ssm_proxy_username": "svc-ssm", "ssm_proxy_noproxy": ["corp.example.com"]}
    result = fleet.run(CONFIGURE, "-e", json.dumps(variables))
    assert result.returncode != 0, output(result)
    assert "ssm_proxy_noproxy is not a variable of ssm.proxy.agent_proxy" in result.stdout + result.stderr, output(result)
    failures = [line for line in result.stdout.splitlines() if line.startswith(("fatal:", "failed:"))]
    assert len(failures) == 1 and "ssm_proxy_username 'svc-ssm' is set but ssm_proxy_password is empty" in failures[0], output(result)
    assert failures[0].rstrip().endswith('Nothing was changed."}'), output(result)
    assert fleet.calls("win") == []  # not even read


def test_a_url_without_scheme_is_completed_before_the_preflight(sim_fleet) -> None:
    """The agent reads proxy.example.com:3128 as http:// (Go ParseProxySettings); so do the modules and the pre-flight."""
    fleet = sim_fleet({"win": "server2022"})
    result = fleet.run(CONFIGURE, "-e", "ssm_proxy_url=proxy.example.com:3128")
    assert result.returncode == 0, output(result)
    (preflight,) = script_calls(fleet, "win", PREFLIGHT)
    assert preflight["args"]["parameters"]["Proxy"] == "http://proxy.example.com:3128"
    assert "https_proxy=http://proxy.example.com:3128" in agent_environment(fleet, "win")
