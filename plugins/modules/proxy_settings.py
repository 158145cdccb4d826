#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is implemented as an action plugin (plugins/action/proxy_settings.py); this file documents it.

DOCUMENTATION = r"""
---
module: proxy_settings
short_description: Apply the SSM Agent's, WinINet's and WinHTTP's proxy settings together, in one write
version_added: 0.2.0
description:
  - Does what M(ssm.proxy.ssm_agent_proxy), M(ssm.proxy.wininet_proxy) and M(ssm.proxy.winhttp_proxy) do, in the
    documented order, with the same options, results and diffs, for fleets where every round trip counts (about a second
    over WinRM, several over C(amazon.aws.aws_ssm)).
  - Each module's own logic decides over one read of the host, and every backup and value to write goes to the host in
    one execution of a PowerShell script sent through M(ansible.windows.win_powershell).
  - With O(snapshot), the read is the one M(ssm.proxy.ssm_agent_proxy_info) made for its RV(ssm.proxy.ssm_agent_proxy_info#module:snapshot),
    so a change costs one execution and check mode none. Without it, the module reads the host once itself.
  - Before anything is written, the script checks that every value to be written still holds what the read saw, and that
    no other run has started changing the host since; otherwise nothing is written and the task fails naming the
    values (O(on_change)).
  - With O(restrict_acl), it then restricts the agent's service key, whose C(Environment) may hold the proxy password, to
    SYSTEM and Administrators, decided over the same read.
  - The C(ssm.proxy.agent_proxy) role uses it for its Apply step.
options:
  ssm_agent_proxy:
    description:
      - The options of M(ssm.proxy.ssm_agent_proxy) (without O(backup) and O(run), which apply to all components), validated
        as that module validates them. Omit to leave the agent's proxy alone.
    type: dict
  wininet_proxy:
    description:
      - The options of M(ssm.proxy.wininet_proxy), without O(backup) and O(run). Omit to leave WinINet alone.
    type: dict
  winhttp_proxy:
    description:
      - The options of M(ssm.proxy.winhttp_proxy), without O(backup) and O(run). Omit to leave WinHTTP alone.
    type: dict
  snapshot:
    description:
      - "The RV(ssm.proxy.ssm_agent_proxy_info#module:snapshot) of a M(ssm.proxy.ssm_agent_proxy_info) task run with
        C(desired) on the same host in the same C(ansible-playbook) process: its read is used instead of a new one."
      - The read is kept on the controller only, readable by the controller's user, until the process ends or a write
        made it stale; when it is gone the module reads the host itself.
    type: str
  on_change:
    description:
      - What to do when a value to be written changed on the host since the read (another tool, a person, a GPO).
      - C(fail) writes nothing and fails naming the values; the next run decides anew.
      - C(reread) reads the host once more and decides over what it holds now, still writing only if nothing changes in between.
      - A run that started changing the host since the read always fails the task, whatever this says.
    type: str
    choices: [fail, reread]
    default: fail
  restrict_acl:
    description:
      - After the writes, keep C(HKLM\SYSTEM\CurrentControlSet\Services\AmazonSSMAgent) readable by SYSTEM and
        Administrators only, instead of by every local user through the rules it inherits from C(HKLM\SYSTEM).
      - SYSTEM and Administrators get explicit C(FullControl) first (M(ansible.windows.win_acl), by SID, since the group's
        name is localised), then inheritance is turned off without copying the inherited rules
        (M(ansible.windows.win_acl_inheritance) with C(reorganize=false)), in three more executions, once per host.
      - Nothing is sent when the read shows the key restricted already, or missing (no agent). With no component and no
        O(snapshot), nothing is read outside check mode either, and M(ansible.windows.win_acl) and
        M(ansible.windows.win_acl_inheritance) report no change for a key that is restricted already.
      - Not done when a write failed. A refusal fails the task, with RV(acl) saying what was changed before it.
      - The agent runs as LocalSystem and keeps reading its settings; tools running unelevated can no longer read the
        service's configuration from the registry. The agent is not restarted.
    type: bool
    default: false
  preflight:
    description:
      - Before anything is written, request the Systems Manager endpoints from the host through O(preflight.proxy), as the
        agent would (CONNECT, Basic credentials only), in one more execution. An endpoint counts as reachable only when the
        endpoint itself answered through the proxy's tunnel, not when the proxy answered for it.
      - When one of O(preflight.required) is out of reach, or the script cannot run (a region that instance metadata does not
        give), nothing is written and the task fails with RV(preflight). Another endpoint out of reach is a warning.
      - Not run in check mode (nothing would be written), nor when only O(restrict_acl) is given (no proxy changes). Omit for
        no pre-flight.
    type: dict
    suboptions:
      proxy:
        description: The proxy URL the agent is about to use (C(http://host:port)), without credentials.
        type: str
        required: true
      username:
        description: The proxy user, sent with O(preflight.password) as Basic credentials, as the agent sends them.
        type: str
      password:
        description: The proxy password; never returned or logged.
        type: str
      region:
        description: The region of the endpoints (C(eu-west-1)); empty to ask the instance metadata, as the agent does.
        type: str
        default: ''
      services:
        description: The endpoints to request, C(https://<service>.<region>.amazonaws.com/) (C(amazonaws.com.cn) in China).
        type: list
        elements: str
        default: [ssm, ec2messages, ssmmessages, s3]
      required:
        description:
          - The services that must be reachable for anything to be written. The agent needs C(ssm), C(ec2messages) and
            C(ssmmessages); add C(s3) for hosts reached over C(amazon.aws.aws_ssm), whose every command travels through S3.
        type: list
        elements: str
        default: [ssm, ec2messages, ssmmessages]
      timeout:
        description: Seconds each request may take (1 to 3600).
        type: int
        default: 10
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
    details: With O(snapshot), nothing is sent to the host at all.
  diff_mode:
    support: full
    details:
      - One diff per component that changes, as each module shows it (passwords replaced by C(********)).
      - With O(restrict_acl), one more for the service key's ACL (whether it inherits, and who may read it).
  platform:
    platforms: windows
notes:
  - Like M(ssm.proxy.ssm_agent_proxy), it does not restart the agent; RV(restart_required) says when C(AmazonSSMAgent) must restart.
  - The script writes with .NET's C(RegistryKey.SetValue), in the 64-bit registry view, so a change only in letter case
    and an empty multistring are written exactly (M(ansible.windows.win_regedit) compares text case-insensitively).
  - When Windows refuses one of the writes, those before it stay written; with O(backup) they are saved first, and
    M(ssm.proxy.rollback) with the run's C(run_id) puts them back.
seealso:
  - module: ssm.proxy.ssm_agent_proxy_info
  - module: ssm.proxy.ssm_agent_proxy
  - module: ssm.proxy.wininet_proxy
  - module: ssm.proxy.winhttp_proxy
  - module: ssm.proxy.rollback
author:
  - ssm.proxy maintainers (@ssm-proxy)
"""

