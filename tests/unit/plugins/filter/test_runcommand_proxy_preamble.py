# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Run Command proxy preamble: .NET's bypass regexes, safe quoting, and PowerShell syntax (tree-sitter)."""

from __future__ import annotations

import re

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.ssm.proxy.plugins.filter.core import FilterModule, runcommand_proxy_preamble
from ansible_collections.ssm.proxy.plugins.plugin_utils._preamble import bypass_regex, ps_quote

tree_sitter = pytest.importorskip("tree_sitter")
tree_sitter_powershell = pytest.importorskip("tree_sitter_powershell")

HOSTILE = [
    "it's",
    "''",
    "'; Remove-Item -Recurse C:\\ ; '",
    "$(Stop-Computer)",
    "`$env:PATH`",
    '"double" and @(sub)',
    "\u2019; Stop-Computer; \u2018",
    "\u201a\u201b",
    "p\u00e4ss w\u00f6rd #<>|&",
]


def parse(text: str):
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    return parser.parse(text.encode("utf-8"))


def verbatim_strings(text: str) -> list[str]:
    """Every single-quoted string literal of a PowerShell text, unquoted as PowerShell reads it."""
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


def has_error(node) -> bool:
    return node.type == "ERROR" or node.is_missing or any(has_error(child) for child in node.children)


def test_renders_the_documented_lines() -> None:
    text = runcommand_proxy_preamble("http://proxy.example.com:3128", bypass=["*.corp.example.com", "<local>"])
    assert text.splitlines()[1:] == [
        "$ssmProxyBypass = [string[]]@(",
        r"    '^(?:.*://)?.*\.corp\.example\.com(?::[0-9]{1,5})?$'",
        r"    '^(?:.*://)?169\.254\.169\.254(?::[0-9]{1,5})?$'",
        r"    '^(?:.*://)?\[fd00:ec2::254](?::[0-9]{1,5})?$'",
        ")",
        "$ssmProxy = New-Object -TypeName System.Net.WebProxy -ArgumentList 'http://proxy.example.com:3128', $true, $ssmProxyBypass",
        "[System.Net.WebRequest]::DefaultWebProxy = $ssmProxy",
    ]
    assert not has_error(parse(text).root_node)


@pytest.mark.parametrize(
    ("entry", "matches", "misses"),
    [
        ("*.corp.example.com", ["http://a.corp.example.com", "https://b.a.corp.example.com:8443"], ["http://corp.example.com.evil.net"]),
        ("10.*", ["http://10.1.2.3", "https://10.0.0.1:443"], ["http://110.1.2.3"]),
        ("169.254.169.254", ["http://169.254.169.254"], ["http://169x254.169.254"]),
        ("[fd00:ec2::254]", ["http://[fd00:ec2::254]"], ["http://fd00:ec2::254"]),
        ("https://secure.example.com", ["https://secure.example.com"], ["http://secure.example.com"]),
        ("host:8080", ["http://host:8080"], ["http://host:8081"]),
    ],
)
def test_bypass_regex_matches_as_dotnet_does(entry: str, matches: list[str], misses: list[str]) -> None:
    # .NET matches "scheme://host[:port]" (IgnoreCase); Python's re accepts the same syntax for these patterns.
    pattern = re.compile(bypass_regex(entry), re.IGNORECASE)
    assert all(pattern.match(uri) for uri in matches)
    assert not any(pattern.match(uri) for uri in misses)


@pytest.mark.parametrize("value", HOSTILE)
def test_quoting_keeps_hostile_values_literal(value: str) -> None:
    quoted = ps_quote(value)
    text = f"$x = {quoted}\n"
    tree = parse(text)
    assert not has_error(tree.root_node)
    assert verbatim_strings(text) == [value]


@pytest.mark.parametrize("password", HOSTILE)
def test_hostile_credentials_stay_inside_their_strings(password: str) -> None:
    text = runcommand_proxy_preamble("proxy.example.com:3128", username="CORP\\svc'o", password=password, imds_bypass=False)
    tree = parse(text)
    assert not has_error(tree.root_node), text
    strings = verbatim_strings(text)
    assert strings[-3:] == ["svc'o", password, "CORP"]
    # Four statements and the comment: nothing a value holds became a statement of its own.
    statement_lists = [child for child in tree.root_node.children if child.type == "statement_list"]
    assert len(statement_lists) == 1 and [child.type for child in statement_lists[0].children] == ["pipeline"] * 4


def test_default_credentials_and_no_bypass() -> None:
    text = runcommand_proxy_preamble("proxy:80", imds_bypass=False, default_credentials=True)
    assert "$ssmProxyBypass = [string[]]@()\n" in text and "-ArgumentList 'http://proxy:80', $false, $ssmProxyBypass\n" in text
    assert "$ssmProxy.UseDefaultCredentials = $true\n" in text
    assert not has_error(parse(text).root_node)


@pytest.mark.parametrize(
    ("args", "kwargs", "fragment"),
    [
        (["http://u:hunter2@proxy:1"], {}, "proxy: has credentials in the URL"),
        (["https://proxy:1"], {}, "uses https://"),
        (["proxy:1'; Stop-Computer"], {}, "proxy: "),
        (["proxy:1"], {"bypass": ["10.0.0.0/8"]}, "use '10.*'"),
        (["proxy:1"], {"bypass": "a.example.com"}, "bypass: must be a list"),
        (["proxy:1"], {"bypass": ["a'b"]}, "bypass: 'a'b' is not a host name"),
        (["proxy:1"], {"username": "u"}, "username and password go together"),
        (["proxy:1"], {"username": "u", "password": "p", "default_credentials": True}, "exclude each other"),
        (["proxy:1"], {"username": "u", "password": "hunter2\n"}, "password contains a control character"),
        ([None], {}, "proxy: must be a string"),
    ],
)
def test_bad_input_is_refused_without_echoing_passwords(args, kwargs, fragment) -> None:
    with pytest.raises(AnsibleFilterError) as error:
        runcommand_proxy_preamble(*args, **kwargs)
    assert fragment in str(error.value) and "hunter2" not in str(error.value)


def test_filter_is_registered() -> None:
    assert FilterModule().filters()["runcommand_proxy_preamble"] is runcommand_proxy_preamble


def test_the_checks_catch_naive_quoting() -> None:
    naive = "$x = '" + "'; Stop-Computer; '" + "'\n"
    assert verbatim_strings(naive) != ["'; Stop-Computer; '"]
    assert has_error(parse("$x = 'it's'\n").root_node) or verbatim_strings("$x = 'it's'\n") != ["it's"]
