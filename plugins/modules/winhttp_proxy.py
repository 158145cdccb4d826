#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is implemented as an action plugin (plugins/action/winhttp_proxy.py); this file documents it.

DOCUMENTATION = r"""
---
module: winhttp_proxy
short_description: Set the WinHTTP default proxy of a Windows host, as netsh does
version_added: 0.1.0
description:
  - Sets or resets the machine-wide WinHTTP default proxy, the setting C(netsh winhttp set proxy) writes and that
    Windows Update, Patch Manager and other services read. It is also the last source the SSM Agent takes its proxy from.
  - Writes the C(WinHttpSettings) value (REG_BINARY) of C(HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\Connections)
    and, for 32-bit programs, of its C(WOW6432Node) copy, byte for byte as C(netsh) on 64-bit Windows writes it.
  - Compares decoded settings, not bytes, so a host already set by C(netsh) to the same proxy and bypass list is unchanged,
    whichever header (0x18 or 0x28) its value has.
  - Reads all the views in one execution and writes only the views that differ.
  - Runs on the controller and changes the host through M(ansible.windows.win_regedit); nothing is written when an option
    or a value on the host is invalid.
options:
  state:
    description:
      - C(present) sets the proxy and bypass list given.
      - C(absent) resets WinHTTP to direct access, as C(netsh winhttp reset proxy) does. A view without the value is left
        alone, because WinHTTP reads a missing value as direct access.
    type: str
    choices: [present, absent]
    default: present
  proxy:
    description:
      - The proxy server, required with O(state=present).
      - A string C(host:port) (or C(http://host:port), stored as C(host:port)) is used for every scheme.
      - Per scheme, as a dict with the keys C(http) and C(https) (see the examples) or a string such as
        C(http=proxy.example.com:3128;https=proxy.example.com:3128). Schemes are C(http), C(https), C(ftp) and C(socks).
      - Prefer the per-scheme form. The SSM Agent reads a plain C(host:port) as its C(http_proxy) only, so when it takes its
        proxy from WinHTTP its HTTPS traffic (all of Systems Manager) goes direct; the module warns.
      - WinHTTP stores no credentials; a URL with C(user:password@) fails. Without a port WinHTTP uses port 80.
    type: raw
  bypass:
    description:
      - Hosts reached without the proxy, stored C(;)-separated. Each entry is a host name, an address, or a pattern with
        C(*) such as C(*.example.com) or C(10.*). C(<local>) bypasses every host name without a dot and is stored last.
      - CIDRs such as C(10.0.0.0/8) fail with the pattern to use instead; Windows never matches them.
      - Duplicates (in any case) are dropped, keeping the first.
    type: list
    elements: str
  imds_bypass:
    description:
      - Add the instance metadata service addresses to O(bypass) C(169.254.169.254), C(fd00:ec2::254) and C([fd00:ec2::254])
        (the bare IPv6 form for the SSM Agent, the bracketed one for .NET).
      - Without them WinHTTP clients ask the proxy for instance metadata and role credentials, which fails with IMDSv2.
    type: bool
    default: true
  views:
    description:
      - The registry views to set. C(native) is read by 64-bit programs, C(wow64) (C(WOW6432Node)) by 32-bit ones.
      - Recent Windows versions write both when C(netsh winhttp set proxy) runs; older ones wrote only the native view.
    type: list
    elements: str
    choices: [native, wow64]
    default: [native, wow64]
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ssm.proxy.backup
  - ssm.proxy.agent_warnings
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
    details: Shows the decoded settings of each view before and after.
  platform:
    platforms: windows
notes:
  - WinHTTP reads the setting when a program asks for it; services that cache it (some do until they restart) see a change
    after their restart. The SSM Agent reads it at service start.
  - The SSM Agent takes its proxy from WinHTTP only when neither its service environment nor LocalSystem's Internet settings
    name one. Configure the agent with M(ssm.proxy.ssm_agent_proxy).
  - This is not the Internet Explorer (WinINet) proxy that PowerShell uses; see M(ssm.proxy.wininet_proxy).
seealso:
  - module: ssm.proxy.wininet_proxy
  - module: ssm.proxy.ssm_agent_proxy
  - module: ansible.windows.win_http_proxy
  - name: Netsh commands for Windows Hypertext Transfer Protocol (WinHTTP)
    description: What C(netsh winhttp set proxy) and C(reset proxy) do.
    link: https://learn.microsoft.com/en-us/windows/win32/winhttp/netsh-exe-commands
author:
  - ssm.proxy maintainers (@ssm-proxy)
"""

EXAMPLES = r"""
- name: Send WinHTTP traffic (Windows Update, Patch Manager) through the corporate proxy
  ssm.proxy.winhttp_proxy:
    proxy:
      http: proxy.example.com:3128
      https: proxy.example.com:3128
    bypass:
      - "*.corp.example.com"
      - 10.*
      - <local>

- name: The same, as netsh would take it (netsh winhttp set proxy proxy-server="http=...;https=...")
  ssm.proxy.winhttp_proxy:
    proxy: http=proxy.example.com:3128;https=proxy.example.com:3128
    bypass: ["*.corp.example.com", "<local>"]

- name: Set only the 64-bit view
  ssm.proxy.winhttp_proxy:
    proxy: {http: proxy.example.com:3128, https: proxy.example.com:3128}
    views: [native]

- name: Reset WinHTTP to direct access (netsh winhttp reset proxy)
  ssm.proxy.winhttp_proxy:
    state: absent
"""

RETURN = r"""
before:
  description:
    - The decoded C(WinHttpSettings) of each managed view before the task; null for a view without the value (direct access).
    - C(enabled) is whether WinHTTP uses the proxy (flag 0x2); C(proxy) and C(bypass) are the stored strings; C(header),
      C(counter) and C(flags) are the raw fields.
  returned: success
  type: dict
  sample:
    native: {enabled: false, proxy: "", bypass: "", header: 24, counter: 0, flags: 1}
    wow64: null
after:
  description: The decoded settings of each managed view after the task (or as they would be, in check mode).
  returned: success
  type: dict
  sample:
    native:
      enabled: true
      proxy: http=proxy.example.com:3128;https=proxy.example.com:3128
      bypass: "*.corp.example.com;169.254.169.254;fd00:ec2::254;[fd00:ec2::254];<local>"
      header: 40
      counter: 0
      flags: 3
changed_views:
  description: The views whose value was (or, in check mode, would be) written.
  returned: success
  type: list
  elements: str
  sample: [native, wow64]
backup:
  description: Where the previous values were saved, and whether this run saved them (false when a backup already existed).
  returned: when O(backup=true)
  type: dict
  sample:
    key: HKLM:\SOFTWARE\ssm.proxy\Backup
    name: winhttp_proxy
    saved: true
"""
