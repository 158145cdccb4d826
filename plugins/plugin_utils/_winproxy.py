# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Proxy server lists and bypass lists in the Windows format that WinHTTP and WinINet store.

Private to the ssm.proxy collection (internal use): no compatibility promises.

Windows keeps a proxy as one string, ``host:port`` or per scheme ``http=h:p;https=h:p``
(``([<scheme>=][<scheme>://]<server>[:<port>])`` items separated by ``;``), and the bypass list as one
``;``-separated string of host names, addresses and ``*`` wildcards plus the ``<local>`` macro. The
same strings are read by three parties, each in its own way: WinHTTP / WinINet themselves, .NET's
``WebRequest.DefaultWebProxy`` (Run Command's PowerShell), and the SSM Agent, which hands them to Go
(``agent/proxyconfig/proxy_windows.go``, ``ParseProxySettings``). This module writes strings all three
read as meant and warns where they disagree. Pure: no Ansible and no host I/O.
"""

from __future__ import annotations

import ipaddress
import re
import typing as t
from collections.abc import Mapping, Sequence

from ._proxy import IMDS_ADDRESSES, ProxyInputError, parse_proxy_url, redact, type_name, validate_host, validate_port

# Schemes of a per-scheme proxy list (WinINet and the upstream win_http_proxy / win_inet_proxy accept these).
PROXY_SCHEMES = ("http", "https", "ftp", "socks")

# WinINet bypass macros: <local> bypasses host names without a dot; <-loopback> stops the implicit bypass of
# loopback addresses. WinHTTP documents only <local> (WINHTTP_PROXY_INFO.lpszProxyBypass).
LOCAL = "<local>"
NO_LOOPBACK = "<-loopback>"
WININET_MACROS = (LOCAL, NO_LOOPBACK)
WINHTTP_MACROS = (LOCAL,)

# The IMDS addresses in the forms each reader matches: Go (the agent) matches the IPv6 address only without
# brackets; .NET matches bypass entries against "scheme://host", where Uri.Host of an IPv6 address keeps
# its brackets (WebProxyDataBuilder.BypassStringEscape), so it needs the bracketed form. Both are listed.
IMDS_BYPASS_ENTRIES = (*IMDS_ADDRESSES, f"[{IMDS_ADDRESSES[1]}]")

# One bypass entry: an optional scheme, then a host name, address or wildcard pattern, an optional port.
_BYPASS_ENTRY_RE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?[a-z0-9._*\-\[\]:]+$")
_CIDR_RE = re.compile(r"^(?P<address>[0-9.]+)/(?P<prefix>\d{1,2})$")


def proxy_server(option: str, value: t.Any) -> str:
    """One proxy server as Windows stores it: ``host[:port]`` from ``host[:port]`` or ``http://host[:port]``.

    Windows keeps no credentials in these settings (WINHTTP_PROXY_INFO and the WinINet blob have no field
    for them), so ``user:password@`` is refused rather than stored where every reader ignores it.
    """
    if not isinstance(value, str):
        raise ProxyInputError(option, f"must be a string such as proxy.example.com:3128, got {type_name(value)}")
    url = parse_proxy_url(option, value)
    if url.username is not None:
        raise ProxyInputError(
            option,
            f"'{redact(value)}' has credentials, but WinHTTP and WinINet store none (Windows authenticates to the proxy "
            "as the calling account, e.g. the computer account for LocalSystem); remove 'user:password@'",
        )
    if url.scheme != "http":
        raise ProxyInputError(
            option,
            f"'{value}' uses {url.scheme}://; Windows talks to a proxy in plain HTTP and tunnels HTTPS through it with CONNECT, "
            "so write host:port (or http://host:port)",
        )
    return url.host if url.port is None else f"{url.host}:{url.port}"


def _scheme(option: str, name: t.Any, schemes: Sequence[str]) -> str:
    scheme = str(name).strip().lower()
    if scheme not in schemes:
        raise ProxyInputError(option, f"'{name}' is not a proxy scheme; use {', '.join(schemes)}")
    return scheme


def parse_windows_proxy(option: str, value: t.Any, schemes: Sequence[str] = PROXY_SCHEMES) -> str:
    """The proxy string to store, from ``host:port``, ``http://host:port``, ``http=h:p;https=h:p`` or a dict.

    A dict is written in the order of ``schemes`` (as win_http_proxy does); a string keeps the order it was
    given in, so a value written by netsh from the same text compares equal. Scheme names are lowercased
    because the SSM Agent matches ``http`` and ``https`` case-sensitively.
    """
    if isinstance(value, Mapping):
        if not value:
            raise ProxyInputError(option, "is an empty dict; give at least https: proxy.example.com:3128")
        given = {_scheme(option, name, schemes): server for name, server in value.items()}
        if len(given) != len(value):
            raise ProxyInputError(option, "names a scheme twice; give each scheme once")
        return ";".join(f"{scheme}={proxy_server(f'{option}.{scheme}', given[scheme])}" for scheme in schemes if scheme in given)
    if not isinstance(value, str):
        raise ProxyInputError(option, f"must be a string (host:port or http=h:p;https=h:p) or a dict of scheme: host:port, got {type_name(value)}")
    if not value:
        raise ProxyInputError(option, "is empty; give host:port, or use state=absent to remove the proxy")
    if "=" not in value and ";" not in value:
        return proxy_server(option, value)
    items: list[str] = []
    seen: set[str | None] = set()
    for piece in value.split(";"):
        if not piece:
            continue
        name, equals, server = piece.partition("=")
        scheme = _scheme(option, name, schemes) if equals else None
        if scheme in seen:
            raise ProxyInputError(option, f"'{value}' has more than one {scheme + '=' if scheme else 'server without a scheme'}; give each once")
        seen.add(scheme)
        if equals and not server:
            raise ProxyInputError(option, f"'{value}' has no server after '{name}='; write {scheme}=host:port")
        target = proxy_server(option, server if equals else piece)
        items.append(f"{scheme}={target}" if scheme else target)
    if not items:
        raise ProxyInputError(option, f"'{value}' names no proxy server; write http=proxy:3128;https=proxy:3128")
    return ";".join(items)


def agent_proxies(proxy: str) -> tuple[str | None, str | None]:
    """(http_proxy, https_proxy) as the SSM Agent derives them from a Windows proxy string.

    Mirrors ``ParseProxySettings`` (agent/proxyconfig/proxy_windows.go): items split on whitespace and ``;``,
    ``http=`` / ``https=`` fill their variable (case-sensitive), other schemes are dropped, a bare item is
    "other", which fills http_proxy when neither is given and the missing one when only one is given.
    """
    http = https = other = None
    for item in proxy.replace(" ", ";").split(";"):
        if not item:
            continue
        name, equals, server = item.partition("=")
        if not equals:
            other = item
        elif name == "http":
            http = server
        elif name == "https":
            https = server
    if http is None and https is None:
        return other, None
    if http is None:
        return other, https
    if https is None:
        return http, other
    return http, https


def proxy_warnings(option: str, proxy: str, reader: str) -> list[str]:
    """Warn when the SSM Agent, reading ``proxy`` from ``reader``, would send its HTTPS traffic direct."""
    _http, https = agent_proxies(proxy)
    if https is not None:
        return []
    if "=" not in proxy:
        return [
            f"{option} '{proxy}' has no scheme: Windows uses it for every scheme, but the SSM Agent, when it takes its proxy "
            f"from {reader}, reads it as http_proxy only and sends its HTTPS traffic (all of Systems Manager) direct; "
            f"write it per scheme: proxy: {{http: '{proxy}', https: '{proxy}'}} (stored as http={proxy};https={proxy})"
        ]
    return [
        f"{option} '{proxy}' has no https= server: HTTPS requests, and the SSM Agent's HTTPS traffic when it takes its proxy "
        f"from {reader}, go direct; add https=host:port"
    ]


def _cidr_hint(entry: str) -> str | None:
    """The wildcard Windows matches for a /8, /16 or /24 IPv4 network, for the error message."""
    match = _CIDR_RE.match(entry)
    if not match:
        return None
    try:
        network = ipaddress.IPv4Network(entry, strict=False)
    except ValueError:
        return None
    if network.prefixlen in (8, 16, 24):
        octets = str(network.network_address).split(".")[: network.prefixlen // 8]
        return f"use '{'.'.join(octets)}.*'"
    return "list the addresses, or use a wildcard such as '10.1.*' for a /16"


def normalise_bypass_entry(option: str, entry: t.Any, macros: Sequence[str]) -> str:
    """Validate one bypass entry as Windows matches it: a host, an address or a ``*`` pattern, or a macro.

    Entries are kept as given (Windows matches them case-insensitively) except the macros, lowercased.
    """
    if not isinstance(entry, str):
        raise ProxyInputError(option, f"entry {entry!r} must be a string")
    if not entry:
        raise ProxyInputError(option, "has an empty entry; remove it")
    if not entry.isascii() or any(ord(char) < 0x21 or ord(char) == 0x7F for char in entry):
        raise ProxyInputError(option, f"entry {entry!r} contains whitespace, a control or a non-ASCII character; use the punycode (xn--) form of a host name")
    if entry.lower() in (LOCAL, NO_LOOPBACK):
        if entry.lower() not in macros:
            raise ProxyInputError(option, f"'{entry}' is a WinINet macro that WinHTTP does not document; remove it (WinHTTP knows only <local>)")
        return entry.lower()
    if ";" in entry or "," in entry:
        raise ProxyInputError(option, f"'{entry}' holds several entries; give one host or pattern per list item")
    if "/" in entry.partition("://")[2] or ("/" in entry and "://" not in entry):
        hint = _cidr_hint(entry) or "write a host name, an address or a pattern such as '*.example.com'"
        raise ProxyInputError(option, f"'{entry}' is a CIDR or a path, which Windows bypass lists never match; {hint}")
    if not _BYPASS_ENTRY_RE.match(entry.lower()):
        raise ProxyInputError(option, f"'{entry}' is not a host name, an address or a pattern (letters, digits, '.', '-', '*', and [] around IPv6)")
    host = entry.partition("://")[2] or entry
    if "*" not in host:
        _check_host_and_port(option, host)
    return entry


def _check_host_and_port(option: str, text: str) -> None:
    """Check the host (and port) of a bypass entry without wildcards."""
    try:
        ipaddress.ip_address(text)
        return
    except ValueError:
        pass
    if text.startswith("["):
        host, _bracket, rest = text.partition("]")
        validate_host(option, host + "]")
        if rest:
            if not rest.startswith(":"):
                raise ProxyInputError(option, f"'{text}' has text after the IPv6 address; write [address]:port")
            validate_port(option, rest[1:], text)
        return
    host, colon, port = text.partition(":")
    validate_host(option, host)
    if colon:
        validate_port(option, port, text)


def normalise_bypass_list(option: str, entries: Sequence[t.Any], imds_bypass: bool, macros: Sequence[str]) -> list[str]:
    """The bypass entries to store: given entries (duplicates dropped), then the IMDS addresses, then macros last.

    The Internet Options dialog writes ``<local>`` last; Windows matches entries case-insensitively, so
    duplicates are found that way and the first spelling is kept.
    """
    hosts: list[str] = []
    found_macros: list[str] = []
    for entry in entries:
        normalised = normalise_bypass_entry(option, entry, macros)
        target = found_macros if normalised in macros else hosts
        if normalised.lower() not in (item.lower() for item in target):
            target.append(normalised)
    if imds_bypass:
        hosts.extend(address for address in IMDS_BYPASS_ENTRIES if address not in hosts)
    return hosts + [macro for macro in macros if macro in found_macros]


def bypass_warnings(option: str, entries: Sequence[str], reader: str) -> list[str]:
    """Warn about patterns Windows matches but the SSM Agent (Go's no_proxy) never does."""
    patterns = [entry for entry in entries if "*" in entry.removeprefix("*.")]
    if not patterns:
        return []
    return [
        f"{option} has {', '.join(repr(p) for p in patterns)}: Windows matches these patterns, but the SSM Agent, when it takes its "
        f"proxy from {reader}, reads the list as Go's no_proxy, which never matches them; give the agent CIDRs "
        "in ssm.proxy.ssm_agent_proxy's no_proxy"
    ]


def _ipv4_cidr_as_wildcards(network: ipaddress.IPv4Network) -> list[str]:
    """Exact Windows wildcards for an IPv4 network: /8, /16, /24 map to one ``a.b.*``; other lengths expand
    to every network of the next octet boundary (``172.16.0.0/12`` gives ``172.16.*`` .. ``172.31.*``, at
    most 128 entries for a /1)."""
    if network.prefixlen == 32:
        return [str(network.network_address)]
    if network.prefixlen == 0:
        return ["*"]
    boundary = -(-network.prefixlen // 8) * 8
    subnets = list(network.subnets(new_prefix=boundary)) if network.prefixlen != boundary else [network]
    return [".".join(str(subnet.network_address).split(".")[: boundary // 8]) + ".*" for subnet in subnets]


def windows_bypass_from_go(entries: Sequence[str]) -> tuple[list[str], list[str]]:
    """Translate a Go ``no_proxy`` list into the entries WinINet and WinHTTP match the same way.

    Go matches ``example.com`` and its subdomains, ``.example.com`` / ``*.example.com`` subdomains only, and
    CIDRs; Windows matches ``*`` patterns and exact names. The IMDS addresses are left to the modules'
    ``imds_bypass``. Returns (entries, warnings for what Windows cannot express).
    """
    result: list[str] = []
    warnings: list[str] = []

    def add(*items: str) -> None:
        result.extend(item for item in items if item.lower() not in (existing.lower() for existing in result))

    for raw in entries:
        entry = str(raw).strip().lower()
        if not entry or entry in {address.lower() for address in IMDS_BYPASS_ENTRIES}:
            continue
        if entry == "*":
            add("*")
            continue
        if "/" in entry:
            try:
                network = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                warnings.append(f"no_proxy entry '{entry}' is not a valid CIDR; left out of the Windows bypass list")
                continue
            if not isinstance(network, ipaddress.IPv4Network):
                warnings.append(f"no_proxy entry '{entry}' cannot be written as Windows wildcards; list its hosts in ssm_proxy_windows_bypass")
                continue
            add(*_ipv4_cidr_as_wildcards(network))
            continue
        try:
            address = ipaddress.ip_address(entry.strip("[]"))
            add(f"[{address}]" if address.version == 6 else str(address))
            continue
        except ValueError:
            pass
        domain = entry.removeprefix("*.").removeprefix(".")
        if entry.startswith((".", "*.")):
            add(f"*.{domain}")
        else:
            add(*((entry, f"*.{entry}") if ":" not in entry else (entry,)))
    return result, warnings
