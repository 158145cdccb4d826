# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the SSM Agent does with proxy settings at startup, and what its log says it did.

Private to the ssm.proxy collection (internal use): no compatibility promises.

A port of the agent's ``SetProxyConfig`` (``agent/proxyconfig/proxy_windows.go``, agent 3.x); the parts of
Go it relies on (``net/url``, ``fmt``, ``strings.Fields``) are ported in ``_golang``. Pure functions: the
action plugins feed them what they read from the host. ``tests/unit/test_go_differential.py`` checks the
parsing and the source selection against the real Go toolchain.
"""

from __future__ import annotations

import dataclasses
import re
import typing as t
from collections.abc import Mapping, Sequence

from ._golang import BEFORE_BRACKET_CHECKS, CURRENT, STRICT_COLONS, GoError, GoRelease, GoURL, fields, sprintf_no_args, url_parse

PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy")

# The Go parts (url.Parse, URL.String(), fmt, strings.Fields) live in _golang, checked against Go itself.
GoUrlError = GoError
GoUrl = GoURL


def go_url_parse(raw: str) -> GoURL:
    """Go's url.Parse (see _golang.url_parse)."""
    return url_parse(raw)


def validate_host(value: str, release: GoRelease = CURRENT) -> GoURL:
    """The agent's ``ValidateHost``: refuse WinINet macros, default the scheme to http, url.Parse.

    On failure the agent builds its error as ``err.Error() + s + ", skipped"`` with no separator, so the
    WARN line reads ``parse "http://x": <reason>http://x, skipped``.
    """
    if value in ("<-loopback>", "<local>"):
        raise GoError(f"{value} host not supported, skipped")
    if value.startswith("//"):
        value = "http:" + value
    if "://" not in value:
        value = "http://" + value
    try:
        return url_parse(value, release)
    except GoError as error:
        raise GoError(f"{error}{value}, skipped") from None


@dataclasses.dataclass(frozen=True)
class ParsedProxy:
    """ParseProxySettings' result (None = variable not set by the agent) and the WARN lines it logs."""

    http_proxy: str | None
    https_proxy: str | None
    warnings: tuple[str, ...] = ()


def parse_proxy_settings(proxy: str) -> ParsedProxy:
    """The agent's ParseProxySettings over an IE / WinHTTP proxy string.

    Split on whitespace, then ';' (never ','); ``http=`` / ``https=`` (case-sensitive) fill their variable,
    other ``scheme=`` pieces are dropped, a bare piece is "other" (the last wins). An invalid value resets
    its variable to nil, as the Go assignment ``http, err = ValidateHost(...)`` does.
    """
    found: dict[str, GoURL | None] = {"http": None, "https": None, "other": None}
    warnings = []
    for field in fields(proxy):
        for piece in field.split(";"):
            if not piece:
                continue
            name, sep, value = piece.partition("=")
            slot = name if sep else "other"
            if sep and name not in ("http", "https"):
                continue
            try:
                found[slot] = validate_host(value if sep else piece)
            except GoError as error:
                found[slot] = None
                warnings.append(f"ParseProxySettings, invalid URL or host for proxy: {error}")
    http, https, other = found["http"], found["https"], found["other"]
    # "If no [<scheme>=] is provided http is the default option": a bare host:port sets http_proxy only.
    if https is None and http is None:
        http = other
    elif https is not None and http is None:
        http = other
    elif https is None and http is not None:
        https = other
    return ParsedProxy(
        http_proxy=None if http is None else http.string(),
        https_proxy=None if https is None else https.string(),
        warnings=tuple(warnings),
    )


def parse_proxy_bypass(bypass: str) -> tuple[list[str], list[str]]:
    """The agent's bypass handling: whitespace and ';' split, each entry reduced to its URL host part."""
    entries, warnings = [], []
    for field in fields(bypass):
        for piece in field.split(";"):
            if not piece:
                continue
            try:
                entries.append(validate_host(piece).host_text)
            except GoError as error:
                warnings.append(f"SetProxySettings invalid URL or host for no_proxy: {error}")
    return entries, warnings


