# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""EC2 user data that sets the SSM Agent's proxy at launch (the filter ssm.proxy.agent_proxy_userdata).

Private to the ssm.proxy collection (internal use): no compatibility promises. In plugin_utils rather than in the
filter file, which ansible-core loads in every worker process that uses any ssm.proxy filter.
"""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.ssm.proxy.plugins.plugin_utils._environment import PROXY_VARIABLES
from ansible_collections.ssm.proxy.plugins.plugin_utils._proxy import ProxyInputError, normalise_bypass_list, parse_proxy_url, redact
from ansible_collections.ssm.proxy.plugins.plugin_utils._preamble import ps_quote

SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"
# EC2Launch/EC2Config cut the script out of the user data at these tags; a value holding one would cut it short.
USER_DATA_TAGS = ("<powershell>", "</powershell>", "<persist>", "</persist>", "<script>", "</script>")

# The merge of ssm.proxy's plugin_utils/_environment.py set_variables(), in PowerShell: a wanted variable replaces
# its first line (any case of the name) unless that line already holds the wanted value, further lines of that name
# go, new ones are appended, a $null value removes the variable, other lines are kept.
_SCRIPT_BODY = r"""$serviceKey = {service_key}
$service = Get-Service -Name AmazonSSMAgent -ErrorAction SilentlyContinue
if (-not $service) {{
    throw 'ssm.proxy: the AmazonSSMAgent service is not installed; install the SSM Agent before this user data runs'
}}
$before = [string[]]@((Get-ItemProperty -LiteralPath $serviceKey -Name Environment -ErrorAction SilentlyContinue).Environment)
$after = [System.Collections.Generic.List[string]]::new()
$placed = @{{}}
foreach ($line in $before) {{
    if ([string]::IsNullOrEmpty($line)) {{ continue }}
    $name = ($line -split '=', 2)[0].ToLowerInvariant()
    if (-not $line.Contains('=') -or -not $ssmProxyVariables.Contains($name)) {{
        $after.Add($line)
        continue
    }}
    if (-not $placed.ContainsKey($name) -and $null -ne $ssmProxyVariables[$name]) {{
        # A line that already holds the wanted value keeps its bytes (variable names are case-insensitive).
        if (($line -split '=', 2)[1] -ceq $ssmProxyVariables[$name]) {{ $after.Add($line) }}
        else {{ $after.Add($name + '=' + $ssmProxyVariables[$name]) }}
    }}
    $placed[$name] = $true
}}
foreach ($name in $ssmProxyVariables.Keys) {{
    if (-not $placed.ContainsKey($name) -and $null -ne $ssmProxyVariables[$name]) {{
        $after.Add($name + '=' + $ssmProxyVariables[$name])
    }}
}}
$changed = ($before -join "`n") -cne ($after -join "`n")
if ($changed) {{
    New-ItemProperty -LiteralPath $serviceKey -Name Environment -PropertyType MultiString -Value $after.ToArray() -Force | Out-Null
}}
Write-Output ('ssm.proxy: AmazonSSMAgent Environment ' + $(if ($changed) {{ 'updated' }} else {{ 'already set' }}) + ': ' + $ssmProxyShown)
if ({restart} -and ($changed -or $service.Status -ne 'Running')) {{
    Restart-Service -Name AmazonSSMAgent -Force
    Write-Output 'ssm.proxy: AmazonSSMAgent restarted'
}}
"""


def agent_variables(
    proxy: t.Any, no_proxy: t.Any, imds_bypass: bool, proxy_username: t.Any, proxy_password: t.Any
) -> dict[str, str | None]:
    """The three variables as ssm.proxy.ssm_agent_proxy writes them (same parsing, encoding and no_proxy rules).

    None removes a variable, as the module does for an empty no_proxy.
    """
    if isinstance(no_proxy, str) or not isinstance(no_proxy, (list, tuple)):
        raise ProxyInputError("no_proxy", "must be a list of hosts, domains and CIDRs")
    if (proxy_username is None) != (proxy_password is None):
        raise ProxyInputError("proxy_password", "and proxy_username go together; give both, or neither")
    url = parse_proxy_url("proxy", proxy, proxy_username, proxy_password)
    bypass = normalise_bypass_list("no_proxy", list(no_proxy), imds_bypass)
    return {"http_proxy": url.url(), "https_proxy": url.url(), "no_proxy": ",".join(bypass) if bypass else None}


def render_script(variables: dict[str, str | None], restart: bool) -> str:
    """The PowerShell that merges ``variables`` into the agent's Environment value; values only as quoted strings."""
    unknown = set(variables) - set(PROXY_VARIABLES)
    if unknown:
        raise ValueError(f"not agent proxy variables: {sorted(unknown)}")
    lines = [
        "# ssm.proxy agent_proxy_userdata: the SSM Agent's proxy at launch",
        "$ErrorActionPreference = 'Stop'",
        "$ssmProxyVariables = [ordered]@{}",
    ]
    lines.extend(
        f"$ssmProxyVariables[{ps_quote(name)}] = {'$null' if value is None else ps_quote(value)}" for name, value in variables.items()
    )
    shown = " ".join(f"{name}={redact(value)}" for name, value in variables.items() if value is not None)
    lines.append(f"$ssmProxyShown = {ps_quote(shown)}")
    body = _SCRIPT_BODY.format(service_key=ps_quote(SERVICE_KEY), restart="$true" if restart else "$false")
    return "\n".join(lines) + "\n" + body


def wrap_user_data(script: str, persist: bool) -> str:
    """``<powershell>`` user data; refuse a script that holds a tag EC2Launch would cut it at."""
    lowered = script.lower()
    found = [tag for tag in USER_DATA_TAGS if tag in lowered]
    if found:
        raise ValueError(f"the script contains {found[0]}, which would end the user data early")
    return "<powershell>\n" + script + "</powershell>\n" + ("<persist>true</persist>\n" if persist else "")


def agent_proxy_userdata(
    proxy: t.Any,
    no_proxy: t.Any = None,
    imds_bypass: bool = True,
    proxy_username: t.Any = None,
    proxy_password: t.Any = None,
    restart: bool = True,
    persist: bool = False,
) -> str:
    """Render the user data; raise AnsibleFilterError naming the option (never showing a password)."""
    try:
        variables = agent_variables(proxy, [] if no_proxy is None else no_proxy, bool(imds_bypass), proxy_username, proxy_password)
        return wrap_user_data(render_script(variables, bool(restart)), bool(persist))
    except (ProxyInputError, ValueError) as error:
        raise AnsibleFilterError(f"agent_proxy_userdata: {redact(str(error))}") from None
