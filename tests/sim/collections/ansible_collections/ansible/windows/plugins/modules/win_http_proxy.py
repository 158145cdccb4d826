# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Simulated-host stand-in for ansible.windows.win_http_proxy (mirrors win_http_proxy.ps1 of 3.3.0).

The real module calls ``WinHttpGetDefaultProxyConfiguration`` / ``WinHttpSetDefaultProxyConfiguration``;
the stand-in reads and writes what those keep: the ``WinHttpSettings`` blob of the native registry view
(``HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections``), written as
``netsh winhttp set proxy`` writes it on 64-bit Windows (header 0x28, counter 0, flags 3 with a proxy,
1 without). ``source: ie`` imports the connecting user's WinINet proxy (``HKCU:\\``; the machine's under
the policy ``ProxySettingsPerUser`` = 0), as ``WinHttpGetIEProxyConfigForCurrentUser`` reports it.
Returns what the real module returns: ``changed`` and, in diff mode, ``diff``.
"""

from __future__ import annotations

import struct
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ansible.windows.plugins.module_utils._sim_agent import (
    MACHINE_CONNECTIONS_KEY,
    PROXY_POLICY_KEY,
    decode_connection_settings,
    decode_winhttp_settings,
)
from ansible_collections.ansible.windows.plugins.module_utils._sim_host import HostState, run_module
from ansible_collections.ansible.windows.plugins.module_utils._sim_registry import Registry, native_value

WINHTTP_VALUE = 'WinHttpSettings'
USER_CONNECTIONS_KEY = 'HKCU:\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections'
VALID_PROTOCOLS = ('http', 'https', 'ftp', 'socks')
NETSH_HEADER = 0x28
PROXY_TYPE_DIRECT = 0x1
PROXY_TYPE_PROXY = 0x2


def invalid_data(module: AnsibleModule, call: str, exc: Exception) -> t.NoReturn:
    # Not verified: what the API does with a corrupt blob. Fail loudly rather than guess.
    module.fail_json(msg=f'{call}() failed (The data is invalid, Win32ErrorCode 13): the simulated blob cannot be decoded ({exc})')


def current_proxy(module: AnsibleModule, registry: Registry) -> tuple[t.Optional[str], t.Optional[str]]:
    """``WinHttpProxy.Refresh()``: (proxy, bypass), both null for direct access or a missing value."""
    found = registry.get_value(MACHINE_CONNECTIONS_KEY, WINHTTP_VALUE)
    if found is None:
        return None, None
    try:
        info = decode_winhttp_settings(native_value(found[1], f'{MACHINE_CONNECTIONS_KEY}\\{WINHTTP_VALUE}'))
    except ValueError as exc:
        invalid_data(module, 'WinHttpGetDefaultProxyConfiguration', exc)
    if not info.flags & PROXY_TYPE_PROXY:
        return None, None
    return info.proxy or None, info.bypass or None


def ie_proxy(module: AnsibleModule, registry: Registry) -> tuple[t.Optional[str], t.Optional[str]]:
    """``WinHttpGetIEProxyConfigForCurrentUser``: the connecting user's manual proxy and bypass, if ticked."""
    policy = registry.get_value(PROXY_POLICY_KEY, 'ProxySettingsPerUser')
    machine = policy is not None and policy[1].get('type') == 'REG_DWORD' and policy[1].get('value') == 0
    key = MACHINE_CONNECTIONS_KEY if machine else USER_CONNECTIONS_KEY
    found = registry.get_value(key, 'DefaultConnectionSettings')
    if found is None:
        return None, None
    try:
        config = decode_connection_settings(native_value(found[1], f'{key}\\DefaultConnectionSettings'))
    except ValueError as exc:
        invalid_data(module, 'WinHttpGetIEProxyConfigForCurrentUser', exc)
    if not config.flags & PROXY_TYPE_PROXY:
        return None, None
    return config.proxy or None, config.bypass or None


def dotnet_string(value: t.Any) -> str:
    if isinstance(value, bool):
        return 'True' if value else 'False'
    return str(value)


def proxy_text(module: AnsibleModule, proxy: t.Any) -> t.Optional[str]:
    """The ``proxy`` option as the PowerShell turns the raw value into a string."""
    if isinstance(proxy, dict):
        invalid = sorted(key for key in proxy if key not in VALID_PROTOCOLS)
        if invalid:
            module.fail_json(msg=f"Invalid keys found in proxy: {', '.join(invalid)}. Valid keys are {', '.join(VALID_PROTOCOLS)}.")
        return ';'.join(f'{key}={dotnet_string(proxy[key])}' for key in VALID_PROTOCOLS if key in proxy)
    return None if proxy is None else dotnet_string(proxy)


def encode_settings(proxy: t.Optional[str], bypass: t.Optional[str]) -> bytes:
    """``WinHttpSetDefaultProxyConfiguration``: NO_PROXY (flags 1, no strings) or NAMED_PROXY (flags 3)."""
    flags = PROXY_TYPE_DIRECT | (PROXY_TYPE_PROXY if proxy else 0)
    out = struct.pack('<III', NETSH_HEADER, 0, flags)
    for text in ((proxy or '', bypass or '') if proxy else ('', '')):
        raw = text.encode('ascii')
        out += struct.pack('<I', len(raw)) + raw
    return out


def http_proxy(module: AnsibleModule, state: HostState) -> dict[str, t.Any]:
    params = module.params
    proxy = proxy_text(module, params['proxy'])
    bypass: t.Optional[str] = None
    if params['bypass']:
        if not proxy:
            module.fail_json(msg="missing parameter(s) required by ''bypass'': proxy")
        bypass = ';'.join(params['bypass'])

    previous = current_proxy(module, state.registry)
    if params['source'] == 'ie':
        proxy, bypass = ie_proxy(module, state.registry)
    wanted = (proxy or None, bypass or None)

    changed = wanted != previous
    if changed and not module.check_mode:
        state.registry.set_value(MACHINE_CONNECTIONS_KEY, WINHTTP_VALUE, 'REG_BINARY', encode_settings(*wanted))

    result: dict[str, t.Any] = {'changed': changed}
    if module._diff:  # pylint: disable=protected-access
        result['diff'] = {'before': {'proxy': previous[0], 'bypass': previous[1]},
                          'after': {'proxy': wanted[0], 'bypass': wanted[1]}}
    return result


def main() -> None:
    run_module('win_http_proxy', http_proxy, module_kwargs={
        'mutually_exclusive': [['proxy', 'source'], ['bypass', 'source']],
        'required_by': {'bypass': ['proxy']},
    })


if __name__ == '__main__':
    main()
