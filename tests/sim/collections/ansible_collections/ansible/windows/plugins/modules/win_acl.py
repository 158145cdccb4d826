# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Simulated-host stand-in for ansible.windows.win_acl on registry keys (mirrors win_acl.ps1 of 3.3.0).

Not a documented module: its options are the real module's, read from the real DOCUMENTATION. Only what
the ``registry_acl`` model holds is simulated: allow rules that grant read access (QueryValues, part of
ReadKey and FullControl), inheritable to subkeys; anything else fails with ``... is not simulated``.
"""

from __future__ import annotations

import re
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ansible.windows.plugins.module_utils._sim_acl import acl_write_denied, resolve
from ansible_collections.ansible.windows.plugins.module_utils._sim_host import HostState, run_module

REGISTRY_PATH = re.compile(r'^HK(CC|CR|CU|LM|U):\\', re.IGNORECASE)
# System.Security.AccessControl.RegistryRights, in the order .NET's enum declares them.
REGISTRY_RIGHTS = {
    'QueryValues': 0x1, 'SetValue': 0x2, 'CreateSubKey': 0x4, 'EnumerateSubKeys': 0x8, 'Notify': 0x10, 'CreateLink': 0x20,
    'Delete': 0x10000, 'ReadPermissions': 0x20000, 'WriteKey': 0x20006, 'ExecuteKey': 0x20019, 'ReadKey': 0x20019,
    'ChangePermissions': 0x40000, 'TakeOwnership': 0x80000, 'FullControl': 0xF003F,
}
QUERY_VALUES = 0x1


def registry_rights(text: str) -> t.Optional[int]:
    """``[System.Security.AccessControl.RegistryRights]$rights``: comma-separated names (any case) or a number."""
    mask = 0
    for piece in text.split(','):
        piece = piece.strip()
        if piece.isdigit():
            mask |= int(piece)
            continue
        found = [value for name, value in REGISTRY_RIGHTS.items() if name.casefold() == piece.casefold()]
        if not found:
            return None
        mask |= found[0]
    return mask


def bad_rights_message(rights: str) -> str:
    """The PowerShell cast error that win_acl.ps1's outer catch puts in its message."""
    bad = next(piece.strip() for piece in rights.split(',') if registry_rights(piece.strip()) is None)
    return (f'Cannot convert value "{rights}" to type "System.Security.AccessControl.RegistryRights". Error: "Unable to match '
            f'the identifier name {bad} to a valid enumerator name. Specify one of the following enumerator names and try again: '
            f'{", ".join(REGISTRY_RIGHTS)}"')


def win_acl(module: AnsibleModule, state: HostState) -> dict[str, t.Any]:
    params = module.params
    path, user, rights, state_wanted = params['path'], params['user'], params['rights'], params['state']
    result: dict[str, t.Any] = {'changed': False}
    if module.check_mode:
        # A legacy module (Parse-Args without supports_check_mode, Ansible.ModuleUtils.Legacy.psm1): skipped.
        return {'changed': False, 'skipped': True, 'msg': 'remote module does not support check mode'}
    if not REGISTRY_PATH.match(path):
        module.fail_json(msg=f'win_acl on {path!r}: only registry keys are simulated by the sim host', **result)
    if not state.registry.key_exists(path):
        module.fail_json(msg=f'{path} file or directory does not exist on the host', **result)
    principal = resolve(user)
    if principal is None:
        module.fail_json(msg=f'{user} is not a valid user or group on the host machine or domain', **result)
    failure = f'an error occurred when attempting to {state_wanted} {rights} permission(s) on {path} for {user} - '
    mask = registry_rights(rights)
    if mask is None:
        module.fail_json(msg=failure + bad_rights_message(rights), **result)
    # A key is not a leaf, so `inherit` defaults to "ContainerInherit, ObjectInherit" (win_acl.ps1).
    inherit = {piece.strip().casefold() for piece in (params['inherit'] or 'ContainerInherit, ObjectInherit').split(',')}
    if params['type'] != 'allow' or not mask & QUERY_VALUES or 'containerinherit' not in inherit or params['propagation'] != 'None':
        module.fail_json(msg='win_acl: only inheritable allow rules that grant read access (QueryValues, ReadKey, FullControl) with '
                             'propagation None are simulated by the sim host (registry_acl holds readers only)', **result)
    acl = state.registry_acl
    entry = acl.entry(path)
    # The rule matches only an explicit rule of the same principal (IsInherited is compared too); the model keeps
    # readers, not their exact rights, so any explicit reader rule of the principal matches.
    existing = [reader for reader in entry['readers'] if (resolve(reader) or ('',))[0] == principal[0]]
    if ((state_wanted == 'present' and not existing) or (state_wanted == 'absent' and existing)) and acl_write_denied(state.data, path):
        # win_acl.ps1 of 3.3.0. Adding (L242-258): Set-Acl fails (the Registry provider opens the key for writing:
        # OpenSubKey's SecurityException), its inner Catch falls back to (Get-Item).SetAccessControl on a key Get-Item
        # opened read-only, and .NET's RegistryKey.SetAccessControl calls EnsureWriteable() first: "Cannot write to the
        # registry key." (UnauthorizedAccess_RegistryNoWrite, reference source registrykey.cs). Removing (L261-276):
        # Set-Acl alone, so the provider's "Requested registry access is not allowed." (Security_RegistryPermission).
        if state_wanted == 'present':
            message = 'an exception occurred when adding the specified rule - Cannot write to the registry key.'
        else:
            message = 'an exception occurred when removing the specified rule - Requested registry access is not allowed.'
        module.fail_json(msg=message, **result)
    if state_wanted == 'present' and not existing:
        acl.set_entry(path, entry['protected'], entry['readers'] + [principal[1] or principal[0]])
        result['changed'] = True
    elif state_wanted == 'absent' and existing:
        acl.set_entry(path, entry['protected'], [reader for reader in entry['readers'] if reader not in existing])
        result['changed'] = True
    elif existing:
        result['msg'] = 'the specified rule already exists'
    else:
        result['msg'] = 'the specified rule does not exist'
    return result


def keep_inherit_free(spec: dict[str, t.Any]) -> None:
    """The docs give `inherit` choices, but win_acl.ps1 reads it with no validateset and casts it to InheritanceFlags.

    So "ContainerInherit, ObjectInherit" (the documented default for directories and the examples' value) is
    accepted on Windows; a choices check here would refuse it.
    """
    spec['inherit'].pop('choices', None)


def main() -> None:
    run_module('win_acl', win_acl, adjust_spec=keep_inherit_free)


if __name__ == '__main__':
    main()
