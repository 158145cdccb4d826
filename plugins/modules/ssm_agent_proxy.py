#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is implemented as an action plugin (plugins/action/ssm_agent_proxy.py); this file documents it.

DOCUMENTATION = r"""
---
module: ssm_agent_proxy
short_description: Set the AWS Systems Manager Agent's own proxy on Windows
version_added: 0.1.0
description:
  - Sets or resets C(http_proxy), C(https_proxy) and C(no_proxy) in the C(Environment) value (REG_MULTI_SZ) of
    C(HKLM\SYSTEM\CurrentControlSet\Services\AmazonSSMAgent), the first of the sources the agent documents for its proxy.
  - Windows merges that value into the service's environment when the service starts, so the agent uses a change only
    after C(AmazonSSMAgent) restarts. The module does not restart it; it returns RV(restart_required) for a handler.
  - Only the three proxy variables are managed, whatever the case of their names; every other line of the value keeps
    its bytes and its order. The value is removed only when nothing else is left in it.
  - Values are written the way the agent's Go HTTP stack reads them, and inputs it would silently misread are refused.
    C(http://) is added to a proxy without a scheme; IE-style wildcards such as C(10.*) fail with the CIDR to use
    (C(10.0.0.0/8)); C(<local>) fails; bracketed IPv6 addresses are written without brackets; duplicates are dropped.
  - The host is read once and written at most once; nothing is written when the value already matches.
  - Runs on the controller and changes the host through M(ansible.windows.win_reg_stat) and M(ansible.windows.win_regedit).
options:
  state:
    description:
      - C(present) sets the proxy variables to the values given; a variable with no value is removed.
      - C(absent) removes C(http_proxy), C(https_proxy) and C(no_proxy) and leaves every other line.
    type: str
    choices: [present, absent]
    default: present
  proxy:
    description:
      - The proxy for both C(http_proxy) and C(https_proxy), as C(http://[user:password@]host:port).
      - A value without a scheme gets C(http://). Only C(http://) and C(https://) are accepted; C(https://) makes the agent
        speak TLS to the proxy itself and Session Manager cannot use it, so it warns.
      - Credentials in the URL are percent-encoded as needed; prefer O(proxy_username) and O(proxy_password).
      - Required with O(state=present) unless O(http_proxy) or O(https_proxy) is set.
    type: str
  http_proxy:
    description:
      - The proxy for plain HTTP requests, overriding O(proxy) for C(http_proxy). Same format as O(proxy).
    type: str
  https_proxy:
    description:
      - The proxy for HTTPS requests, overriding O(proxy) for C(https_proxy). Same format as O(proxy).
      - Go uses only C(https_proxy) for HTTPS, and all Systems Manager traffic is HTTPS. Without it (and without O(proxy))
        the agent goes direct, and the module warns.
    type: str
  no_proxy:
    description:
      - Hosts the agent reaches directly. Each entry is C(*), an IP address, a CIDR (C(10.0.0.0/8)), C(host:port),
        a domain (C(example.com) matches itself and its subdomains) or C(.example.com) / C(*.example.com) (subdomains only).
      - Entries are lowercased and written comma-separated; duplicates are dropped, keeping the first.
      - C(localhost) and loopback addresses are always bypassed by the agent and need not be listed.
    type: list
    elements: str
  imds_bypass:
    description:
      - Add the instance metadata service addresses C(169.254.169.254) and C(fd00:ec2::254) to C(no_proxy).
      - Without them the agent asks the proxy for its instance role credentials, which fails with IMDSv2.
    type: bool
    default: true
  proxy_username:
    description:
      - User name for the proxy, added to every proxy URL that has no credentials of its own.
    type: str
  proxy_password:
    description:
      - Password for the proxy, used with O(proxy_username). It is never shown in output, diffs or results.
      - It is stored in the registry value, readable by administrators, and the agent writes it to its log at startup.
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ssm.proxy.backup
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the lines of the C(Environment) value before and after, with passwords replaced by C(********).
  platform:
    platforms: windows
notes:
  - The agent evaluates its proxy once, at service start. Restart C(AmazonSSMAgent) after a change (see the examples),
    or use the C(ssm.proxy.agent_proxy) role, which restarts, verifies and rolls back.
  - Passwords appear in clear in the registry value and in the agent's startup log on the host.
  - Agent updates have been reported to remove the C(Environment) value; running this module on a schedule puts it back.
seealso:
  - name: Configure SSM Agent to use a proxy (Windows)
    description: The AWS procedure this module implements.
    link: https://docs.aws.amazon.com/systems-manager/latest/userguide/configure-proxy-ssm-agent-windows.html
  - module: ansible.windows.win_regedit
author:
  - ssm.proxy maintainers (@ssm-proxy)
"""

EXAMPLES = r"""
- name: Send the agent's traffic through the corporate proxy
  ssm.proxy.ssm_agent_proxy:
    proxy: http://proxy.example.com:3128
    no_proxy:
      - .corp.example.com
      - 10.0.0.0/8
  notify: Restart the SSM Agent

- name: Authenticate to the proxy with a password kept in a vault
  ssm.proxy.ssm_agent_proxy:
    proxy: http://proxy.example.com:3128
    proxy_username: svc-ssm
    proxy_password: "{{ vault_proxy_password }}"
  notify: Restart the SSM Agent

- name: Use different proxies for HTTP and HTTPS
  ssm.proxy.ssm_agent_proxy:
    http_proxy: http://web-proxy.example.com:8080
    https_proxy: http://tls-proxy.example.com:3128
  notify: Restart the SSM Agent

- name: Reset the agent to direct access (keeps any other Environment lines)
  ssm.proxy.ssm_agent_proxy:
    state: absent
  notify: Restart the SSM Agent

# In the play's handlers:
# - name: Restart the SSM Agent
#   ansible.windows.win_service:
#     name: AmazonSSMAgent
#     state: restarted
"""

RETURN = r"""
before:
  description: The three proxy variables before the task, passwords replaced by C(********); null where unset.
  returned: success
  type: dict
  sample:
    http_proxy: null
    https_proxy: null
    no_proxy: null
after:
  description: The three proxy variables after the task (or as they would be, in check mode), passwords replaced.
  returned: success
  type: dict
  sample:
    http_proxy: http://svc-ssm:********@proxy.example.com:3128
    https_proxy: http://svc-ssm:********@proxy.example.com:3128
    no_proxy: .corp.example.com,10.0.0.0/8,169.254.169.254,fd00:ec2::254
restart_required:
  description: Whether the C(Environment) value changed, so C(AmazonSSMAgent) must restart to use it.
  returned: success
  type: bool
  sample: true
backup:
  description: Where the previous values were saved, and whether this run saved them (false when a backup already existed).
  returned: when O(backup=true)
  type: dict
  sample:
    key: HKLM:\SOFTWARE\ssm.proxy\Backup
    name: ssm_agent_proxy
    saved: true
"""
