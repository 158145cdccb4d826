# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Simulated-host stand-in for ansible.windows.win_acl_inheritance on registry keys (mirrors win_acl_inheritance.ps1 of 3.3.0).

Not a documented module: its options are the real module's, read from the real DOCUMENTATION.
"""

from __future__ import annotations

import re
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ansible.windows.plugins.module_utils._sim_acl import acl_write_denied
from ansible_collections.ansible.windows.plugins.module_utils._sim_host import HostState, run_module

REGISTRY_PATH = re.compile(r'^HK(CC|CR|CU|LM|U):\\', re.IGNORECASE)


def acl_inheritance(module: AnsibleModule, state: HostState) -> dict[str, t.Any]:
    path, wanted, reorganize = module.params['path'], module.params['state'], module.params['reorganize']
    result: dict[str, t.Any] = {'changed': False}
    if not REGISTRY_PATH.match(path):
        module.fail_json(msg=f'win_acl_inheritance on {path!r}: only registry keys are simulated by the sim host', **result)
    if not state.registry.key_exists(path):
        module.fail_json(msg=f'{path} does not exist', **result)
    acl = state.registry_acl
    entry = acl.entry(path)
    before = 'absent' if entry['protected'] else 'present'
    protected, readers = entry['protected'], entry['readers']
    if wanted == 'absent' and not protected:
        # SetAccessRuleProtection($true, $reorganize): preserveInheritance copies the inherited rules as explicit ones
        # (on a default HKLM\SOFTWARE subkey: Users and ALL APPLICATION PACKAGES Read too); without it they are dropped.
        protected = True
        if reorganize:
            readers = readers + [reader for reader in acl.inherited(path) if reader not in readers]
        result['changed'] = True
    elif wanted == 'present' and protected:
        # SetAccessRuleProtection($false, $false), then with reorganize Remove-AclExplicitDuplicate drops explicit rules
        # equal to an inherited one (the model compares principals).
        protected = False
        if reorganize:
            inherited = acl.inherited(path)
            readers = [reader for reader in readers if reader not in inherited]
        result['changed'] = True
    if result['changed'] and not module.check_mode and acl_write_denied(state.data, path):
        # Set-AclEx calls Set-Acl outside any try block (win_acl_inheritance.ps1 of 3.3.0, L29-45 and L130-144), and
        # the Registry provider's SetSecurityDescriptor opens the key for writing: its SecurityException is unhandled, so
        # module_wrapper.ps1 reports only failed, msg and exception. In check mode ShouldProcess skips Set-Acl.
        module.fail_json(msg='Unhandled exception while executing module: Requested registry access is not allowed.')
    if result['changed'] and not module.check_mode:
        acl.set_entry(path, protected, readers)
    # The module reads the ACL again after a real change; in check mode `after` is the changed in-memory ACL.
    result['diff'] = {'before': {'state': before}, 'after': {'state': 'absent' if protected else 'present'}}
    if not module._diff:
        del result['diff']
    return result


def main() -> None:
    run_module('win_acl_inheritance', acl_inheritance)


if __name__ == '__main__':
    main()