@dataclasses.dataclass(frozen=True)
class ReleaseDependence:
    """A value whose fate depends on the Go release the agent was built with: both outcomes, in words."""

    kind: str  # "proxy" or "bypass"
    value: str
    change: str  # "bracket_checks" or "strict_colons"
    current: str  # what Go 1.24.8 / 1.25.2 and later do with a go 1.21 go.mod (what the differential test runs)
    other: str  # what the other release does


def _validated_values(proxy: str, bypass: str) -> list[tuple[str, str]]:
    """(kind, value) for every value ParseProxySettings and the bypass loop hand to ValidateHost."""
    found = []
    for kind, text in (("proxy", proxy), ("bypass", bypass)):
        for field in fields(text):
            for piece in field.split(";"):
                name, sep, value = piece.partition("=")
                if kind == "proxy" and sep:
                    if name in ("http", "https"):
                        found.append((kind, value))
                elif piece:
                    found.append((kind, piece))
    return found


def _outcome(kind: str, value: str, release: GoRelease) -> str:
    try:
        url = validate_host(value, release)
    except GoError as error:
        return f"skips it ({error})"
    return f"uses {url.string()}" if kind == "proxy" else f"adds '{url.host_text}' to no_proxy"


def release_dependences(proxy: str, bypass: str) -> tuple[ReleaseDependence, ...]:
    """The values whose outcome differs between Go releases (spec: where it depends on Go, say so)."""
    found = []
    for kind, value in _validated_values(proxy, bypass):
        current = _outcome(kind, value, CURRENT)
        for change, release in (("bracket_checks", BEFORE_BRACKET_CHECKS), ("strict_colons", STRICT_COLONS)):
            other = _outcome(kind, value, release)
            if other != current:
                found.append(ReleaseDependence(kind, value, change, current, other))
    return tuple(found)


@dataclasses.dataclass(frozen=True)
class WinInetSource:
    """What WinHttpGetIEProxyConfigForCurrentUser reports for LocalSystem: the proxy only with flag 0x2."""

    proxy_enabled: bool
    proxy: str = ""
    bypass: str = ""
    auto_detect: bool = False
    auto_config_url: str = ""


@dataclasses.dataclass(frozen=True)
class WinHttpSource:
    """WinHttpGetDefaultProxyConfiguration: empty proxy when direct."""

    proxy: str = ""
    bypass: str = ""


@dataclasses.dataclass(frozen=True)
class AgentSources:
    """The five documented sources, as read from the host (environment names in any case)."""

    service_environment: Mapping[str, str] = dataclasses.field(default_factory=dict)
    system_environment: Mapping[str, str] = dataclasses.field(default_factory=dict)
    localsystem_environment: Mapping[str, str] = dataclasses.field(default_factory=dict)
    wininet: WinInetSource | None = None
    winhttp: WinHttpSource | None = None


@dataclasses.dataclass(frozen=True)
class AgentProxy:
    """What the agent will use at its next start, and where each part comes from."""

    http_proxy: str
    https_proxy: str
    no_proxy: str
    proxy_source: str
    bypass_source: str
    warnings: tuple[str, ...] = ()
    # The source each non-empty variable came from.
    variable_sources: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # The IE/WinHTTP source whose proxy / bypass string the agent parsed (even when parsing left nothing), or "none".
    proxy_considered: str = "none"
    bypass_considered: str = "none"
    # Values of those strings whose outcome depends on the Go release the agent was built with.
    release_dependences: tuple[ReleaseDependence, ...] = ()

    def variables(self) -> dict[str, str]:
        return {"http_proxy": self.http_proxy, "https_proxy": self.https_proxy, "no_proxy": self.no_proxy}


