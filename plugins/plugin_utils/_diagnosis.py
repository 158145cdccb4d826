# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Diagnosis of the SSM Agent's proxy: what it will use, where that comes from, and what is wrong.

Private to the ssm.proxy collection (internal use): no compatibility promises.

Shared by the ``ssm_agent_proxy_info`` module (sources read from a host) and the ``effective_agent_proxy``
filter (sources given by the operator). Finding codes are stable: playbooks and reports key on them.
"""

from __future__ import annotations

import dataclasses
import typing as t
from collections.abc import Mapping, Sequence

from ._agent import (
    PROXY_VARIABLES,
    AgentProxy,
    AgentSources,
    StartupBlock,
    WinHttpSource,
    WinInetSource,
    effective_agent_proxy,
    environment_from_lines,
    logged_matches,
    process_environment,
    parse_startup_blocks,
)
from ._golang import fields
from ._proxy import IMDS_ADDRESSES, redact
from ._routes import IMDS_URLS, release_dependent_routes, routes

ENVIRONMENT_SOURCES = ("service_registry", "system_environment", "localsystem_environment")
SOURCE_ORDER = ENVIRONMENT_SOURCES + ("wininet", "winhttp")
# Windows Server 2008 / 2008 R2 (NT 6.0 / 6.1): the last agent that supports them (AWS guide).
WINDOWS_2008_LAST_AGENT = "2.3.1644.0"

ERROR, WARNING, INFO = "error", "warning", "info"


@dataclasses.dataclass(frozen=True)
class Finding:
    """One diagnosis; ``code`` is stable, ``message`` says what happens and what to do."""

    code: str
    severity: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "message": redact(self.message)}


@dataclasses.dataclass(frozen=True)
class HostFacts:
    """Facts about the host beyond the five sources (all optional for the filter)."""

    agent_installed: bool = True
    ec2config_installed: bool = False
    os_version: str | None = None  # "6.1", "10.0", ...
    installation_type: str | None = None  # "Server", "Server Core", "Nano Server"


def environment_mapping(value: t.Any) -> dict[str, str]:
    """An environment source as a mapping: accepts REG_MULTI_SZ lines or a dict."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(name): "" if item is None else str(item) for name, item in value.items()}
    if isinstance(value, str):
        return environment_from_lines([value])
    return environment_from_lines([str(line) for line in value])


