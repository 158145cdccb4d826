# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile values reach the registry and PowerShell as data, never as code.

The scripts under plugins/plugin_utils/powershell/ take every value through their ``param()`` block and
never evaluate text; the modules send each script exactly as it is in the collection (the calls record
holds its digest) and hostile values only in ``parameters`` / ``sensitive_parameters`` or win_regedit's
``data``, where they arrive unchanged.
"""

from __future__ import annotations

import copy
import hashlib
import json
import pathlib
import re
import urllib.parse

import pytest

from .conftest import ROOT, load_state, output

SCRIPTS = sorted((ROOT / "plugins" / "plugin_utils" / "powershell").glob("*.ps1"))
SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"
LOCALSYSTEM_SETTINGS = "HKU:\\S-1-5-18\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings"
# Quotes of both kinds, a subexpression, backticks, a statement separator, a newline, a pipe, a variable, 4 KiB long.
HOSTILE = "'; Remove-Item -Recurse C:\\ # \" $(Stop-Computer) `whoami` & calc.exe | $env:PATH\n" + "x;\"'`$()" * 500
HOSTILE_USER = "svc'`$(whoami)\";ssm"
# What WinINet accepts in a PAC URL: no blanks or controls, anything else verbatim.
HOSTILE_PAC = "http://wpad.example.com/proxy.pac?a='$(Stop-Computer)'&b=\"`whoami`\";c=$env:PATH"
FOREIGN_LINE = "LEGACY=\"$(Stop-Computer)\";`whoami`; & 'calc.exe'"
# Ways a script could turn text into code.
# ($ExecutionContext.SessionState.LanguageMode is only read; its InvokeCommand member is what evaluates text.)
EVALUATION = re.compile(r"Invoke-Expression|\biex\b|\[scriptblock\]::Create|\.InvokeScript\(|\$ExecutionContext\.InvokeCommand|Add-Type|&\s*\$",
                        re.I)


def script_digest(path: pathlib.Path) -> str:
    """The digest the simulated win_powershell records for a script sent exactly as the file holds it."""
    return hashlib.sha256(path.read_text(encoding="utf-8").encode("utf-8")).hexdigest()[:8]


@pytest.mark.parametrize("script", SCRIPTS, ids=[path.stem for path in SCRIPTS])
def test_scripts_take_values_only_through_param(script: pathlib.Path) -> None:
    text = script.read_text(encoding="utf-8")
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert re.search(r"^param\s*\(", code, re.M | re.I), f"{script.name} has no top-level param() block"
    assert not EVALUATION.search(code), f"{script.name} evaluates text: {EVALUATION.search(code).group(0)!r}"
    assert "$args" not in code.lower(), f"{script.name} reads $args instead of declared parameters"
    # A command line built for another process may interpolate only [int] parameters and literal constants.
    typed_ints = set(re.findall(r"\[int\]\$(\w+)", code, re.I))
    constants = set(re.findall(r"^\$(\w+)\s*=\s*'[^']*'\s*$", code, re.M))
    for line in code.splitlines():
        if "-Command" in line and '"' in line:
            # $powershell is Join-Path of $env:SystemRoot and a literal; $command is checked below.
            spliced = set(re.findall(r"\$(\w+)", line.partition("=")[2])) - {"powershell", "command"}
            assert spliced <= typed_ints | constants, f"{script.name} splices {spliced - typed_ints - constants} into a command line"
    for line in code.splitlines():
        if re.match(r"\s*\$command\s*=", line):
            spliced = set(re.findall(r"\$(\w+)", line.partition("=")[2]))
            assert spliced <= typed_ints | constants, f"{script.name} builds $command from {spliced - typed_ints - constants}"
        if "-EncodedCommand" in line:
            # An encoded script is base64 of UTF-16LE text: nothing in it can break out of the command line.
            spliced = set(re.findall(r"\$(\w+)", line.partition("=")[2])) - {"powershell", "encoded"}
            assert not spliced, f"{script.name} splices {spliced} next to an encoded command"
        if ".Replace('__" in line:
            # Placeholders of a script run by another process take only [int] parameters and validated strings.
            spliced = set(re.findall(r"\$(\w+)", line.partition("=")[2])) - {"detached"}
            validated = set(re.findall(r"if \(\$(\w+) -notmatch '\^\[[^']*\]\{1,\d+\}\$'\)", code))
            assert spliced <= typed_ints | validated, f"{script.name} fills a script with unvalidated {spliced - typed_ints - validated}"


@pytest.mark.integration
def test_hostile_values_arrive_unchanged_as_data(sim_fleet, tmp_path: pathlib.Path) -> None:
    state = copy.deepcopy(load_state("server2022"))
    state["registry"][SERVICE_KEY]["Environment"] = {"type": "REG_MULTI_SZ", "value": [FOREIGN_LINE]}
    fleet = sim_fleet({"modules": state, "role": state})
    plays = [
        {"name": "modules", "hosts": "modules", "gather_facts": False, "tasks": [
            {"ssm.proxy.ssm_agent_proxy": {"proxy": "http://proxy.example.com:3128", "proxy_username": HOSTILE_USER,
                                           "proxy_password": HOSTILE, "backup": True}},
            {"ssm.proxy.wininet_proxy": {"auto_config_url": HOSTILE_PAC}},
            {"ssm.proxy.ssm_agent_proxy_info": None},
        ]},
        {"name": "role", "hosts": "role", "gather_facts": False, "roles": [{"role": "ssm.proxy.agent_proxy", "vars": {
            "ssm_proxy_url": "http://proxy.example.com:3128", "ssm_proxy_username": HOSTILE_USER, "ssm_proxy_password": HOSTILE,
            "ssm_proxy_components": ["agent"], "ssm_proxy_verify_delay": 0}}]},
    ]
    playbook = tmp_path / "hostile.yml"
    playbook.write_text(json.dumps(plays), encoding="utf-8")
    result = fleet.run(playbook)
    assert result.returncode == 0, output(result)

    # The registry holds the values exactly: percent-encoded credentials in the URL, the foreign line and the PAC URL verbatim.
    url = f"http://{urllib.parse.quote(HOSTILE_USER, safe='')}:{urllib.parse.quote(HOSTILE, safe='')}@proxy.example.com:3128"
    for host in fleet.hosts:
        environment = fleet.registry_value(host, SERVICE_KEY, "Environment")
        assert environment[0] == FOREIGN_LINE
        assert f"https_proxy={url}" in environment and f"http_proxy={url}" in environment
    assert fleet.registry_value("modules", LOCALSYSTEM_SETTINGS, "AutoConfigURL") == HOSTILE_PAC

    digests = {path.stem: script_digest(path) for path in SCRIPTS}
    sent = []
    for host in fleet.hosts:
        for call in fleet.calls(host):
            if not call["module"].endswith("win_powershell"):
                continue
            label = call["args"]["script"]
            name, digest = re.fullmatch(r"<script: (\S+) sha256:([0-9a-f]{8})>", label).groups()
            # The file itself, byte for byte (read by the module or by win_powershell's `path`): nothing spliced in.
            assert digest == digests[name], (host, label)
            sent.append((host, name, call["args"]))
    preflight = [args for host, name, args in sent if name == "preflight"]
    assert preflight, sent
    # The credential went as a PSCredential: the user name as given, the password redacted by the calls record.
    assert preflight[0]["sensitive_parameters"] == [{"name": "ProxyCredential", "username": HOSTILE_USER, "password": "********"}]
    assert {name for _host, name, _args in sent} <= set(digests)