def _lookup(environment: Mapping[str, str], name: str) -> str:
    """Case-insensitive environment lookup (Windows variable names ignore case)."""
    for key, value in environment.items():
        if key.lower() == name:
            return value
    return ""


def process_environment(sources: AgentSources) -> dict[str, tuple[str, str]]:
    """The agent process's proxy variables as the SCM builds them: {name: (value, source)}.

    The service ``Environment`` value overrides both environments. Between the system and LocalSystem
    environments Windows lets the user's win (CreateEnvironmentBlock); the AWS guide lists them the other
    way round, which the info module reports as a conflict when both are set differently.
    """
    result = {}
    for name in PROXY_VARIABLES:
        for source, environment in (
            ("service_registry", sources.service_environment),
            ("localsystem_environment", sources.localsystem_environment),
            ("system_environment", sources.system_environment),
        ):
            value = _lookup(environment, name)
            if value:
                result[name] = (value, source)
                break
        else:
            result[name] = ("", "none")
    return result


def effective_agent_proxy(sources: AgentSources) -> AgentProxy:
    """Port of SetProxyConfig: IE (manual proxy) else WinHTTP, then any environment proxy variable wins."""
    proxy = bypass = ""
    proxy_source = bypass_source = "none"
    # WinHttpGetIEProxyConfigForCurrentUser returns lpszProxy only for a non-empty proxy string with the
    # manual-proxy flag (Wine's dlls/winhttp/session.c: `if (len && hdr->flags & PROXY_TYPE_PROXY)`), and the
    # agent's `enabled` is `lpszProxy != nil`: a ticked box with an empty string falls through to WinHTTP.
    if sources.wininet is not None and sources.wininet.proxy_enabled and sources.wininet.proxy:
        proxy, bypass = sources.wininet.proxy, sources.wininet.bypass
        proxy_source = bypass_source = "wininet"
    elif sources.winhttp is not None and sources.winhttp.proxy:
        # The WinHTTP bypass list is used only together with its proxy.
        proxy, bypass = sources.winhttp.proxy, sources.winhttp.bypass
        proxy_source = bypass_source = "winhttp"

    environment = process_environment(sources)
    if environment["https_proxy"][0] or environment["http_proxy"][0]:
        # Any environment proxy variable suppresses the IE/WinHTTP proxy entirely.
        proxy = ""
        proxy_source = "none"
    if environment["no_proxy"][0]:
        bypass = ""
        bypass_source = "none"
    proxy_considered, bypass_considered = proxy_source, bypass_source

    warnings: list[str] = []
    parsed = parse_proxy_settings(proxy)
    warnings.extend(parsed.warnings)
    variables = {name: value for name, (value, _source) in environment.items()}
    sources_of = {name: source for name, (_value, source) in environment.items()}
    for name, value in (("https_proxy", parsed.https_proxy), ("http_proxy", parsed.http_proxy)):
        if value is not None:
            variables[name] = value
            sources_of[name] = proxy_source
    entries, bypass_warnings = parse_proxy_bypass(bypass)
    warnings.extend(bypass_warnings)
    if entries:
        variables["no_proxy"] = ",".join(entries)
        sources_of["no_proxy"] = bypass_source

    proxy_sources = {sources_of[name] for name in ("https_proxy", "http_proxy") if variables[name]}
    return AgentProxy(
        http_proxy=variables["http_proxy"],
        https_proxy=variables["https_proxy"],
        no_proxy=variables["no_proxy"],
        proxy_source=_single_source(proxy_sources),
        bypass_source=sources_of["no_proxy"] if variables["no_proxy"] else "none",
        warnings=tuple(warnings),
        variable_sources={name: sources_of[name] for name in PROXY_VARIABLES if variables[name]},
        proxy_considered=proxy_considered,
        bypass_considered=bypass_considered,
        release_dependences=release_dependences(proxy, bypass),
    )


