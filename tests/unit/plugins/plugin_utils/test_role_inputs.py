# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent_proxy role's variables checked as a whole, and misspelt variables named."""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

from ansible_collections.ssm.proxy.plugins.plugin_utils._role_inputs import desired_settings, input_problems, proxy_url, unknown_variables

ROLE = pathlib.Path(__file__).resolve().parents[4] / "roles" / "agent_proxy"
GOOD = {
    "ssm_proxy_state": "present", "ssm_proxy_url": "http://proxy.example.com:3128", "ssm_proxy_username": "",
    "ssm_proxy_password": "", "ssm_proxy_components": ["agent", "wininet", "winhttp"], "ssm_proxy_preflight": True,
    "ssm_proxy_preflight_timeout": 10, "ssm_proxy_region": "", "ssm_proxy_preflight_services": ["ssm", "ec2messages"],
}


def known() -> list[str]:
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return list(spec["argument_specs"]["main"]["options"])


def test_consistent_variables_have_no_problem() -> None:
    assert input_problems(GOOD) == []
    assert input_problems({**GOOD, "ssm_proxy_username": "svc-ssm", "ssm_proxy_password": "Hunter2Secret"}) == []
    assert input_problems({**GOOD, "ssm_proxy_preflight_timeout": 3600}) == []  # the longest preflight.ps1 takes
    assert input_problems({**GOOD, "ssm_proxy_state": "absent", "ssm_proxy_url": "", "ssm_proxy_username": "svc"}) == []


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"ssm_proxy_url": ""}, ["needs ssm_proxy_url (e.g. http://proxy.example.com:3128)", "ssm_proxy_state=absent"]),
        ({"ssm_proxy_username": "svc-ssm"}, ["ssm_proxy_username 'svc-ssm'", "set ssm_proxy_password"]),
        ({"ssm_proxy_password": "Hunter2Secret"}, ["set ssm_proxy_username whenever ssm_proxy_password is set"]),
        ({"ssm_proxy_url": "http://svc:Hunter2Secret@proxy:3128"}, ["ssm_proxy_url carries user:password@", "ssm_proxy_username"]),
        ({"ssm_proxy_components": []}, ["at least one of agent, wininet, winhttp in ssm_proxy_components"]),
        ({"ssm_proxy_preflight_timeout": 0}, ["ssm_proxy_preflight_timeout must be at least 1 (got 0)"]),
        ({"ssm_proxy_preflight_timeout": 3601}, ["ssm_proxy_preflight_timeout must be at most 3600 seconds (got 3601)"]),
        ({"ssm_proxy_region": "eu west 1"}, ["ssm_proxy_region", "'eu west 1'", "eu-west-1"]),
        ({"ssm_proxy_preflight_services": ["ssm", "ssm.evil"]}, ["ssm_proxy_preflight_services", "'ssm.evil'"]),
    ],
)
def test_each_mistake_names_its_variable(changes, fragments) -> None:
    problems = input_problems({**GOOD, **changes})
    assert len(problems) == 1, problems
    for fragment in fragments:
        assert fragment in problems[0]
    assert "Hunter2Secret" not in problems[0] and "********" not in problems[0]


def test_every_mistake_is_reported_at_once() -> None:
    problems = input_problems({**GOOD, "ssm_proxy_url": "", "ssm_proxy_password": "x", "ssm_proxy_region": "EU"})
    assert [problem.split(" ", 1)[0] for problem in problems] == ["ssm.proxy.agent_proxy", "ssm_proxy_password", "ssm_proxy_region"]


def test_preflight_variables_matter_only_when_it_runs() -> None:
    assert input_problems({**GOOD, "ssm_proxy_preflight": False, "ssm_proxy_preflight_timeout": 0}) == []


@pytest.mark.parametrize(
    ("name", "closest"),
    [("ssm_proxy_noproxy", "ssm_proxy_no_proxy"), ("ssm_proxy_componets", "ssm_proxy_components"),
     ("ssm_proxy_pre_flight", "ssm_proxy_preflight"), ("ssm_proxy_user", "ssm_proxy_username"),
     ("ssm_proxy_verify_retry", "ssm_proxy_verify_retries")],
)
def test_a_misspelt_variable_is_named_with_the_closest_known_one(name, closest) -> None:
    (warning,) = unknown_variables([name, "ssm_proxy_url"], known())
    assert warning.startswith(f"{name} is not a variable of ssm.proxy.agent_proxy and is ignored; did you mean {closest}?")


