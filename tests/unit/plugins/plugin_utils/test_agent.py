# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent's proxy algorithm (spec §2-3) and startup log (spec §4), scenario by scenario."""

from __future__ import annotations

import pytest

from ansible_collections.ssm.proxy.plugins.plugin_utils._agent import (
    AgentSources,
    GoUrlError,
    StartupBlock,
    WinHttpSource,
    WinInetSource,
    effective_agent_proxy,
    environment_from_lines,
    go_format_mangle,
    go_url_parse,
    logged_matches,
    parse_proxy_bypass,
    parse_proxy_settings,
    parse_startup_blocks,
)

P = "http://proxy:3128"
IE_ON = WinInetSource(proxy_enabled=True, proxy="ie:8080", bypass="<local>;*.corp;10.*")
IE_OFF_STRINGS_KEPT = WinInetSource(proxy_enabled=False, proxy="ie:8080", bypass="*.corp")
WINHTTP = WinHttpSource(proxy="wh:3128", bypass="169.254.169.254")

# (id, sources, expected (http, https, no_proxy), expected (proxy_source, bypass_source))
SCENARIOS = [
    ("nothing", AgentSources(), ("", "", ""), ("none", "none")),
    ("service env only", AgentSources(service_environment={"http_proxy": P, "https_proxy": P, "no_proxy": "a"}), (P, P, "a"),
     ("service_registry", "service_registry")),
    ("service env names any case", AgentSources(service_environment={"HTTPS_PROXY": P}), ("", P, ""), ("service_registry", "none")),
    ("system env only", AgentSources(system_environment={"https_proxy": P}), ("", P, ""), ("system_environment", "none")),
    ("localsystem env only", AgentSources(localsystem_environment={"http_proxy": P}), (P, "", ""), ("localsystem_environment", "none")),
    ("service beats system", AgentSources(service_environment={"https_proxy": P}, system_environment={"https_proxy": "http://sys:1"}),
     ("", P, ""), ("service_registry", "none")),
    # WinHttpGetIEProxyConfigForCurrentUser returns no proxy string for an empty one (Wine session.c), so the agent uses WinHTTP.
    ("ie flag with empty proxy falls back to winhttp", AgentSources(wininet=WinInetSource(True, "", "*.corp"), winhttp=WINHTTP),
     ("http://wh:3128", "", "169.254.169.254"), ("winhttp", "winhttp")),
    ("ie bare host:port sets http only", AgentSources(wininet=WinInetSource(True, "ie:8080")), ("http://ie:8080", "", ""), ("wininet", "none")),
    ("ie per scheme", AgentSources(wininet=WinInetSource(True, "http=a:1;https=b:2")), ("http://a:1", "http://b:2", ""), ("wininet", "none")),
    ("ie https= and bare", AgentSources(wininet=WinInetSource(True, "https=b:2;c:3")), ("http://c:3", "http://b:2", ""), ("wininet", "none")),
    ("ie http= and bare", AgentSources(wininet=WinInetSource(True, "http=a:1 c:3")), ("http://a:1", "http://c:3", ""), ("wininet", "none")),
    ("ftp= and socks= dropped", AgentSources(wininet=WinInetSource(True, "ftp=f:21;socks=s:1080")), ("", "", ""), ("none", "none")),
    ("comma is not a separator", AgentSources(wininet=WinInetSource(True, "a:1,b:2")), ("http://a:1,b:2", "", ""), ("wininet", "none")),
    ("last bare wins", AgentSources(wininet=WinInetSource(True, "a:1 b:2")), ("http://b:2", "", ""), ("wininet", "none")),
    ("HTTP= is case-sensitive", AgentSources(wininet=WinInetSource(True, "HTTP=a:1")), ("", "", ""), ("none", "none")),
    ("ie bypass: <local> dropped, entries kept", AgentSources(wininet=IE_ON), ("http://ie:8080", "", "*.corp,10.*"), ("wininet", "wininet")),
    ("ie flag clear with strings -> winhttp", AgentSources(wininet=IE_OFF_STRINGS_KEPT, winhttp=WINHTTP),
     ("http://wh:3128", "", "169.254.169.254"), ("winhttp", "winhttp")),
    ("ie beats winhttp, never merged", AgentSources(wininet=WinInetSource(True, "ie:1"), winhttp=WINHTTP), ("http://ie:1", "", ""), ("wininet", "none")),
    ("winhttp bypass ignored without its proxy", AgentSources(winhttp=WinHttpSource(proxy="", bypass="x.corp")), ("", "", ""), ("none", "none")),
    ("env proxy silences ie proxy but ie bypass applies", AgentSources(service_environment={"https_proxy": P}, wininet=IE_ON),
     ("", P, "*.corp,10.*"), ("service_registry", "wininet")),
    ("env no_proxy with winhttp proxy", AgentSources(service_environment={"no_proxy": "n"}, winhttp=WINHTTP),
     ("http://wh:3128", "", "n"), ("winhttp", "service_registry")),
    ("env http_proxy alone silences winhttp https", AgentSources(system_environment={"http_proxy": P}, winhttp=WinHttpSource("https=x:1")),
     (P, "", ""), ("system_environment", "none")),
    ("empty env values do not count", AgentSources(service_environment={"https_proxy": ""}, winhttp=WinHttpSource("http=a:1;https=b:2")),
     ("http://a:1", "http://b:2", ""), ("winhttp", "none")),
    ("invalid ie value skipped", AgentSources(wininet=WinInetSource(True, "http=<local>;https=b:2")), ("", "http://b:2", ""), ("wininet", "none")),
    ("whitespace splits", AgentSources(wininet=WinInetSource(True, "http=a:1\thttps=b:2")), ("http://a:1", "http://b:2", ""), ("wininet", "none")),
    ("scheme in ie value kept", AgentSources(wininet=WinInetSource(True, "https=HTTPS://b:2")), ("", "https://b:2", ""), ("wininet", "none")),
    ("// prefix", AgentSources(winhttp=WinHttpSource("//wh:1")), ("http://wh:1", "", ""), ("winhttp", "none")),
    ("localsystem over system (Windows)",
     AgentSources(system_environment={"https_proxy": "http://s:1"}, localsystem_environment={"https_proxy": "http://l:1"}),
     ("", "http://l:1", ""), ("localsystem_environment", "none")),
]


