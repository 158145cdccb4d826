#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is implemented as an action plugin (plugins/action/rollback.py); this file documents it.

DOCUMENTATION = r"""
---
module: rollback
short_description: Restore or discard the proxy settings saved on a Windows host by ssm.proxy modules
version_added: 0.1.0
description:
  - The settings modules M(ssm.proxy.ssm_agent_proxy), M(ssm.proxy.wininet_proxy) and M(ssm.proxy.winhttp_proxy), run with
    O(ssm.proxy.ssm_agent_proxy#module:backup=true), save the previous bytes of every registry value they change under
    C(HKLM\SOFTWARE\ssm.proxy\Backup) before changing it.
  - With O(state=restored) this module writes every saved value back with its exact type and bytes (or removes values that
    did not exist), then removes the backup. With O(state=discarded) it only removes the backup, after a change was verified.
  - A saved value is put back only while the host still holds what the run wrote; a value changed since (by a newer run,
    by hand) is left alone, listed in RV(left_alone) and named in a warning, so that a rollback never undoes a newer change.
  - It reads the backups once; the saved values never leave the host and are written with C(no_log).
  - The agent reads its settings at service start; restart C(AmazonSSMAgent) after restoring C(ssm_agent_proxy).
options:
  state:
    description:
      - C(restored) puts the saved values back, C(discarded) forgets them.
    type: str
    choices: [restored, discarded]
    default: restored
  components:
    description:
      - Which modules' backups to act on.
    type: list
    elements: str
    choices: [ssm_agent_proxy, wininet_proxy, winhttp_proxy]
    default: [ssm_agent_proxy, wininet_proxy, winhttp_proxy]
  run_id:
    description:
      - Act only on the backups of these runs (the settings modules' O(ssm.proxy.ssm_agent_proxy#module:run.id)); other runs'
        backups are never touched. Without it, every run's backups (and those of modules used alone) of O(components).
      - One run id, or a list of them (since 0.2.0). With O(state=discarded), the backups of every run listed are removed in one
        module execution, without reading them first; the role forgets its own run's and those a run that died left together.
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
  diff_mode:
    support: full
    details: Names the backups that are restored or discarded.
  platform:
    platforms: windows
notes:
  - Keys the settings modules created (for example the WinINet policy key) stay, empty; only values are restored.
seealso:
  - module: ssm.proxy.ssm_agent_proxy
author:
  - ssm.proxy maintainers (@ssm-proxy)
"""

EXAMPLES = r"""
- name: Put back the proxy settings from before the last interrupted change
  ssm.proxy.rollback:
  register: rollback

- name: Restart the agent so that it reads its restored settings
  ansible.windows.win_service:
    name: AmazonSSMAgent
    state: restarted
  when: "'ssm_agent_proxy' in rollback.restored"

- name: Forget the backups once the new settings are verified
  ssm.proxy.rollback:
    state: discarded
"""

RETURN = r"""
restored:
  description: The components whose saved values were written back.
  returned: success
  type: list
  elements: str
  sample: [ssm_agent_proxy, winhttp_proxy]
rewritten:
  description: The components of which at least one value differed from the saved one and was written back.
  returned: success
  type: list
  elements: str
  sample: [ssm_agent_proxy]
left_alone:
  description: Values (C(path\\name)) not restored because they no longer hold what the run wrote.
  returned: success
  type: list
  elements: str
  sample: []
discarded:
  description:
    - The components whose backups were removed without restoring them.
    - Discarding every component removes the whole backup key in one execution, without reading it first; then all
      components are listed when the key existed.
  returned: success
  type: list
  elements: str
  sample: []
values:
  description: The values restored (path, name, and whether it existed before; never the data).
  returned: success
  type: list
  elements: dict
  sample:
    - component: ssm_agent_proxy
      path: HKLM:\SYSTEM\CurrentControlSet\Services\AmazonSSMAgent
      name: Environment
      existed: true
"""
