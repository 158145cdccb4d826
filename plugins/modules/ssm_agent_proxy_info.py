#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is implemented as an action plugin (plugins/action/ssm_agent_proxy_info.py); this file documents it.

DOCUMENTATION = r"""
---
module: ssm_agent_proxy_info
short_description: Report the proxy the AWS Systems Manager Agent will use on Windows, and why
version_added: 0.1.0
description:
  - Reads the five sources the agent documents for its proxy, in one module execution per host, and computes with a port
    of the agent's own algorithm what it will use at its next start and which source each part comes from.
  - "The sources, highest first: the service C(Environment) value of C(AmazonSSMAgent); the system environment;
    the LocalSystem environment; LocalSystem's Internet Explorer (WinINet) settings; the WinHTTP default proxy."
  - Also reads the newest startup block of the agent's log (only the end of the file) to report what the running agent
    uses, and whether a restart is pending.
  - Returns stable finding codes for what goes wrong behind proxies, e.g. a bare C(host:port) that sends HTTPS direct,
    an IE-style C(10.*) that Go never matches, or credentials that the agent writes to its log.
  - Read-only; runs in check mode. All values are returned with passwords replaced by C(********).
options:
  log_tail_bytes:
    description:
      - How many bytes to read from the end of C(amazon-ssm-agent.log) to find the newest startup block.
    type: int
    default: 65536
  stale_after:
    description:
      - After how many seconds a run that left backups on the host (see RV(runs)) is taken for dead.
    type: int
    default: 3600
  desired:
    description:
      - The settings wanted on the host, to learn in the same single read whether each already matches (RV(compliance)).
      - Keys C(ssm_agent_proxy), C(wininet_proxy), C(winhttp_proxy), each a dict of that module's options. Each is
        validated exactly as the module validates it, so bad input fails here, before anything changes.
      - The comparison is made by the modules' own logic on what was read, so it agrees with what running them would do.
    type: dict
  region:
    description:
      - The AWS region of the instance, e.g. C(eu-west-1) or C(cn-north-1). With it RV(routes) also holds the agent's
        endpoints there (C(ssm), C(ec2messages), C(ssmmessages), C(s3), C(kms), C(logs), under the partition's domain such as
        C(amazonaws.com.cn)), and findings C(ssm_direct) and C(session_manager_https_proxy) can be reported.
    type: str
  endpoints:
    description:
      - More URLs to route (C(http://), C(https://), C(ws://) or C(wss://)), e.g. a VPC endpoint or your own service.
    type: list
    elements: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: Read-only; behaves the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: windows
notes:
  - When the system and LocalSystem environments set the same proxy variable differently, Windows gives the service the
    LocalSystem value while the AWS guide lists the system one first; the module reports C(environment_conflict) and
    computes with the Windows rule.
  - Uses M(ansible.windows.win_powershell) with a read-only script shipped in the collection.
seealso:
  - module: ssm.proxy.ssm_agent_proxy
  - name: Configure SSM Agent to use a proxy (Windows)
    description: The documented sources and their order.
    link: https://docs.aws.amazon.com/systems-manager/latest/userguide/configure-proxy-ssm-agent-windows.html
author:
  - ssm.proxy maintainers (@ssm-proxy)
"""

EXAMPLES = r"""
- name: Find out what proxy the agent uses and why
  ssm.proxy.ssm_agent_proxy_info:
  register: agent_proxy

- name: Show the effective proxy and every finding
  ansible.builtin.debug:
    msg:
      - "Proxy {{ agent_proxy.effective.https_proxy or 'DIRECT' }} from {{ agent_proxy.effective_source.proxy }}"
      - "{{ agent_proxy.findings | map(attribute='message') | list }}"

- name: Fail hosts whose agent sends Systems Manager traffic direct
  ansible.builtin.assert:
    that: agent_proxy.findings | selectattr('code', 'equalto', 'https_direct') | list | length == 0
    fail_msg: "{{ inventory_hostname }}: HTTPS goes direct; set https_proxy (ssm.proxy.ssm_agent_proxy)"

- name: Is the host already configured as wanted? (one read, nothing changes)
  ssm.proxy.ssm_agent_proxy_info:
    desired:
      ssm_agent_proxy:
        proxy: http://proxy.example.com:3128
      winhttp_proxy:
        proxy: {http: proxy.example.com:3128, https: proxy.example.com:3128}
  register: plan

- name: Where does each endpoint's traffic go?
  ssm.proxy.ssm_agent_proxy_info:
    region: eu-west-1
    endpoints:
      - https://vpce-0123456789abcdef0-abcdefgh.ssm.eu-west-1.vpce.amazonaws.com
  register: agent_proxy

- name: Show, per endpoint, the proxy or why it goes direct
  ansible.builtin.debug:
    msg: "{{ agent_proxy.routes | map(attribute='url') | zip(agent_proxy.routes | map(attribute='proxy')) | list }}"

- name: Restart agents whose settings changed since they started
  ansible.windows.win_service:
    name: AmazonSSMAgent
    state: restarted
  # restart_pending is null when the agent never logged a start: default(false, true) replaces that too.
  when: agent_proxy.restart_pending | default(false, true)
"""