@pytest.mark.parametrize(("sources", "expected", "origin"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS])
def test_effective_agent_proxy(sources, expected, origin) -> None:
    result = effective_agent_proxy(sources)
    assert (result.http_proxy, result.https_proxy, result.no_proxy) == expected
    assert (result.proxy_source, result.bypass_source) == origin


def test_local_macro_warns_like_the_agent() -> None:
    entries, warnings = parse_proxy_bypass("<local>;a.corp <-loopback>")
    assert entries == ["a.corp"]
    assert warnings == [
        "SetProxySettings invalid URL or host for no_proxy: <local> host not supported, skipped",
        "SetProxySettings invalid URL or host for no_proxy: <-loopback> host not supported, skipped",
    ]


@pytest.mark.parametrize(
    ("raw", "string"),
    [("http://proxy:3128", "http://proxy:3128"), ("HTTP://Proxy:3128/", "http://Proxy:3128/"),
     ("http://u:p%40ss@h:1", "http://u:p%40ss@h:1"), ("http://u:p!x@h:1", "http://u:p%21x@h:1"), ("http://[fd00::1]:80", "http://[fd00::1]:80"),
     ("http://fd00:ec2::254", "http://fd00:ec2::254")],
)
def test_go_url_round_trip(raw: str, string: str) -> None:
    assert go_url_parse(raw).string() == string


@pytest.mark.parametrize("raw", ["http://proxy:port", "http://pro{xy:1", "http://u\u00e9@proxy:3128", "http://u:%zz@h:1", "http://[fd00::1:80"])
def test_go_url_errors(raw: str) -> None:
    with pytest.raises(GoUrlError):
        go_url_parse(raw)


