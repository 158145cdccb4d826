#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is implemented as an action plugin (plugins/action/wininet_proxy.py); this file documents it.

DOCUMENTATION = r"""
---
module: wininet_proxy
short_description: Set the WinINet (Internet Explorer) proxy of LocalSystem, the machine or users on Windows
version_added: 0.1.0
description:
  - Sets or resets the WinINet proxy settings, the ones of Internet Options' LAN settings. PowerShell and .NET
    (C(System.Net.WebRequest), C(Invoke-WebRequest), C(WebClient)) read them for the user they run as, so the scripts that
    Run Command runs as LocalSystem use LocalSystem's. They are also the SSM Agent's fourth proxy source.
  - Writes the registry directly, without the API that M(ansible.windows.win_inet_proxy) calls for the connecting user, so no
    C(become) is needed to set LocalSystem's or another user's settings.
  - Keeps the C(DefaultConnectionSettings) blob, its C(SavedLegacySettings) copy (when it exists) and the legacy values
    C(ProxyEnable), C(ProxyServer), C(ProxyOverride) and C(AutoConfigURL) consistent, as Windows does on a save. The blob's
    version and its automatic-detection cache are kept byte for byte and its change counter goes up by one.
  - Compares decoded settings, so settings saved by Windows with the same values are unchanged. Reads everything in one
    execution and writes only the values that differ, through M(ansible.windows.win_regedit); nothing is written when an option
    or a value on the host is invalid.
options:
  state:
    description:
      - C(present) sets the proxy, the automatic configuration script and automatic detection as given; what is not given
        is turned off and its string emptied.
      - C(absent) resets to direct access (no proxy, no script), with automatic detection as O(auto_detect) says (off by default).
        With O(scope=machine) it also removes the C(ProxySettingsPerUser=0) policy, so users get their own settings back.
    type: str
    choices: [present, absent]
    default: present
  proxy:
    description:
      - The proxy server (C(Use a proxy server for your LAN)).
      - A string C(host:port) (or C(http://host:port), stored as C(host:port)) is used for every scheme.
      - Per scheme, as a dict with the keys C(http) and C(https) (see the examples) or a string such as
        C(http=proxy.example.com:3128;https=proxy.example.com:3128). Schemes are C(http), C(https), C(ftp) and C(socks).
      - Prefer the per-scheme form for LocalSystem. The SSM Agent reads a plain C(host:port) as its C(http_proxy) only, so when
        it takes its proxy from these settings its HTTPS traffic (all of Systems Manager) goes direct; the module warns.
      - WinINet stores no credentials here; a URL with C(user:password@) fails.
    type: raw
  bypass:
    description:
      - Hosts reached without the proxy, stored C(;)-separated; only with O(proxy). Each entry is a host name, an address, or a
        pattern with C(*) such as C(*.example.com) or C(10.*).
      - C(<local>) bypasses host names without a dot (C(Bypass proxy server for local addresses)); C(<-loopback>) stops the
        implicit bypass of loopback addresses. Macros are stored last, as the dialog does.
      - CIDRs such as C(10.0.0.0/8) fail with the pattern to use instead; Windows never matches them.
    type: list
    elements: str
  imds_bypass:
    description:
      - With O(proxy), add the instance metadata service addresses C(169.254.169.254), C(fd00:ec2::254) and C([fd00:ec2::254])
        to O(bypass) (the bare IPv6 form for the SSM Agent, the bracketed one for .NET).
      - Without them PowerShell asks the proxy for instance metadata and role credentials, which fails with IMDSv2.
    type: bool
    default: true
  auto_detect:
    description:
      - C(Automatically detect settings) (WPAD). Off by default, unlike M(ansible.windows.win_inet_proxy), because on a server
        WPAD lookups delay requests and let the network choose the proxy.
    type: bool
    default: false
  auto_config_url:
    description:
      - The URL of a proxy auto-config (PAC) script (C(Use automatic configuration script)), C(http://) or C(https://).
      - The SSM Agent ignores it; PowerShell uses it.
    type: str
  scope:
    description:
      - Whose settings to set.
      - C(local_system) (LocalSystem, C(HKU\S-1-5-18), the same hive as C(HKU\.DEFAULT)) is what Run Command's scripts and the
        SSM Agent read.
      - C(machine) writes C(HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings) and sets the policy
        C(ProxySettingsPerUser=0), after which WinINet uses these settings for every user and ignores per-user ones. That
        includes C(ssm-user), as whom the M(amazon.aws.aws_ssm) connection downloads each command from S3; the module warns.
      - A list of user SIDs (C(S-1-5-21-...)) sets those users' settings. Their profile must be loaded (the user logged on).
    type: raw
    default: local_system
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
    details: Shows the decoded settings and the legacy values of each scope before and after.
  platform:
    platforms: windows
notes:
  - A new PowerShell process reads the settings when it starts, so every Run Command script after the change uses them.
    Running programs that cache WinINet settings see them after a restart.
  - A user without a C(DefaultConnectionSettings) value gets automatic detection from WinINet, not direct access; the module
    therefore writes the value even when the settings asked for are Windows' defaults.
  - When the policy C(ProxySettingsPerUser) is 0, per-user settings are ignored; the module warns when it sets them anyway.
  - For the SSM Agent's own proxy use M(ssm.proxy.ssm_agent_proxy); for WinHTTP (Windows Update, Patch Manager) use
    M(ssm.proxy.winhttp_proxy).
seealso:
  - module: ssm.proxy.winhttp_proxy
  - module: ssm.proxy.ssm_agent_proxy
  - module: ansible.windows.win_inet_proxy
  - name: Configure SSM Agent to use a proxy (Windows)
    description: The AWS procedure, which lists the Internet Explorer settings of LocalSystem among the agent's proxy sources.
    link: https://docs.aws.amazon.com/systems-manager/latest/userguide/configure-proxy-ssm-agent-windows.html
author:
  - ssm.proxy maintainers (@ssm-proxy)
"""

