# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EC2 user data for the agent's proxy: the same values as ssm_agent_proxy, data-only quoting, PowerShell syntax."""

from __future__ import annotations

import re

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.ssm.proxy.plugins.action.ssm_agent_proxy import ARGUMENT_SPEC, build_plan
from ansible_collections.ssm.proxy.plugins.filter.core import FilterModule, agent_proxy_userdata
from ansible_collections.ssm.proxy.plugins.plugin_utils._userdata import render_script, wrap_user_data

tree_sitter = pytest.importorskip("tree_sitter")
tree_sitter_powershell = pytest.importorskip("tree_sitter_powershell")

PROXY = "http://proxy.example.com:3128"
# Values a caller could hand the renderer if validation ever let them through: quotes PowerShell honours (ASCII
# and curly), subexpressions, backticks, the user-data end tag, a newline.
HOSTILE = [
    "it's",
    "'; Remove-Item -Recurse C:\\ ; '",
    "$(Stop-Computer)",
    "`$env:PATH`",
    '"double" @(sub) #comment',
    "\u2019; Stop-Computer; \u2018",
    "\u201a\u201b",
    "a\nStop-Computer\n'",
]


def parse(text: str):
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    return parser.parse(text.encode("utf-8"))


def has_error(node) -> bool:
    return node.type == "ERROR" or node.is_missing or any(has_error(child) for child in node.children)


def script_of(user_data: str) -> str:
    """The PowerShell between the tags, as EC2Launch extracts it."""
    match = re.fullmatch(r"<powershell>\n(?P<script>.*)</powershell>\n(?:<persist>true</persist>\n)?", user_data, re.S)
    assert match, user_data
    return match.group("script")


def verbatim_strings(text: str) -> list[str]:
    """Every single-quoted string literal, unquoted as PowerShell reads it."""
    source = text.encode("utf-8")
    found = []

    def walk(node) -> None:
        if node.type == "verbatim_string_characters":
            raw = source[node.start_byte:node.end_byte].decode("utf-8")
            found.append(re.sub("(['\u2018\u2019\u201a\u201b])\\1", r"\1", raw[1:-1]))
        for child in node.children:
            walk(child)

    walk(parse(text).root_node)
    return found


def command_names(text: str) -> set[str]:
    """Every command a PowerShell text would invoke."""
    source = text.encode("utf-8")
    names = set()

    def walk(node) -> None:
        if node.type == "command_name":
            names.add(source[node.start_byte:node.end_byte].decode("utf-8"))
        for child in node.children:
            walk(child)

    walk(parse(text).root_node)
    return names


def assigned_values(script: str) -> dict[str, str]:
    """name -> value of the ``$ssmProxyVariables['name'] = 'value'`` assignments, read back through the grammar.

    They are the string literals between ``'Stop'`` (the first) and the ``$ssmProxyShown`` line, in pairs; a
    variable set to ``$null`` (removed) is last and has no pair.
    """
    strings = verbatim_strings(script.partition("$ssmProxyShown")[0])
    assert strings[0] == "Stop"
    pairs = strings[1:]
    return dict(zip(pairs[0::2], pairs[1::2]))


BASE_COMMANDS = command_names(script_of(agent_proxy_userdata(PROXY)))


@pytest.mark.parametrize("args", [
    {"proxy": PROXY},
    {"proxy": "proxy.example.com:3128", "no_proxy": [".Corp.Example.com", "10.0.0.0/8", "[FD00:EC2::254]"]},
    {"proxy": PROXY, "no_proxy": ["s3.eu-west-1.amazonaws.com"], "imds_bypass": False},
    {"proxy": PROXY, "imds_bypass": False},  # no no_proxy at all: the module removes it, so does the script
    {"proxy": PROXY, "proxy_username": "CORP\\svc ssm", "proxy_password": "p@ss:w'rd\"$(x)%"},
])
def test_values_are_exactly_what_ssm_agent_proxy_writes(args: dict) -> None:
    filter_args = dict(args)
    proxy = filter_args.pop("proxy")
    script = script_of(agent_proxy_userdata(proxy, **filter_args))
    module_args = {name: spec.get("default") for name, spec in ARGUMENT_SPEC.items()} | args
    wanted = {name: value for name, value in build_plan(module_args).variables.items() if value is not None}
    assert assigned_values(script) == wanted
    removed = [name for name, value in build_plan(module_args).variables.items() if value is None]
    assert [line for line in script.splitlines() if line.endswith("= $null")] == [f"$ssmProxyVariables['{name}'] = $null" for name in removed]
    assert not has_error(parse(script).root_node)


