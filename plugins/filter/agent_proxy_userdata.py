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


def agent_proxy_userdata(
    proxy: t.Any, no_proxy: t.Any = None, imds_bypass: bool = True, proxy_username: t.Any = None,
    proxy_password: t.Any = None, restart: bool = True, persist: bool = False,
) -> str:
    """Render the user data; raise AnsibleFilterError naming the option (never showing a password)."""
    # Imported when called: ansible-core loads every ssm.proxy filter file in each worker process that uses any of
    # them (Jinja2Loader.get_with_context scans them all), so what a filter file imports at its top, every such task pays.
    from ansible_collections.ssm.proxy.plugins.plugin_utils._userdata import agent_proxy_userdata as implementation

    return implementation(proxy, no_proxy, imds_bypass, proxy_username, proxy_password, restart, persist)


class FilterModule:
    """ssm.proxy filters."""

    def filters(self) -> dict[str, t.Callable[..., str]]:
        return {"agent_proxy_userdata": agent_proxy_userdata}
