# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Simulated-host stand-in for ansible.windows.win_reg_stat (mirrors win_reg_stat.ps1 of 3.3.0).

Not a documented module: its options are the real module's, read from the real DOCUMENTATION.
"""

from __future__ import annotations

import re
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ansible.windows.plugins.module_utils._sim_host import HostState, run_module
from ansible_collections.ansible.windows.plugins.module_utils._sim_registry import (
    Registry,
    expand_environment_strings,
    native_value,
)

VALID_PATH = r'^HK(CC|CR|CU|LM|U):\\'


def property_info(registry: Registry, path: str, name: str, entry: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """Get-PropertyValue: type, value (expanded) and raw_value (as stored) of one value."""
    reg_type = entry['type']
    value = native_value(entry, f'{path} value {name!r}')
    raw_value: t.Any = value
    if reg_type in ('REG_BINARY', 'REG_NONE'):
        raw_value = [f'0x{byte:02x}' for byte in value]
        value = list(value)
    elif reg_type == 'REG_EXPAND_SZ':
        # GetValue expands; GetValue(..., DoNotExpandEnvironmentNames) gives raw_value.
        value = expand_environment_strings(value, registry.expansion_environment())
    elif reg_type == 'REG_MULTI_SZ':
        raw_value = list(value)
    if name == '':
        # The (Default) value fails GetValueKind, so the real module reports it as REG_SZ whatever it is.
        reg_type = 'REG_SZ'
    return {'type': reg_type, 'value': value, 'raw_value': raw_value}


def reg_stat(module: AnsibleModule, state: HostState) -> dict[str, t.Any]:
    path: str = module.params['path']
    name: t.Optional[str] = module.params['name']
    result: dict[str, t.Any] = {'changed': False}
    # PowerShell's -notmatch is case-insensitive.
    if not re.match(VALID_PATH, path, re.IGNORECASE):
        module.fail_json(msg=f'path: {path} is not a valid registry path, see module documentation for examples.', **result)
    registry = state.registry
    if not registry.key_exists(path):
        result['exists'] = False
        return result
    if name is None:
        properties: dict[str, t.Any] = {}
        default: t.Optional[dict[str, t.Any]] = None
        for value_name, entry in registry.values(path).items():
            info = property_info(registry, path, value_name, entry)
            if value_name == '':
                default = info
            else:
                properties[value_name] = info
        if default is not None:
            # The real module adds the (Default) value last, under the key "".
            properties[''] = default
        result.update(exists=True, properties=properties, sub_keys=registry.sub_keys(path))
        return result
    found = registry.get_value(path, name)
    if found is None:
        result['exists'] = False
    else:
        result['exists'] = True
        result.update(property_info(registry, path, found[0], found[1]))
    return result


def drop_undocumented_alias(spec: dict[str, t.Any]) -> None:
    """The docs list alias ``property``, but win_reg_stat.ps1 reads only ``name``, ``entry`` and ``value``.

    It is a legacy module: on Windows ``property: X`` is silently ignored and the whole key is returned.
    Rejecting it here makes that mistake fail in tests instead.
    """
    spec['name']['aliases'] = [alias for alias in spec['name'].get('aliases', []) if alias != 'property']


def main() -> None:
    run_module('win_reg_stat', reg_stat, adjust_spec=drop_undocumented_alias)


if __name__ == '__main__':
    main()