def test_documented_form() -> None:
    user_data = agent_proxy_userdata(PROXY, no_proxy=[".corp.example.com"])
    assert user_data.startswith("<powershell>\n# ssm.proxy agent_proxy_userdata") and user_data.endswith("</powershell>\n")
    script = script_of(user_data)
    assert assigned_values(script) == {
        "http_proxy": PROXY,
        "https_proxy": PROXY,
        "no_proxy": ".corp.example.com,169.254.169.254,fd00:ec2::254",
    }
    # Writes the service's Environment as REG_MULTI_SZ, then restarts the agent.
    assert "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent" in verbatim_strings(script)
    assert {"New-ItemProperty", "Restart-Service", "Get-Service", "Get-ItemProperty"} <= command_names(script)
    assert "-PropertyType MultiString" in script
    assert agent_proxy_userdata(PROXY, persist=True).endswith("</powershell>\n<persist>true</persist>\n")
    assert "$false -and" in agent_proxy_userdata(PROXY, restart=False)


def test_password_is_encoded_and_never_in_the_logged_line() -> None:
    password = "s3cr3t'</powershell><script>"
    user_data = agent_proxy_userdata(PROXY, proxy_username="svc", proxy_password=password)
    assert user_data.count("</powershell>") == 1  # the tag of the password is percent-encoded
    shown = [line for line in user_data.splitlines() if line.startswith("$ssmProxyShown")]
    assert shown == ["$ssmProxyShown = 'http_proxy=http://svc:********@proxy.example.com:3128 "
                     "https_proxy=http://svc:********@proxy.example.com:3128 no_proxy=169.254.169.254,fd00:ec2::254'"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_stay_data(value: str) -> None:
    """Even values validation would refuse are single string literals when rendered; no new command appears."""
    script = render_script({"https_proxy": value, "no_proxy": value}, restart=True)
    tree = parse(script)
    assert not has_error(tree.root_node), script
    assert assigned_values(script) == {"https_proxy": value, "no_proxy": value}
    assert command_names(script) == BASE_COMMANDS


def test_a_user_data_tag_in_the_script_is_refused() -> None:
    script = render_script({"https_proxy": "x</powershell>"}, restart=True)
    with pytest.raises(ValueError, match="would end the user data early"):
        wrap_user_data(script, persist=False)


@pytest.mark.parametrize(("args", "fragment"), [
    ({"no_proxy": ["10.*"]}, "use the CIDR 10.0.0.0/8"),
    ({"no_proxy": ["<local>"]}, "WinINet macro"),
    ({"no_proxy": "10.0.0.0/8"}, "must be a list"),
    ({"no_proxy": ["'; Stop-Computer; '"]}, "no_proxy"),
    ({"proxy_password": "secret-only"}, "go together"),
    ({"proxy_username": "u", "proxy_password": "p", "imds_bypass": True}, None),
])
def test_bad_input_names_the_option(args: dict, fragment: str | None) -> None:
    if fragment is None:
        assert agent_proxy_userdata(PROXY, **args)
        return
    with pytest.raises(AnsibleFilterError, match=re.escape(fragment)) as error:
        agent_proxy_userdata(PROXY, **args)
    assert "secret-only" not in str(error.value)


@pytest.mark.parametrize("proxy", ["socks5://proxy:1080", "http://proxy.example.com:3128/path", "http://'evil':1", "http://u:pw@proxy:1"])
def test_bad_proxy_is_refused_without_showing_credentials(proxy: str) -> None:
    with pytest.raises(AnsibleFilterError, match="agent_proxy_userdata: proxy") as error:
        agent_proxy_userdata(proxy, proxy_username="svc", proxy_password="pw")
    assert ":pw@" not in str(error.value)


def test_registered() -> None:
    assert FilterModule().filters()["agent_proxy_userdata"] is agent_proxy_userdata