def _single_source(found: set[str]) -> str:
    """The source of the proxy pair; http and https from different environment sources report the higher one."""
    for source in ("service_registry", "system_environment", "localsystem_environment", "wininet", "winhttp"):
        if source in found:
            return source
    return "none"


# --- the agent's log --------------------------------------------------------------------------------------

_LOG_LINE_RE = re.compile(r"^(?P<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?) (?P<level>[A-Z]+) (?P<message>.*)$")
_VARIABLE_RE = re.compile(r"^(?P<name>https_proxy|http_proxy|no_proxy): ?(?P<value>.*)$")
_VERSION_RES = (
    re.compile(r"^\[amazon-ssm-agent\] amazon-ssm-agent - v(?P<version>\S+)$"),
    re.compile(r"^Starting Agent: amazon-ssm-agent - v(?P<version>\S+)$"),  # agent v2
)


@dataclasses.dataclass(frozen=True)
class StartupBlock:
    """One agent start as its log shows it: the three proxy variables (as logged) and the version."""

    logged_at: str
    http_proxy: str | None = None
    https_proxy: str | None = None
    no_proxy: str | None = None
    agent_version: str | None = None
    # Byte offset of the block's first line in the text parsed: with the offset of that text in the file,
    # it tells one start from another even when two starts log the same second (agents before 3.3.808.0).
    offset: int = 0

    def variables(self) -> dict[str, str | None]:
        return {"http_proxy": self.http_proxy, "https_proxy": self.https_proxy, "no_proxy": self.no_proxy}


def parse_startup_blocks(text: str) -> list[StartupBlock]:
    """Every startup block in a log text, oldest first.

    A block starts at ``Proxy environment variables:``; the variable lines follow in any order (Go map
    iteration since 3.0.1295.0; fixed order in v2), an unset one logged as ``name: ``. Both timestamp
    formats (with fractional seconds since 3.3.808.0, without before) are accepted.
    """
    blocks: list[dict[str, t.Any]] = []
    current: dict[str, t.Any] | None = None
    position = 0
    for line in text.splitlines(keepends=True):
        offset, position = position, position + len(line.encode("utf-8", errors="surrogatepass"))
        match = _LOG_LINE_RE.match(line.rstrip("\r\n"))
        if not match:
            continue
        message = match.group("message")
        if message.strip() == "Proxy environment variables:":
            current = {"logged_at": match.group("time"), "offset": offset}
            blocks.append(current)
            continue
        if current is None:
            continue
        variable = _VARIABLE_RE.match(message)
        if variable and variable.group("name") not in current:
            current[variable.group("name")] = variable.group("value")
            continue
        for version_re in _VERSION_RES:
            version = version_re.match(message)
            if version:
                current["agent_version"] = version.group("version")
                current = None
                break
    return [StartupBlock(**block) for block in blocks]


def go_format_mangle(value: str) -> str:
    """What Go's fmt does to ``value`` used as a format string with no arguments.

    The agent logs the proxy variables that way, so ``p%40ss`` appears as ``p%!s(MISSING)s``: only the
    log is affected, and comparisons must mangle the expected value the same way.
    """
    return sprintf_no_args(value)


def logged_matches(expected: Mapping[str, str | None], block: StartupBlock) -> list[str]:
    """Names of the variables whose logged value differs from ``expected`` (empty list: the agent took them)."""
    differing = []
    for name in PROXY_VARIABLES:
        want = go_format_mangle(expected.get(name) or "")
        got = block.variables()[name] or ""
        if want != got:
            differing.append(name)
    return differing


def environment_from_lines(lines: Sequence[str]) -> dict[str, str]:
    """A REG_MULTI_SZ ``name=value`` block as a mapping (first occurrence wins)."""
    result: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition("=")
        if sep and name and name.lower() not in {key.lower() for key in result}:
            result[name] = value
    return result
