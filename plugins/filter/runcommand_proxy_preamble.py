# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filter ssm.proxy.runcommand_proxy_preamble: PowerShell lines that give one script a proxy."""

from __future__ import annotations

DOCUMENTATION = r"""
name: runcommand_proxy_preamble
author:
  - ssm.proxy maintainers (@ssm-proxy)
version_added: 0.1.0
short_description: PowerShell lines that make a Run Command script use a proxy
description:
  - Renders the lines to put at the top of an C(aws:runPowerShellScript) document (or any Windows PowerShell script) so
    that its .NET web requests (C(Invoke-WebRequest), C(Invoke-RestMethod), C(System.Net.WebClient)) go through a proxy,
    for operators who cannot change the host's persistent settings (see M(ssm.proxy.wininet_proxy)).
  - The lines set C([System.Net.WebRequest]::DefaultWebProxy) to a C(System.Net.WebProxy) for this PowerShell session only.
  - The bypass list is written the way Windows writes it in the Internet settings (C(*.example.com), C(10.*), C(<local>));
    each entry is turned into the regular expression .NET builds from those settings, because C(WebProxy) takes regular
    expressions.
  - Every value is a PowerShell single-quoted string with its quotes doubled, so no value can end the string or run code.
positional: _input
options:
  _input:
    description:
      - The proxy, C(http://host:port) or C(host:port). .NET talks to a proxy in plain HTTP, so C(https://) fails.
    type: string
    required: true
  bypass:
    description:
      - Hosts reached without the proxy, as in the Internet settings. C(<local>) bypasses host names without a dot.
    type: list
    elements: string
    default: []
  imds_bypass:
    description:
      - Bypass the instance metadata service (C(169.254.169.254) and C([fd00:ec2::254])), so that AWS credentials of the
        instance role are not requested through the proxy.
    type: boolean
    default: true
  username:
    description:
      - User name for the proxy; C(DOMAIN\user) sets the domain too. Requires O(password).
    type: string
  password:
    description:
      - Password for the proxy. It is written in clear into the script, so mark the task that sends it C(no_log).
    type: string
  default_credentials:
    description:
      - Authenticate to the proxy as the account the script runs as (the computer account for LocalSystem), with
        Kerberos or NTLM. Not with O(username).
    type: boolean
    default: false
notes:
  - Only this PowerShell session is affected; the SSM Agent, WinHTTP and other processes are not.
  - The lines need Windows PowerShell 5.1 or .NET Framework; PowerShell 7 uses C(HttpClient), which takes
    C([System.Net.Http.HttpClient]::DefaultProxy) instead.
seealso:
  - module: ssm.proxy.wininet_proxy
  - name: WebProxy class
    description: The .NET class the preamble configures.
    link: https://learn.microsoft.com/en-us/dotnet/api/system.net.webproxy
"""

EXAMPLES = r"""
- name: Write a Run Command script whose downloads go through the proxy, without changing the host's settings
  ansible.builtin.copy:
    dest: build/download.ps1
    mode: "0644"
    content: |
      {{ 'http://proxy.example.com:3128' | ssm.proxy.runcommand_proxy_preamble(bypass=['*.corp.example.com', '<local>']) }}
      Invoke-WebRequest -Uri https://example.com/setup.msi -OutFile C:\Windows\Temp\setup.msi -UseBasicParsing
  delegate_to: localhost

- name: Prepend the preamble, with proxy credentials from a vault, to the commands of an aws:runPowerShellScript document
  ansible.builtin.set_fact:
    run_command_commands:
      - "{{ 'proxy.example.com:3128' | ssm.proxy.runcommand_proxy_preamble(username='CORP\\svc-ssm', password=vault_proxy_password) }}"
      - "{{ lookup('ansible.builtin.file', 'scripts/patch.ps1') }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: The PowerShell lines, each ending with a newline.
  type: string
  sample: |
    # Proxy for this script's .NET web requests (rendered by ssm.proxy.runcommand_proxy_preamble)
    $ssmProxyBypass = [string[]]@(
        '^(?:.*://)?.*\.corp\.example\.com(?::[0-9]{1,5})?$'
        '^(?:.*://)?169\.254\.169\.254(?::[0-9]{1,5})?$'
        '^(?:.*://)?\[fd00:ec2::254](?::[0-9]{1,5})?$'
    )
    $ssmProxy = New-Object -TypeName System.Net.WebProxy -ArgumentList 'http://proxy.example.com:3128', $true, $ssmProxyBypass
    [System.Net.WebRequest]::DefaultWebProxy = $ssmProxy
"""

import re
import typing as t

from ansible.errors import AnsibleFilterError

from ..plugin_utils._proxy import IMDS_ADDRESSES, ProxyInputError, parse_proxy_url
from ..plugin_utils._winproxy import LOCAL, normalise_bypass_entry

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


class FilterModule:
    """ssm.proxy filters."""

    def filters(self) -> dict[str, t.Callable[..., str]]:
        return {"runcommand_proxy_preamble": runcommand_proxy_preamble}