EXAMPLES = r"""
- name: Give Run Command's PowerShell (LocalSystem) the corporate proxy
  ssm.proxy.wininet_proxy:
    proxy:
      http: proxy.example.com:3128
      https: proxy.example.com:3128
    bypass:
      - "*.corp.example.com"
      - <local>

- name: Use a PAC script for LocalSystem, with automatic detection off
  ssm.proxy.wininet_proxy:
    auto_config_url: http://wpad.corp.example.com/proxy.pac

- name: Set the proxy of two logged-on users
  ssm.proxy.wininet_proxy:
    proxy: http=proxy.example.com:3128;https=proxy.example.com:3128
    scope:
      - S-1-5-21-1004336348-1177238915-682003330-1001
      - S-1-5-21-1004336348-1177238915-682003330-1002

- name: Make one proxy machine-wide (every user, including ssm-user; keep S3 reachable)
  ssm.proxy.wininet_proxy:
    proxy: {http: proxy.example.com:3128, https: proxy.example.com:3128}
    scope: machine

- name: Reset LocalSystem to direct access
  ssm.proxy.wininet_proxy:
    state: absent
"""

RETURN = r"""
before:
  description:
    - For each scope (C(local_system), C(machine) or the SID), the settings before the task.
    - C(default_connection_settings) and C(saved_legacy_settings) are the decoded blobs (null when absent) with C(manual_proxy),
      C(proxy), C(bypass), C(auto_config), C(auto_config_url), C(auto_detect), and the raw C(flags), C(version), C(counter) and
      C(detection_cache) (hex).
    - C(legacy_values) holds the legacy values C(ProxyEnable), C(ProxyServer), C(ProxyOverride) and C(AutoConfigURL) (null when absent).
    - For C(machine), C(proxy_settings_per_user) is the policy value (null when absent).
  returned: success
  type: dict
  sample:
    local_system:
      default_connection_settings:
        manual_proxy: false
        proxy: ""
        bypass: ""
        auto_config: false
        auto_config_url: ""
        auto_detect: false
        flags: 1
        version: 70
        counter: 10
        detection_cache: "0000000000000000000000000000000000000000000000000000000000000000"
      saved_legacy_settings: null
      legacy_values: {ProxyEnable: null, ProxyServer: null, ProxyOverride: null, AutoConfigURL: null}
after:
  description: The same for after the task (or as it would be, in check mode).
  returned: success
  type: dict
  sample:
    local_system:
      default_connection_settings:
        manual_proxy: true
        proxy: http=proxy.example.com:3128;https=proxy.example.com:3128
        bypass: "*.corp.example.com;169.254.169.254;fd00:ec2::254;[fd00:ec2::254];<local>"
        auto_config: false
        auto_config_url: ""
        auto_detect: false
        flags: 3
        version: 70
        counter: 11
        detection_cache: "0000000000000000000000000000000000000000000000000000000000000000"
      saved_legacy_settings: null
      legacy_values:
        ProxyEnable: 1
        ProxyServer: http=proxy.example.com:3128;https=proxy.example.com:3128
        ProxyOverride: "*.corp.example.com;169.254.169.254;fd00:ec2::254;[fd00:ec2::254];<local>"
        AutoConfigURL: null
backup:
  description: Where the previous values were saved, and whether this run saved them (false when a backup already existed).
  returned: when O(backup=true)
  type: dict
  sample:
    key: HKLM:\SOFTWARE\ssm.proxy\Backup
    name: wininet_proxy
    saved: true
"""
