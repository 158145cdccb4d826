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

import typing as t


def runcommand_proxy_preamble(
    proxy: t.Any, bypass: t.Sequence[str] | None = None, imds_bypass: bool = True,
    username: str | None = None, password: str | None = None, default_credentials: bool = False,
) -> str:
    """Render the preamble; raise AnsibleFilterError naming the option on bad input (never showing a password)."""
    # Imported when called: ansible-core loads every ssm.proxy filter file in each worker process that uses any of
    # them (Jinja2Loader.get_with_context scans them all), so what a filter file imports at its top, every such task pays.
    from ansible_collections.ssm.proxy.plugins.plugin_utils._preamble import runcommand_proxy_preamble as implementation

    return implementation(proxy, bypass, imds_bypass, username, password, default_credentials)


class FilterModule:
    """ssm.proxy filters."""

    def filters(self) -> dict[str, t.Callable[..., str]]:
        return {"runcommand_proxy_preamble": runcommand_proxy_preamble}
