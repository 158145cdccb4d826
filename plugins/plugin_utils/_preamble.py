# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A PowerShell preamble that gives one script's .NET web requests a proxy (the filter ssm.proxy.runcommand_proxy_preamble).

Private to the ssm.proxy collection (internal use): no compatibility promises. In plugin_utils rather than in the
filter file, which ansible-core loads in every worker process that uses any ssm.proxy filter.
"""

from __future__ import annotations

import re
import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.ssm.proxy.plugins.plugin_utils._proxy import IMDS_ADDRESSES, ProxyInputError, parse_proxy_url
from ansible_collections.ssm.proxy.plugins.plugin_utils._winproxy import LOCAL, normalise_bypass_entry

# .NET matches bypass regexes against "scheme://host[:port]" with Uri.Host, which keeps IPv6 brackets.
IMDS_DOTNET = (IMDS_ADDRESSES[0], f"[{IMDS_ADDRESSES[1]}]")
# PowerShell ends a single-quoted string at any of these, and reads any of them doubled as one literal quote
# (the tokenizer's IsSingleQuote: ' and the curly quotes U+2018 to U+201B).
_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
# WebProxyDataBuilder.BypassStringEscape (.NET Framework): how .NET turns an Internet-settings bypass entry
# into a regular expression: split scheme/host/port, escape the reserved characters, '*' becomes '.*'.
_BYPASS_PARTS_RE = re.compile(r"^(?P<scheme>.*://)?(?P<host>[^:]*)(?P<port>:[0-9]{1,5})?$", re.IGNORECASE)
_REGEX_RESERVED = "#$()+.?[\\^{|"


def ps_quote(value: str) -> str:
    """A PowerShell single-quoted (verbatim) string of ``value``: nothing in it is expanded or run."""
    return "'" + "".join(char * 2 if char in _SINGLE_QUOTES else char for char in value) + "'"


def _convert_reserved(text: str) -> str:
    return "".join("\\" + char if char in _REGEX_RESERVED else (".*" if char == "*" else char) for char in text)


def bypass_regex(entry: str) -> str:
    """The regular expression .NET builds from one bypass entry of the Internet settings."""
    match = _BYPASS_PARTS_RE.match(entry)
    scheme, host, port = (match.group("scheme") or "", match.group("host"), match.group("port") or "") if match else ("", entry, "")
    scheme, host, port = _convert_reserved(scheme), _convert_reserved(host), _convert_reserved(port)
    return "^" + (scheme or "(?:.*://)?") + host + (port or "(?::[0-9]{1,5})?") + "$"


def _check_text(option: str, value: t.Any) -> str:
    if not isinstance(value, str) or not value:
        raise AnsibleFilterError(f"runcommand_proxy_preamble: {option} must be a non-empty string")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise AnsibleFilterError(f"runcommand_proxy_preamble: {option} contains a control character; remove it")
    return value


def runcommand_proxy_preamble(
    proxy: t.Any,
    bypass: t.Sequence[str] | None = None,
    imds_bypass: bool = True,
    username: str | None = None,
    password: str | None = None,
    default_credentials: bool = False,
) -> str:
    """Render the preamble; raise AnsibleFilterError naming the option on bad input (never showing a password)."""
    try:
        url = parse_proxy_url("proxy", proxy)
        if url.username is not None:
            raise ProxyInputError("proxy", "has credentials in the URL; pass username= and password= instead")
        if url.scheme != "http":
            raise ProxyInputError("proxy", "uses https://; .NET talks to a proxy in plain HTTP (HTTPS goes through it with CONNECT), write http://")
        if isinstance(bypass, str) or not isinstance(bypass, (list, tuple, type(None))):
            raise ProxyInputError("bypass", "must be a list of host names and patterns")
        entries = [normalise_bypass_entry("bypass", entry, (LOCAL,)) for entry in (bypass or [])]
    except ProxyInputError as error:
        raise AnsibleFilterError(f"runcommand_proxy_preamble: {error}") from None
    if (username is None) != (password is None):
        raise AnsibleFilterError("runcommand_proxy_preamble: username and password go together; give both, or neither")
    if username is not None and default_credentials:
        raise AnsibleFilterError("runcommand_proxy_preamble: default_credentials and username exclude each other; choose one")

    bypass_local = LOCAL in entries
    hosts = [entry for entry in entries if entry != LOCAL]
    if imds_bypass:
        hosts.extend(address for address in IMDS_DOTNET if address not in hosts)
    address = f"http://{url.host}" + ("" if url.port is None else f":{url.port}")
    lines = ["# Proxy for this script's .NET web requests (rendered by ssm.proxy.runcommand_proxy_preamble)"]
    if hosts:
        lines.append("$ssmProxyBypass = [string[]]@(")
        lines.extend(f"    {ps_quote(bypass_regex(entry))}" for entry in dict.fromkeys(hosts))
        lines.append(")")
    else:
        lines.append("$ssmProxyBypass = [string[]]@()")
    # WebProxy(string Address, bool BypassOnLocal, string[] BypassList); BypassOnLocal is what <local> means.
    lines.append(
        f"$ssmProxy = New-Object -TypeName System.Net.WebProxy -ArgumentList {ps_quote(address)}, ${str(bypass_local).lower()}, $ssmProxyBypass"
    )
    if username is not None:
        user = _check_text("username", username)
        secret = _check_text("password", password)
        domain, backslash, name = user.rpartition("\\")
        credential_args = [name, secret, domain] if backslash else [user, secret]
        quoted = ", ".join(ps_quote(argument) for argument in credential_args)
        lines.append(f"$ssmProxy.Credentials = New-Object -TypeName System.Net.NetworkCredential -ArgumentList {quoted}")
    elif default_credentials:
        lines.append("$ssmProxy.UseDefaultCredentials = $true")
    lines.append("[System.Net.WebRequest]::DefaultWebProxy = $ssmProxy")
    return "".join(f"{line}\n" for line in lines)