def test_parse_proxy_settings_drops_invalid_and_warns() -> None:
    parsed = parse_proxy_settings("http=h:port")
    assert parsed.http_proxy is None and parsed.warnings


@pytest.mark.parametrize(
    ("value", "mangled"),
    [("p%40ss", "p%!s(MISSING)s"), ("100%", "100%!(NOVERB)"), ("a%%b", "a%b"), ("%d", "%!d(MISSING)"), ("plain", "plain"),
     ("%-08.3f", "%!f(MISSING)"), ("p%40%24s", "p%24s"), ("svc%27%60%3Bx", "svc%60%!B(MISSING)x")],
)
def test_go_format_mangle(value: str, mangled: str) -> None:
    assert go_format_mangle(value) == mangled


LOG_V3 = """\
2024-06-10 09:10:20.0001 INFO [amazon-ssm-agent] Stopping
2024-06-10 09:10:27.9012 INFO Getting IE proxy configuration for current user: The operation completed successfully.
2024-06-10 09:10:27.9015 INFO Getting WinHTTP proxy default configuration: The operation completed successfully.
2024-06-10 09:10:27.9020 INFO Proxy environment variables:
2024-06-10 09:10:27.9021 INFO no_proxy: 169.254.169.254
2024-06-10 09:10:27.9021 INFO http_proxy: http://u:p%!s(MISSING)s@proxy.corp:3128
2024-06-10 09:10:27.9022 INFO https_proxy:\x20
2024-06-10 09:10:28.1234 INFO [amazon-ssm-agent] amazon-ssm-agent - v3.3.987.0
2024-06-10 09:10:28.1240 INFO [amazon-ssm-agent] OS: windows, Arch: amd64
"""
LOG_V2 = """\
2019-01-02 03:04:05 INFO Proxy environment variables:
2019-01-02 03:04:05 INFO http_proxy: http://a:1
2019-01-02 03:04:05 INFO https_proxy: http://a:1
2019-01-02 03:04:05 INFO no_proxy:
2019-01-02 03:04:06 INFO Starting Agent: amazon-ssm-agent - v2.3.1644.0
"""


def test_parse_startup_blocks_both_formats_any_order() -> None:
    blocks = parse_startup_blocks(LOG_V2 + LOG_V3)
    assert [block.agent_version for block in blocks] == ["2.3.1644.0", "3.3.987.0"]
    assert blocks[0] == StartupBlock("2019-01-02 03:04:05", "http://a:1", "http://a:1", "", "2.3.1644.0")
    assert blocks[1].logged_at == "2024-06-10 09:10:27.9020"
    assert blocks[1].variables() == {"http_proxy": "http://u:p%!s(MISSING)s@proxy.corp:3128", "https_proxy": "", "no_proxy": "169.254.169.254"}


def test_logged_matches_accounts_for_mangling() -> None:
    block = parse_startup_blocks(LOG_V3)[-1]
    assert logged_matches({"http_proxy": "http://u:p%40ss@proxy.corp:3128", "https_proxy": None, "no_proxy": "169.254.169.254"}, block) == []
    assert logged_matches({"http_proxy": "http://u:p%40ss@proxy.corp:3128", "https_proxy": P, "no_proxy": ""}, block) == [
        "https_proxy", "no_proxy"]


def test_block_without_version_line_is_still_reported() -> None:
    blocks = parse_startup_blocks("2024-06-10 09:10:27.9020 INFO Proxy environment variables:\n2024-06-10 09:10:27.9021 INFO http_proxy: x\n")
    assert blocks == [StartupBlock("2024-06-10 09:10:27.9020", http_proxy="x")]


def test_environment_from_lines() -> None:
    assert environment_from_lines(["A=1", "a=2", "B=x=y", "junk"]) == {"A": "1", "B": "x=y"}