def _proxy_variables(environment: Mapping[str, str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {name: None for name in PROXY_VARIABLES}
    for key, value in environment.items():
        if key.lower() in found and found[key.lower()] is None:
            found[key.lower()] = value
    return found


def _bypass_entries(no_proxy: str) -> list[str]:
    return [entry.strip().lower() for entry in no_proxy.split(",") if entry.strip()]


def _has_password(value: str) -> bool:
    return redact(value) != value


class Diagnosis:
    """Collects findings while the sources are examined."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def add(self, code: str, severity: str, message: str) -> None:
        finding = Finding(code, severity, message)
        if finding not in self.findings:
            self.findings.append(finding)


def _check_effective(diagnosis: Diagnosis, effective: Mapping[str, str], proxy_source: str, raw_proxy: str) -> None:
    http, https = effective["http_proxy"], effective["https_proxy"]
    if http and not https:
        hint = ""
        if proxy_source in ("wininet", "winhttp") and "=" not in raw_proxy:
            hint = (f" The {_label(proxy_source)} '{raw_proxy}' has no scheme prefix, which the agent reads as http only; "
                    f"write 'http={raw_proxy};https={raw_proxy}'.")
        diagnosis.add(
            "https_direct", ERROR,
            "https_proxy is empty, so all HTTPS traffic (every Systems Manager endpoint) goes direct; Go never falls back to http_proxy for HTTPS."
            + hint,
        )
    # Instance metadata is asked over http://, so only http_proxy can take it (Go's ProxyFromEnvironment).
    for route in routes(effective, IMDS_URLS):
        if route["proxy"]:
            address = route["url"].split("/")[2].strip("[]")
            # The SDK asks the IPv4 address unless the instance is set to use the IPv6 metadata endpoint.
            ipv6 = route["name"] == "imds_ipv6"
            diagnosis.add(
                "imds_not_bypassed", INFO if ipv6 else WARNING,
                f"no_proxy does not cover {address}: {'where the IPv6 metadata endpoint is used, ' if ipv6 else ''}the agent asks the "
                f"proxy {route['proxy']} for its instance metadata and role credentials, which fails with IMDSv2; add 169.254.169.254 "
                "and fd00:ec2::254 to no_proxy.",
            )
    for variable in ("http_proxy", "https_proxy"):
        value = effective[variable]
        if value.lower().startswith("https://"):
            diagnosis.add(
                "https_scheme_proxy", WARNING,
                f"{variable} {value} uses https://: Go speaks TLS to the proxy itself and Session Manager only supports http:// proxies; use http://.",
            )
    for variable in PROXY_VARIABLES:
        value = effective[variable]
        if _has_password(value):
            diagnosis.add(
                "credentials_in_log", WARNING,
                f"{variable} carries a password, which the agent writes in clear to amazon-ssm-agent.log at every start; "
                "restrict access to %ProgramData%\\Amazon\\SSM\\Logs or use a proxy that authenticates the instance otherwise.",
            )
        if "%" in value:
            diagnosis.add(
                "percent_mangled_in_log", INFO,
                f"{variable} contains '%': the agent's log shows it mangled (e.g. '%!s(MISSING)'); the setting itself is unaffected.",
            )


def _check_bypass_entries(diagnosis: Diagnosis, entries: Sequence[str], where: str) -> None:
    for entry in entries:
        stripped = entry.removeprefix("*.")
        if entry != "*" and "*" in stripped:
            diagnosis.add(
                "ie_wildcard_ignored", WARNING,
                f"{where}: '{entry}' is an IE-style wildcard that Go never matches; use a CIDR (10.0.0.0/8) or a domain (.example.com).",
            )
        if entry.startswith("[") and entry.endswith("]"):
            diagnosis.add(
                "ipv6_imds_bracketed" if entry[1:-1] in IMDS_ADDRESSES else "ie_wildcard_ignored", WARNING,
                f"{where}: '{entry}' is a bracketed IPv6 address without a port, which Go never matches; write it without brackets.",
            )


def _check_sources(diagnosis: Diagnosis, sources: dict[str, t.Any], used: Mapping[str, str], proxy_source: str, bypass_source: str) -> None:
    environment_proxies = {name: sources[name] for name in ENVIRONMENT_SOURCES}
    for name in ENVIRONMENT_SOURCES:
        variables = environment_proxies[name]
        if variables.get("no_proxy"):
            _check_bypass_entries(diagnosis, _bypass_entries(variables["no_proxy"]), f"no_proxy in the {_label(name)}")
    service = environment_proxies["service_registry"]
    for variable, value in service.items():
        if value and "=" in value:
            diagnosis.add(
                "equals_breaks_plugins", WARNING,
                f"The service Environment's {variable} contains '=': ssm-cli get-diagnostics and the domain-join and CloudWatch plugins split "
                "the line on '=' and read it truncated; percent-encode '=' as %3D.",
            )
    system, local = environment_proxies["system_environment"], environment_proxies["localsystem_environment"]
    for variable in PROXY_VARIABLES:
        if system.get(variable) and local.get(variable) and system[variable] != local[variable] and not service.get(variable):
            diagnosis.add(
                "environment_conflict", WARNING,
                f"{variable} is '{system[variable]}' in the system environment and '{local[variable]}' in LocalSystem's: Windows gives the "
                "user (LocalSystem) value to the service, the AWS guide lists the system one first; set it in the service Environment "
                "(ssm.proxy.ssm_agent_proxy) to decide.",
            )
    _check_shadowed(diagnosis, sources, used, {"proxy": proxy_source, "bypass": bypass_source})

    wininet = sources["wininet"]
    if wininet and (wininet.get("auto_detect") or wininet.get("auto_config_url_enabled")):
        diagnosis.add(
            "pac_or_wpad_ignored", WARNING,
            "LocalSystem's Internet settings use automatic detection (WPAD) or a configuration script (PAC), which the agent ignores; "
            "set a manual proxy or the agent's own proxy (ssm.proxy.ssm_agent_proxy).",
        )
    if bypass_source in ("wininet", "winhttp"):
        raw = (sources[bypass_source] or {}).get("bypass", "")
        tokens = fields(raw.replace(";", " "))  # the agent's strings.Fields, not Python's split()
        if any(token in ("<local>", "<-loopback>") for token in tokens):
            diagnosis.add(
                "local_macro_ignored", INFO,
                f"The bypass list of the {_label(bypass_source)} holds <local>/<-loopback>, which the agent drops (logged as WARN); list the hosts instead.",
            )
        entries = [token for token in tokens if token not in ("<local>", "<-loopback>")]
        _check_bypass_entries(diagnosis, entries, f"The bypass list of the {_label(bypass_source)}")
    for origin in sorted({source for source in used.values() if source in ("system_environment", "localsystem_environment")}):
        diagnosis.add(
            "environment_needs_reboot", WARNING,
            f"The agent takes proxy settings from the {_label(origin)}, which reaches a restarted service only after a reboot; "
            "set them in the service Environment instead (ssm.proxy.ssm_agent_proxy), which is read at every service start.",
        )


def _check_shadowed(diagnosis: Diagnosis, sources: dict[str, t.Any], used: Mapping[str, str], considered: Mapping[str, str]) -> None:
    """A source that holds a value the agent will not use because a higher one wins (``used``: variable -> source)."""
    for name in ENVIRONMENT_SOURCES:
        for variable, value in sources[name].items():
            if value and used[variable] != name:
                diagnosis.add("shadowed", INFO, f"Not used by the agent: {variable} in the {_label(name)}; the {_label(used[variable])} wins.")
    wininet, winhttp = sources["wininet"] or {}, sources["winhttp"] or {}
    windows_sources = (
        ("wininet", "proxy", wininet.get("proxy_enabled") and wininet.get("proxy")),
        ("wininet", "bypass", wininet.get("proxy_enabled") and wininet.get("bypass")),
        ("winhttp", "proxy", winhttp.get("proxy")),
        ("winhttp", "bypass", winhttp.get("proxy") and winhttp.get("bypass")),
    )
    for name, kind, holds in windows_sources:
        if holds and considered[kind] != name:
            if considered[kind] != "none":
                reason = f"the {_label(considered[kind])} wins"
            else:
                # Only an environment variable makes the agent skip IE and WinHTTP altogether. That is the layout
                # ssm.proxy.agent_proxy builds on purpose: the agent's own proxy, and the same proxy in WinINet (Run
                # Command's PowerShell) and WinHTTP (Patch Manager, Windows Update), which the agent then ignores.
                reason = ("no_proxy in the agent's environment overrides it" if kind == "bypass" else
                          "http_proxy/https_proxy in the agent's environment override it") + (
                    " (expected when the agent has its own proxy, as ssm.proxy.agent_proxy sets it; other Windows components "
                    "still use this one, so nothing to fix)")
            diagnosis.add("shadowed", INFO, f"Not used by the agent: the {kind} in the {_label(name)}; {reason}.")


def _check_routes(diagnosis: Diagnosis, found: Sequence[Mapping[str, t.Any]], effective: Mapping[str, str]) -> None:
    """What the routes of the agent's own endpoints say: ssm direct, Session Manager behind an https:// proxy."""
    for route in found:
        if route["name"] == "ssm" and not route["proxy"] and (effective["http_proxy"] or effective["https_proxy"]):
            why = f"the no_proxy entry '{route['matched']}' matches it" if route["matched"] else "https_proxy is empty"
            diagnosis.add(
                "ssm_direct", WARNING,
                f"Systems Manager traffic to {route['url']} goes direct although a proxy is set: {why}. Without a VPC endpoint or "
                "a direct route to AWS the agent cannot reach Systems Manager.",
            )
        if route["name"] == "ssmmessages" and route["proxy"].lower().startswith("https://"):
            diagnosis.add(
                "session_manager_https_proxy", ERROR,
                f"Session Manager's data channel ({route['url']}) would go through the https:// proxy {route['proxy']}, but the agent's "
                "websocket client dials only http:// proxies: sessions fail. Use an http:// proxy URL (CONNECT tunnels the TLS).",
            )


def _check_release_dependent_routes(diagnosis: Diagnosis, effective: Mapping[str, str], endpoints: Sequence[tuple[str | None, str]]) -> None:
    """Routes that change with the Go release the agent was built with (the proxy variables are parsed by url.Parse)."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for url, change, now, other in release_dependent_routes(effective, endpoints):
        grouped.setdefault((change, now, other), []).append(url)
    for (change, now, other), urls in grouped.items():
        now_text, other_text = now or "direct", other or "direct"
        builds = (f"built with Go 1.24.8 / 1.25.2 or later it goes {now_text}, built with an older Go {other_text}"
                  if change == "bracket_checks" else
                  f"with the agent's go.mod (go 1.21) it goes {now_text}, from a go.mod of go 1.26 or later {other_text}")
        diagnosis.add(
            "go_release_dependent", WARNING,
            f"Traffic to {', '.join(urls)} depends on the Go release the agent was built with: {builds} (Go's url.Parse reads the proxy "
            "variables differently). Write proxies as http://host:port to get one outcome.",
        )


def _check_agent_parsing(diagnosis: Diagnosis, result: AgentProxy) -> None:
    """The WARN lines the agent will log for values it skips, and values whose fate depends on the Go release."""
    for warning in result.warnings:
        macro = warning.endswith(("<local> host not supported, skipped", "<-loopback> host not supported, skipped"))
        diagnosis.add(
            "agent_skips_value", INFO if macro else WARNING,
            f"At its next start the agent will log 'WARN {warning}' and skip that value.",
        )
    for found in result.release_dependences:
        where = f"the {found.kind} string of the {_label(result.proxy_considered if found.kind == 'proxy' else result.bypass_considered)}"
        if found.change == "bracket_checks":
            builds = (f"built with Go 1.24.8 / 1.25.2 or later (CVE-2025-47912) the agent {found.current}; "
                      f"built with an older Go it {found.other}")
        else:
            builds = (f"with the agent's go.mod (go 1.21, so GODEBUG urlstrictcolons=0) the agent {found.current}; "
                      f"built from a go.mod of go 1.26 or later it {found.other}")
        diagnosis.add(
            "go_release_dependent", WARNING,
            f"'{found.value}' in {where}: {builds}. Which Go builds a given agent release is not published; "
            "write host:port, or an IPv6 address in brackets, to get one outcome.",
        )


def _label(source: str) -> str:
    return {
        "service_registry": "service Environment value", "system_environment": "system environment",
        "localsystem_environment": "LocalSystem environment", "wininet": "LocalSystem WinINet (IE) settings",
        "winhttp": "WinHTTP default proxy",
    }.get(source, source)


def _source_dict(value: t.Any) -> dict[str, t.Any] | None:
    return None if value is None else dict(value)


def diagnose(raw: Mapping[str, t.Any], facts: HostFacts | None = None, log_text: str | None = None, log_start: int = 0,
             endpoints: Sequence[tuple[str | None, str]] | None = None) -> dict[str, t.Any]:
    """What the agent will use at its next start, the sources, the running values and the findings (redacted).

    ``log_start`` is the byte offset of ``log_text`` in the agent's log: ``running.offset`` is then the
    offset of the newest startup block in the file, which verification compares to tell a new start.
    With ``endpoints`` ((name, URL) pairs) the result also holds ``routes``: where each one's traffic goes.
    """
    facts = facts or HostFacts()
    environments = {name: environment_mapping(raw.get(name)) for name in ENVIRONMENT_SOURCES}
    wininet = _source_dict(raw.get("wininet"))
    winhttp = _source_dict(raw.get("winhttp"))
    agent_sources = AgentSources(
        service_environment=environments["service_registry"],
        system_environment=environments["system_environment"],
        localsystem_environment=environments["localsystem_environment"],
        wininet=None if wininet is None else WinInetSource(
            proxy_enabled=bool(wininet.get("proxy_enabled")), proxy=wininet.get("proxy") or "", bypass=wininet.get("bypass") or "",
            auto_detect=bool(wininet.get("auto_detect")), auto_config_url=wininet.get("auto_config_url") or ""),
        winhttp=None if winhttp is None else WinHttpSource(proxy=winhttp.get("proxy") or "", bypass=winhttp.get("bypass") or ""),
    )
    result = effective_agent_proxy(agent_sources)
    effective = result.variables()
    sources = {name: _proxy_variables(environments[name]) for name in ENVIRONMENT_SOURCES}
    sources["wininet"] = wininet
    sources["winhttp"] = winhttp

    diagnosis = Diagnosis()
    _check_facts(diagnosis, facts)
    if facts.agent_installed:
        raw_proxy = ""
        if result.proxy_source in ("wininet", "winhttp"):
            raw_proxy = (sources[result.proxy_source] or {}).get("proxy", "")
        _check_effective(diagnosis, effective, result.proxy_source, raw_proxy)
        used = {name: source for name, (_value, source) in process_environment(agent_sources).items()}
        used.update(result.variable_sources)
        _check_sources(diagnosis, sources, used, result.proxy_considered, result.bypass_considered)
        _check_agent_parsing(diagnosis, result)
    found_routes = None if endpoints is None else routes(effective, endpoints)
    if facts.agent_installed:
        if found_routes is not None:
            _check_routes(diagnosis, found_routes, effective)
        # Instance metadata is always routed (as for imds_not_bypassed), so the module and the filter agree.
        _check_release_dependent_routes(diagnosis, effective, IMDS_URLS if endpoints is None else endpoints)

    running, restart_pending = None, None
    if log_text is not None:
        blocks = parse_startup_blocks(log_text)
        if blocks:
            newest: StartupBlock = blocks[-1]
            running = {**{name: _redact_optional(value) for name, value in newest.variables().items()},
                       "logged_at": newest.logged_at, "agent_version": newest.agent_version, "offset": log_start + newest.offset}
            restart_pending = bool(logged_matches(effective, newest))
    extra = {} if found_routes is None else {"routes": found_routes}
    return {
        **extra,
        "effective": {name: redact(value) for name, value in effective.items()},
        "effective_source": {"proxy": result.proxy_source, "bypass": result.bypass_source},
        "sources": _redact_tree(sources),
        "running": running,
        "restart_pending": restart_pending,
        "findings": [finding.as_dict() for finding in diagnosis.findings],
    }


def _check_facts(diagnosis: Diagnosis, facts: HostFacts) -> None:
    if not facts.agent_installed:
        if facts.ec2config_installed:
            diagnosis.add(
                "ec2config_only", ERROR,
                "This instance is served by EC2Config, not the SSM Agent; its proxy is set in EC2Config's own configuration, "
                "not through the agent's sources. Install the SSM Agent to use this collection.",
            )
        diagnosis.add("agent_not_installed", ERROR, "The AmazonSSMAgent service is not installed on this host.")
    if facts.os_version in ("6.0", "6.1"):
        diagnosis.add(
            "windows_2008_agent_limit", WARNING,
            f"Windows Server 2008/2008 R2: the last agent that supports it is {WINDOWS_2008_LAST_AGENT}; it cannot be updated further.",
        )
    if (facts.installation_type or "").lower() == "nano server":
        diagnosis.add("nano_server", WARNING, "Nano Server is outside the documented proxy procedure for the SSM Agent; results are not guaranteed.")


def _redact_optional(value: str | None) -> str | None:
    return None if value is None else redact(value)


def _redact_tree(value: t.Any) -> t.Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {key: _redact_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_tree(item) for item in value]
    return value