EXAMPLES = r"""
- name: Read the host once and learn what would change
  ssm.proxy.ssm_agent_proxy_info:
    desired:
      ssm_agent_proxy: &agent
        proxy: http://proxy.example.com:3128
        no_proxy: [.corp.example.com, 10.0.0.0/8]
      winhttp_proxy: &winhttp
        proxy: proxy.example.com:3128
        bypass: [169.254.169.254, "*.corp.example.com", "10.*"]
  register: plan

- name: Write what differs, in one execution, over that read
  ssm.proxy.proxy_settings:
    ssm_agent_proxy: *agent
    winhttp_proxy: *winhttp
    snapshot: "{{ plan.snapshot }}"
    backup: true
  register: applied
  when: not plan.compliant

- name: Or write only if the endpoints answer from the host through the new proxy
  ssm.proxy.proxy_settings:
    ssm_agent_proxy: *agent
    preflight:
      proxy: http://proxy.example.com:3128
      region: eu-west-1
  register: applied

- name: Restart the agent when its own settings changed
  ansible.windows.win_service:
    name: AmazonSSMAgent
    state: restarted
  when: applied is changed and applied.restart_required
"""

RETURN = r"""
results:
  description:
    - Per component given, what its module returns (RV(ssm.proxy.ssm_agent_proxy#module:before),
      RV(ssm.proxy.ssm_agent_proxy#module:after), C(changed), RV(ssm.proxy.ssm_agent_proxy#module:backup), ...), without its diff and warnings,
      which are the task's.
  returned: success
  type: dict
  sample:
    ssm_agent_proxy:
      changed: true
      restart_required: true
      before: {http_proxy: null, https_proxy: null, no_proxy: null}
      after:
        http_proxy: http://proxy.example.com:3128
        https_proxy: http://proxy.example.com:3128
        no_proxy: .corp.example.com,10.0.0.0/8,169.254.169.254,fd00:ec2::254
restart_required:
  description: Whether the agent's C(Environment) value changed, so C(AmazonSSMAgent) must restart to use it.
  returned: success
  type: bool
  sample: true
backup:
  description:
    - Where the previous values were saved (one value per component, C(<component>@<run id>)), and whether this task saved any.
  returned: when O(backup=true)
  type: dict
  sample:
    key: HKLM:\SOFTWARE\ssm.proxy\Backup
    names: [ssm_agent_proxy@20261201T094512.123456Z-42, winhttp_proxy@20261201T094512.123456Z-42]
    saved: true
reused_read:
  description: Whether the decisions were made over the O(snapshot) read (false when the module read the host itself).
  returned: success
  type: bool
  sample: true
preflight:
  description:
    - What O(preflight) found, also when it stopped the write. C(passed); C(error), what stopped the script, if anything;
      C(region) and C(region_source) (C(parameter) or C(imds)); C(required); C(endpoints), one per service, with
      C(service), C(url), C(reachable), C(outcome) (C(reachable), C(connect_refused), C(proxy_auth_required),
      C(tls_untrusted), C(tls_failed), C(timeout), C(unreachable), ...), C(status), C(reason), C(error) and C(proxy_auth)
      (the schemes a C(407) offered); C(unreachable) and C(blocking), the services out of reach and those of them required.
  returned: when O(preflight) is given, outside check mode
  type: dict
  sample:
    passed: false
    error: ''
    region: eu-west-1
    region_source: imds
    required: [ssm, ec2messages, ssmmessages]
    endpoints:
      - service: ssm
        url: https://ssm.eu-west-1.amazonaws.com/
        reachable: false
        outcome: connect_refused
        status: 403
        reason: Forbidden
        error: the proxy refused CONNECT to ssm.eu-west-1.amazonaws.com:443 with 403 Forbidden
        proxy_auth: []
    unreachable: [ssm]
    blocking: [ssm]
acl:
  description:
    - What O(restrict_acl) did to the agent's service key. C(path); C(changed) (in check mode, whether it would change);
      C(granted), the SIDs that got an explicit C(FullControl) rule; C(protected), whether inheritance was turned off.
      On a refusal also C(failed) and C(msg).
    - To undo it, turn inheritance back on (M(ansible.windows.win_acl_inheritance) C(state=present)) and remove the rules
      of C(granted) (M(ansible.windows.win_acl) C(state=absent)); the C(ssm.proxy.agent_proxy) role does so in its rollback.
  returned: when O(restrict_acl=true)
  type: dict
  sample:
    path: HKLM:\SYSTEM\CurrentControlSet\Services\AmazonSSMAgent
    changed: true
    granted: [S-1-5-18, S-1-5-32-544]
    protected: true
executions:
  description: How many module executions the task cost on the host (0 in check mode over a snapshot).
  returned: success
  type: int
  sample: 1
"""