RETURN = r"""
snapshot:
  description:
    - With O(desired), a token for this read, which M(ssm.proxy.proxy_settings) takes (its O(ssm.proxy.proxy_settings#module:snapshot)) to
      decide and write over it without reading the host again.
    - The read itself stays on the controller, in a file only the controller's user can read, until the C(ansible-playbook)
      process ends; the saved values inside backups are not kept. It never comes back in a result.
  returned: when O(desired) is set and a component does not match (RV(compliance) holds a false)
  type: str
  sample: 5f0c3a9be1d24c7f8a6b0e2d4c1f9a37
effective:
  description: The variables the agent will set at its next start, Go-normalised; empty strings when unset.
  returned: success
  type: dict
  sample:
    http_proxy: http://proxy.example.com:3128
    https_proxy: http://proxy.example.com:3128
    no_proxy: 169.254.169.254,fd00:ec2::254
effective_source:
  description:
    - Where the proxy and the bypass list come from.
    - One of C(service_registry), C(system_environment), C(localsystem_environment), C(wininet), C(winhttp), C(none).
  returned: success
  type: dict
  sample:
    proxy: service_registry
    bypass: service_registry
sources:
  description:
    - What each source holds. C(service_registry), C(system_environment) and C(localsystem_environment) give
      C(http_proxy), C(https_proxy) and C(no_proxy) (null when unset).
    - C(wininet) gives C(proxy_enabled), C(proxy), C(bypass), C(auto_detect), C(auto_config_url_enabled), C(auto_config_url),
      C(scope) (C(local_system) or C(machine) when policy C(ProxySettingsPerUser) is 0) and C(from); null when not configured.
    - C(winhttp) (native view, what the agent reads) and C(winhttp_wow64) give C(proxy) and C(bypass), empty when direct.
  returned: success
  type: dict
running:
  description:
    - The variables the running agent logged at its newest start, with C(logged_at), C(agent_version) and C(offset) (the
      byte offset of that startup block in the log, which tells one start from another); null when the log has no
      startup block. Values are as logged (a C(%) appears mangled, as in the log).
  returned: success
  type: dict
  sample:
    http_proxy: http://proxy.example.com:3128
    https_proxy: http://proxy.example.com:3128
    no_proxy: 169.254.169.254,fd00:ec2::254
    logged_at: "2024-06-10 09:10:27.9020"
    agent_version: 3.3.987.0
    offset: 184320
restart_pending:
  description: Whether the running values differ from RV(effective), so a restart of C(AmazonSSMAgent) would change them; null when unknown.
  returned: success
  type: bool
findings:
  description:
    - Problems found, each with a stable C(code), a C(severity) (C(error), C(warning), C(info)) and a C(message) that says what to do.
    - "Codes: C(agent_not_installed), C(ec2config_only), C(https_direct), C(imds_not_bypassed), C(ipv6_imds_bracketed),
      C(ie_wildcard_ignored), C(local_macro_ignored), C(pac_or_wpad_ignored), C(https_scheme_proxy), C(credentials_in_log),
      C(percent_mangled_in_log), C(equals_breaks_plugins), C(shadowed), C(environment_conflict), C(environment_needs_reboot),
      C(windows_2008_agent_limit), C(nano_server), C(ssm_direct), C(session_manager_https_proxy), C(agent_skips_value)
      (a WARN line the agent will log for a value it skips, with the value), C(go_release_dependent) (a value whose fate
      depends on the Go release the agent was built with; the message names both outcomes), C(agent_log_missing),
      C(agent_log_unreadable), C(agent_running_unknown), C(detached_restart_failed), C(credentials_readable) (a stored
      proxy password that principals beyond SYSTEM and
      Administrators can read, naming them and the place)."
  returned: success
  type: list
  elements: dict
  sample:
    - code: https_direct
      severity: error
      message: https_proxy is empty, so all HTTPS traffic (every Systems Manager endpoint) goes direct.
routes:
  description:
    - Where each endpoint's traffic goes once the agent runs with RV(effective), in this order - the agent's endpoints in
      O(region) (when given), instance metadata (C(imds), C(imds_ipv6)), then O(endpoints).
    - C(name) is the service (C(ssm), C(ec2messages), C(ssmmessages), C(s3), C(kms), C(logs), C(imds), C(imds_ipv6)) or null
      for O(endpoints); C(url) the URL; C(proxy) the proxy URL Go's C(http.ProxyFromEnvironment) picks (password redacted)
      or C('') for direct; C(matched) the C(no_proxy) entry that made it direct, or null.
    - Session Manager's C(wss://ssmmessages...) is routed as C(https://), as the agent's websocket client asks for it.
  returned: success
  type: list
  elements: dict
  sample:
    - {name: ssm, url: "https://ssm.eu-west-1.amazonaws.com", proxy: "http://proxy.example.com:3128", matched: null}
    - {name: imds, url: "http://169.254.169.254/latest/api/token", proxy: "", matched: 169.254.169.254}
agent:
  description: Whether the agent's service exists, its version (from its log) and the log file read.
  returned: success
  type: dict
compliance:
  description: For each component of O(desired), whether the host already matches it (running that module would change nothing).
  returned: when O(desired) is set
  type: dict
  sample:
    ssm_agent_proxy: true
    wininet_proxy: false
    winhttp_proxy: true
compliant:
  description:
    - Whether every component of O(desired) already matches and, when O(desired) has C(ssm_agent_proxy), the running
      agent logged the values its registry holds (see RV(restart_needed)).
  returned: when O(desired) is set
  type: bool
restart_needed:
  description:
    - The registry already holds the wanted C(ssm_agent_proxy) values, but the running agent logged others (it started
      before they were written); one restart of C(AmazonSSMAgent) converges the host. False when the running values
      are unknown (log missing or unreadable); a warning says so.
  returned: when O(desired) is set
  type: bool
check_mode:
  description:
    - Whether this task ran in check mode, from C(--check) or from a play, block or task C(check_mode) keyword (which
      C(ansible_check_mode) does not reflect); the role follows it.
  returned: success
  type: bool
runs:
  description:
    - Runs that changed this host and have not finished (their backups under C(HKLM\SOFTWARE\ssm.proxy\Backup) mark them),
      oldest first, with C(id), C(owner), C(started), C(wants), C(components), C(age_seconds), C(stale) (older than
      O(stale_after)) and a C(message) naming the run. The C(ssm.proxy.agent_proxy) role refuses to change a host while
      a run that is not stale is in progress.
  returned: success
  type: list
  elements: dict
  sample: []
run:
  description:
    - An id, a start time (ISO 8601, UTC, from the controller) and an owner for a change made after this read, new on every
      read. Not one of the RV(runs), which are already on the host.
    - The owner is C(AWX job <awx_job_id>) under AWX and AAP, else C(<controller user> with ansible-playbook); other runs
      name this one by it while its backups are on the host.
    - The C(ssm.proxy.agent_proxy) role names its run with them (O(ssm.proxy.proxy_settings#module:run)), and keys its backups
      and its detached restart by the C(id).
  returned: success
  type: dict
  sample: {"id": "20261202T230346.123456Z-3141592653", "started": "2026-12-02T23:03:46.123456Z", "owner": "AWX job 7"}
acl:
  description:
    - Who may read the places that can hold a proxy password, read in the same execution, under C(service_key) (the
      agent's service key), C(collection_key) (C(HKLM\SOFTWARE\ssm.proxy)), C(backup_key) and C(data_folder)
      (C(%ProgramData%\Amazon\SSM)).
    - Each has C(path), C(exists), C(protected) (no inheritance), C(readers) (account names, or SIDs that do not translate),
      C(restricted) (protected and readable by SYSTEM and Administrators only) and C(error).
  returned: success
  type: dict
pending_backups:
  description:
    - Modules whose backup of previous values is still on the host (C(HKLM\SOFTWARE\ssm.proxy\Backup)), left by a change that
      was not verified or discarded; M(ssm.proxy.rollback) restores or discards them.
  returned: success
  type: list
  elements: str
  sample: []
os:
  description: The Windows version facts the findings use (C(product_name), C(installation_type), C(version), C(build)).
  returned: success
  type: dict
"""
