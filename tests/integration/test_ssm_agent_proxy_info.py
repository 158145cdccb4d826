# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ssm_agent_proxy_info on simulated hosts, one host per scenario of the agent's proxy algorithm.

Each scenario is written to a host's registry the way Windows stores it (blobs through the codecs), then
one playbook run checks on every host that the module, the effective_agent_proxy filter and the expected
values agree, restarts the agent, and checks that the simulated agent (an independent implementation of
the same spec) logged exactly what the module predicted.
"""

from __future__ import annotations

import copy
import json
import pathlib

import pytest

from ansible_collections.ssm.proxy.plugins.plugin_utils._blobs import (
    WinHttpProxySettings,
    WinInetConnectionSettings,
    blob_to_hex,
    encode_winhttp_settings,
    encode_wininet_settings,
)

from .conftest import load_state, output

pytestmark = pytest.mark.integration

SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"
SYSTEM_ENV = "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment"
LOCALSYSTEM_ENV = "HKU:\\S-1-5-18\\Environment"
IE_KEY = "HKU:\\S-1-5-18\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections"
WINHTTP_KEY = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections"
P = "http://proxy:3128"

# id: (sources as the filter takes them, expected effective (http, https, no_proxy), expected (proxy source, bypass source))
SCENARIOS = {
    "nothing": ({}, ("", "", ""), ("none", "none")),
    "service": ({"service_registry": [f"http_proxy={P}", f"https_proxy={P}", "no_proxy=169.254.169.254"]}, (P, P, "169.254.169.254"),
                ("service_registry", "service_registry")),
    "service_upper_case": ({"service_registry": [f"HTTPS_PROXY={P}"]}, ("", P, ""), ("service_registry", "none")),
    "system_env": ({"system_environment": {"https_proxy": P}}, ("", P, ""), ("system_environment", "none")),
    "localsystem_env": ({"localsystem_environment": {"http_proxy": P}}, (P, "", ""), ("localsystem_environment", "none")),
    "service_over_system": ({"service_registry": [f"https_proxy={P}"], "system_environment": {"https_proxy": "http://sys:1"}},
                            ("", P, ""), ("service_registry", "none")),
    "ie_bare": ({"wininet": {"proxy_enabled": True, "proxy": "ie:8080"}}, ("http://ie:8080", "", ""), ("wininet", "none")),
    "ie_per_scheme": ({"wininet": {"proxy_enabled": True, "proxy": "http=a:1;https=b:2"}}, ("http://a:1", "http://b:2", ""), ("wininet", "none")),
    "ie_https_and_bare": ({"wininet": {"proxy_enabled": True, "proxy": "https=b:2;c:3"}}, ("http://c:3", "http://b:2", ""), ("wininet", "none")),
    "ie_ftp_socks_dropped": ({"wininet": {"proxy_enabled": True, "proxy": "ftp=f:21;socks=s:1080"}}, ("", "", ""), ("none", "none")),
    "ie_comma_not_separator": ({"wininet": {"proxy_enabled": True, "proxy": "a:1,b:2"}}, ("http://a:1,b:2", "", ""), ("wininet", "none")),
    "ie_whitespace_splits": ({"wininet": {"proxy_enabled": True, "proxy": "http=a:1 https=b:2"}}, ("http://a:1", "http://b:2", ""),
                             ("wininet", "none")),
    "ie_bypass_local_dropped": ({"wininet": {"proxy_enabled": True, "proxy": "ie:1", "bypass": "<local>;*.corp;10.*"}},
                                ("http://ie:1", "", "*.corp,10.*"), ("wininet", "wininet")),
    "ie_flag_clear_strings_kept": ({"wininet": {"proxy_enabled": False, "proxy": "ie:1", "bypass": "x"},
                                    "winhttp": {"proxy": "wh:3128", "bypass": "169.254.169.254"}},
                                   ("http://wh:3128", "", "169.254.169.254"), ("winhttp", "winhttp")),
    "ie_over_winhttp": ({"wininet": {"proxy_enabled": True, "proxy": "ie:1"}, "winhttp": {"proxy": "wh:1", "bypass": "a"}},
                        ("http://ie:1", "", ""), ("wininet", "none")),
    "ie_auto_detect_only": ({"wininet": {"proxy_enabled": False, "auto_detect": True}, "winhttp": {"proxy": "wh:1"}},
                            ("http://wh:1", "", ""), ("winhttp", "none")),
    "ie_pac_only": ({"wininet": {"proxy_enabled": False, "auto_config_url_enabled": True, "auto_config_url": "http://wpad/p.pac"}},
                    ("", "", ""), ("none", "none")),
    "winhttp_bare": ({"winhttp": {"proxy": "wh:3128"}}, ("http://wh:3128", "", ""), ("winhttp", "none")),
    "winhttp_per_scheme": ({"winhttp": {"proxy": "http=wh:1;https=wh:2", "bypass": "<local>;169.254.169.254"}},
                           ("http://wh:1", "http://wh:2", "169.254.169.254"), ("winhttp", "winhttp")),
    "env_proxy_silences_ie_keeps_bypass": ({"service_registry": [f"https_proxy={P}"],
                                            "wininet": {"proxy_enabled": True, "proxy": "ie:1", "bypass": "*.corp"}},
                                           ("", P, "*.corp"), ("service_registry", "wininet")),
    "env_no_proxy_with_winhttp_proxy": ({"service_registry": ["no_proxy=n.corp"], "winhttp": {"proxy": "wh:1", "bypass": "x"}},
                                        ("http://wh:1", "", "n.corp"), ("winhttp", "service_registry")),
    "env_http_only_silences_winhttp_https": ({"system_environment": {"http_proxy": P}, "winhttp": {"proxy": "https=x:1"}},
                                             (P, "", ""), ("system_environment", "none")),
    "localsystem_over_system": ({"system_environment": {"https_proxy": "http://s:1"}, "localsystem_environment": {"https_proxy": "http://l:1"}},
                                ("", "http://l:1", ""), ("localsystem_environment", "none")),
    "ie_invalid_value_skipped": ({"wininet": {"proxy_enabled": True, "proxy": "http=<local>;https=b:2"}}, ("", "http://b:2", ""),
                                 ("wininet", "none")),
    "winhttp_bypass_without_proxy": ({"winhttp": {"proxy": "", "bypass": "x.corp"}}, ("", "", ""), ("none", "none")),
    "credentials_percent": ({"service_registry": ["https_proxy=http://u:p%40ss@proxy:3128", "no_proxy=169.254.169.254"]},
                            ("", "http://u:********@proxy:3128", "169.254.169.254"), ("service_registry", "service_registry")),
}

PLAYBOOK = [{
    "name": "Scenarios of the agent's proxy algorithm",
    "hosts": "windows",
    "gather_facts": False,
    "tasks": [
        {"name": "Read the agent's proxy", "ssm.proxy.ssm_agent_proxy_info": None, "register": "info"},
        {"name": "Module, filter and expectation agree", "vars": {"filtered": "{{ scenario_sources | ssm.proxy.effective_agent_proxy }}"},
         "ansible.builtin.assert": {"that": [
             "info.effective == filtered.effective",
             "info.effective_source == filtered.effective_source",
             # The module reads the log too: an empty one says that what the running agent uses is unknown; and the
             # host's ACLs (credentials_readable), which the filter has not.
             "info.findings | map(attribute='code') | reject('in', ['agent_running_unknown', 'credentials_readable']) | sort"
             " == filtered.findings | map(attribute='code') | sort",
             "[info.effective.http_proxy, info.effective.https_proxy, info.effective.no_proxy] == scenario_expected",
             "[info.effective_source.proxy, info.effective_source.bypass] == scenario_origin",
         ]}},
        {"name": "Restart the simulated agent", "ansible.windows.win_service": {"name": "AmazonSSMAgent", "state": "restarted"}},
        {"name": "Read again after the restart", "ssm.proxy.ssm_agent_proxy_info": None, "register": "after"},
        {"name": "The agent logged exactly what the module predicted", "ansible.builtin.assert": {"that": [
            "after.restart_pending == false",
            "after.running.https_proxy == after.effective.https_proxy",
            "after.running.http_proxy == after.effective.http_proxy",
            "after.running.no_proxy == after.effective.no_proxy",
        ]}},
    ],
}]


def scenario_state(sources: dict) -> dict:
    """A Windows Server 2022 host whose registry holds ``sources`` as Windows stores them."""
    state = copy.deepcopy(load_state("server2022"))
    registry = state["registry"]
    if "service_registry" in sources:
        registry[SERVICE_KEY]["Environment"] = {"type": "REG_MULTI_SZ", "value": sources["service_registry"]}
    for key, name in ((SYSTEM_ENV, "system_environment"), (LOCALSYSTEM_ENV, "localsystem_environment")):
        for variable, value in sources.get(name, {}).items():
            registry[key][variable] = {"type": "REG_SZ", "value": value}
    if "wininet" in sources:
        wininet = sources["wininet"]
        settings = WinInetConnectionSettings().with_settings(
            proxy=wininet.get("proxy", ""), bypass=wininet.get("bypass", ""), auto_config_url=wininet.get("auto_config_url", ""),
            manual_proxy=wininet.get("proxy_enabled", False), auto_config=wininet.get("auto_config_url_enabled", False),
            auto_detect=wininet.get("auto_detect", False))
        registry[IE_KEY]["DefaultConnectionSettings"] = {"type": "REG_BINARY", "value": blob_to_hex(encode_wininet_settings(settings))}
    if "winhttp" in sources:
        proxy, bypass = sources["winhttp"].get("proxy", ""), sources["winhttp"].get("bypass", "")
        settings = WinHttpProxySettings.named_proxy(proxy, bypass) if proxy else WinHttpProxySettings.direct()
        registry[WINHTTP_KEY]["WinHttpSettings"] = {"type": "REG_BINARY", "value": blob_to_hex(encode_winhttp_settings(settings))}
    return state


def test_scenarios_module_filter_and_simulated_agent_agree(sim_fleet, tmp_path: pathlib.Path) -> None:
    assert len(SCENARIOS) >= 25
    fleet = sim_fleet({name: scenario_state(sources) for name, (sources, _expected, _origin) in SCENARIOS.items()})
    inventory = json.loads((fleet.directory / "inventory.yml").read_text())
    for name, (sources, expected, origin) in SCENARIOS.items():
        inventory["windows"]["hosts"][name].update(scenario_sources=sources, scenario_expected=list(expected), scenario_origin=list(origin))
    (fleet.directory / "inventory.yml").write_text(json.dumps(inventory))
    playbook = tmp_path / "scenarios.yml"
    playbook.write_text(json.dumps(PLAYBOOK))
    result = fleet.run(playbook, "--forks", "10")
    assert result.returncode == 0, output(result)
    assert result.stdout.count("failed=0") == len(SCENARIOS), output(result)
    for name in SCENARIOS:
        modules = [call["module"] for call in fleet.calls(name)]
        assert modules.count("ansible.windows.win_powershell") == 2, (name, modules)  # one read per info run