def test_unrelated_names_point_to_the_documentation() -> None:
    (warning,) = unknown_variables(["ssm_proxy_zzz"], known())
    assert "ansible-doc -t role ssm.proxy.agent_proxy" in warning


def test_names_the_collection_sets_itself_are_not_warned_about() -> None:
    """Every ssm_proxy_* result a role task or playbook registers is in the role's ignore list (vars/main.yml)."""
    role_vars = yaml.safe_load((ROLE / "vars" / "main.yml").read_text(encoding="utf-8"))
    ignored = role_vars["__ssm_proxy_set_by_collection"]
    sources = [*(ROLE / "tasks").glob("*.yml"), *(ROLE / "handlers").glob("*.yml"), *(ROLE.parents[1] / "playbooks").glob("*.yml")]
    registered = {name for path in sources for name in re.findall(r"register: (ssm_proxy_\w+)", path.read_text(encoding="utf-8"))}
    assert registered and registered <= set(ignored), registered - set(ignored)
    assert unknown_variables(ignored, known(), ignored) == []


# --- desired_settings: what the role asks each settings module for (the Jinja it replaced, line for line) ----------

ROLE_DEFAULTS = {"ssm_proxy_state": "present", "ssm_proxy_url": "http://proxy.corp:3128", "ssm_proxy_username": "",
                 "ssm_proxy_password": "", "ssm_proxy_no_proxy": [".corp.example.com"], "ssm_proxy_windows_bypass": None,
                 "ssm_proxy_imds_bypass": True, "ssm_proxy_components": ["agent", "wininet", "winhttp"],
                 "ssm_proxy_wininet_scope": ["local_system"], "ssm_proxy_winhttp_views": ["native", "wow64"]}


def fake_bypass(entries: list[str]) -> list[str]:
    return ["*" + entry if entry.startswith(".") else entry for entry in entries]


@pytest.mark.parametrize(("url", "full"), [("proxy:3128", "http://proxy:3128"), ("//proxy:3128", "http://proxy:3128"),
                                           ("https://proxy:3128", "https://proxy:3128"), ("", ""), (":3128", ":3128")])
def test_the_url_gets_the_scheme_the_agent_assumes(url: str, full: str) -> None:
    assert proxy_url(url) == full


def test_present_asks_every_module_for_the_proxy_and_windows_for_no_credentials() -> None:
    desired = desired_settings({**ROLE_DEFAULTS, "ssm_proxy_url": "proxy.corp:3128", "ssm_proxy_username": "svc",
                                "ssm_proxy_password": "pw", "ssm_proxy_imds_bypass": "false"}, fake_bypass)
    assert desired["ssm_agent_proxy"] == {"proxy": "http://proxy.corp:3128", "no_proxy": [".corp.example.com"], "imds_bypass": False,
                                          "proxy_username": "svc", "proxy_password": "pw"}
    windows = {"proxy": {"http": "http://proxy.corp:3128", "https": "http://proxy.corp:3128"}, "bypass": ["*.corp.example.com"],
               "imds_bypass": False, "agent_warnings": False}
    assert desired["wininet_proxy"] == {**windows, "auto_detect": False, "scope": ["local_system"]}
    assert desired["winhttp_proxy"] == {**windows, "views": ["native", "wow64"]}


def test_a_given_windows_bypass_wins_and_components_left_out_are_none() -> None:
    desired = desired_settings({**ROLE_DEFAULTS, "ssm_proxy_windows_bypass": ["10.*"], "ssm_proxy_components": ["winhttp"]},
                               lambda entries: pytest.fail("not translated when given"))
    assert desired["ssm_agent_proxy"] is None and desired["wininet_proxy"] is None
    assert desired["winhttp_proxy"]["bypass"] == ["10.*"] and desired["winhttp_proxy"]["agent_warnings"] is True


def test_absent_removes_and_keeps_the_scope_and_views() -> None:
    desired = desired_settings({**ROLE_DEFAULTS, "ssm_proxy_state": "absent", "ssm_proxy_url": ""}, fake_bypass)
    assert desired == {"ssm_agent_proxy": {"state": "absent"}, "wininet_proxy": {"state": "absent", "scope": ["local_system"]},
                       "winhttp_proxy": {"state": "absent", "views": ["native", "wow64"]}}
