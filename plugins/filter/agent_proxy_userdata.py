# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filter ssm.proxy.agent_proxy_userdata: EC2 user data that gives the SSM Agent its proxy at first boot."""

from __future__ import annotations

DOCUMENTATION = r"""
name: agent_proxy_userdata
author:
  - ssm.proxy maintainers (@ssm-proxy)
version_added: 0.1.0
short_description: EC2 user data that sets the SSM Agent's proxy when a Windows instance launches
description:
  - Renders EC2 user data (C(<powershell>...</powershell>)) that writes C(http_proxy), C(https_proxy) and C(no_proxy)
    into the C(Environment) value (REG_MULTI_SZ) of C(HKLM\SYSTEM\CurrentControlSet\Services\AmazonSSMAgent) and restarts
    C(AmazonSSMAgent), for instances that cannot reach Systems Manager until the proxy is set and that Ansible cannot
    reach over WinRM either.
  - The values are validated and normalised exactly as M(ssm.proxy.ssm_agent_proxy) does (C(http://) added, IE-style
    wildcards refused with the CIDR to use, the instance metadata addresses added to C(no_proxy)), so the role finds the
    instance compliant afterwards and does not restart the agent again.
  - Every other line of the C(Environment) value is kept, in order; a proxy variable is replaced where it stood.
  - Values reach the script only as PowerShell single-quoted strings with their quotes doubled; no value is ever part of
    the script's code.
  - Only the agent's own proxy is set. WinINet (Run Command) and WinHTTP (Patch Manager) follow when the
    M(ssm.proxy.agent_proxy) role runs over C(amazon.aws.aws_ssm) once the agent is online.
positional: _input
options:
  _input:
    description: The proxy, C(http://host:port); without credentials (see O(proxy_username)).
    type: string
    required: true
  no_proxy:
    description: Hosts the agent reaches directly, as for M(ssm.proxy.ssm_agent_proxy) (domains, IPs, CIDRs).
    type: list
    elements: string
    default: []
  imds_bypass:
    description: Add the instance metadata addresses C(169.254.169.254) and C(fd00:ec2::254) to C(no_proxy).
    type: boolean
    default: true
  proxy_username:
    description: User name for the proxy. Requires O(proxy_password).
    type: string
  proxy_password:
    description:
      - Password for the proxy, percent-encoded into the proxy URL as M(ssm.proxy.ssm_agent_proxy) writes it.
      - User data is B(not secret) - anyone allowed C(ec2:DescribeInstanceAttribute), and every process on the instance
        through instance metadata, can read it. Prefer a proxy that admits the instances' addresses without credentials
        for the first boot, and set credentials afterwards with the role.
    type: string
  restart:
    description: Restart C(AmazonSSMAgent) after writing, so it reads the new environment (it reads it only at start).
    type: boolean
    default: true
  persist:
    description: Add C(<persist>true</persist>) so that EC2Launch runs the script at every boot (it then restarts the agent only when the value changed).
    type: boolean
    default: false
notes:
  - EC2Launch v2 (Windows Server 2022 and later AMIs), EC2Launch v1 and EC2Config all run C(<powershell>) user data as
    LocalSystem at first boot; its output goes to their logs (the password shown as C(********)).
  - The script ends with an error (logged by EC2Launch) when the agent is not installed.
seealso:
  - module: ssm.proxy.ssm_agent_proxy
  - module: amazon.aws.ec2_instance
  - name: Run commands when you launch an EC2 instance with user data input
    description: How Windows instances run user data.
    link: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html
"""

EXAMPLES = r"""
- name: Launch a Windows instance whose agent reaches Systems Manager through the proxy from its first boot
  amazon.aws.ec2_instance:
    name: web01
    image_id: "{{ windows_2022_ami }}"
    instance_type: t3.medium
    vpc_subnet_id: subnet-0123456789abcdef0
    iam_instance_profile: AmazonSSMRoleForInstancesQuickSetup
    user_data: >-
      {{ 'http://proxy.example.com:3128' | ssm.proxy.agent_proxy_userdata(no_proxy=['.corp.example.com', '10.0.0.0/8']) }}
    state: running
  delegate_to: localhost

- name: Write the user data for a launch template or CloudFormation (EC2 takes it base64-encoded there)
  ansible.builtin.copy:
    dest: build/windows-user-data.b64
    mode: "0644"
    content: "{{ ssm_proxy_url | ssm.proxy.agent_proxy_userdata(no_proxy=ssm_proxy_no_proxy) | b64encode }}"
  delegate_to: localhost
"""

RETURN = r"""
_value:
  description: The user data, C(<powershell>) to C(</powershell>) (and C(<persist>) when asked), ending with a newline.
  type: string
  sample: |
    <powershell>
    # ssm.proxy agent_proxy_userdata: the SSM Agent's proxy at launch
    $ErrorActionPreference = 'Stop'
    $ssmProxyVariables = [ordered]@{}
    $ssmProxyVariables['http_proxy'] = 'http://proxy.example.com:3128'
    ...
    </powershell>
"""

import typing as t

from ansible.errors import AnsibleFilterError

from ..plugin_utils._environment import PROXY_VARIABLES
from ..plugin_utils._proxy import ProxyInputError, normalise_bypass_list, parse_proxy_url, redact
from .runcommand_proxy_preamble import ps_quote

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


class FilterModule:
    """ssm.proxy filters."""

    def filters(self) -> dict[str, t.Callable[..., str]]:
        return {"agent_proxy_userdata": agent_proxy_userdata}
