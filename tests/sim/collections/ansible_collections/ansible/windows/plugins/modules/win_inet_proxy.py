# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Simulated-host stand-in for ansible.windows.win_inet_proxy (mirrors win_inet_proxy.ps1 of 3.3.0).

The real module calls ``InternetQueryOptionW`` / ``InternetSetOptionW`` for the *connecting* user's
default LAN connection. The stand-in reads and writes what WinINet keeps for it: the
``DefaultConnectionSettings`` blob (or the named connection's value) under the user's
``...\\Internet Settings\\Connections`` key, plus the legacy mirrors ``ProxyEnable``, ``ProxyServer``,
``ProxyOverride`` and ``AutoConfigURL`` of the default connection. ``become`` is not simulated: the
connecting user is ``HKCU:\\``. With the policy ``ProxySettingsPerUser`` = 0 WinINet keeps one set of
settings for the machine (``HKLM:\\SOFTWARE\\...``), which the simulated agent reads for LocalSystem.
Returns what the real module returns: ``changed`` and, in diff mode, ``diff``.
"""

from __future__ import annotations

import struct
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ansible.windows.plugins.module_utils._sim_agent import PROXY_POLICY_KEY
from ansible_collections.ansible.windows.plugins.module_utils._sim_host import HostState, run_module
from ansible_collections.ansible.windows.plugins.module_utils._sim_registry import Registry, native_value

USER_SETTINGS_KEY = 'HKCU:\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings'
MACHINE_SETTINGS_KEY = 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings'
DEFAULT_CONNECTION = 'DefaultConnectionSettings'
VALID_PROTOCOLS = ('http', 'https', 'ftp', 'socks')

# INTERNET_PER_CONN_FLAGS (PER_CONN_FLAGS in the module's C#).
PROXY_TYPE_DIRECT = 0x1
PROXY_TYPE_PROXY = 0x2
PROXY_TYPE_AUTO_PROXY_URL = 0x4
PROXY_TYPE_AUTO_DETECT = 0x8
# What WinINet reports for a user who never saved settings: "Automatically detect settings" ticked.
UNSAVED_FLAGS = PROXY_TYPE_DIRECT | PROXY_TYPE_AUTO_DETECT
# Version 0x46 (IE7 and later) and the 32 zero bytes Windows writes after the strings without a detection cache.
BLOB_VERSION = 0x46
EMPTY_DETECTION_CACHE = bytes(32)


class ConnectionBlob(t.NamedTuple):
    """A ``DefaultConnectionSettings``-format value, field by field."""

    version: int
    counter: int
    flags: int
    proxy: str
    bypass: str
    auto_config_url: str
    cache: bytes


def _counted_string(data: bytes, offset: int) -> tuple[str, int]:
    (length,) = struct.unpack_from('<I', data, offset)
    end = offset + 4 + length
    if end > len(data):
        raise ValueError('a string runs past the end of the blob')
    return data[offset + 4:end].decode('ascii'), end


def decode_blob(data: bytes) -> ConnectionBlob:
    version, counter, flags = struct.unpack_from('<III', data, 0)
    proxy, offset = _counted_string(data, 12)
    bypass, offset = _counted_string(data, offset)
    url, offset = _counted_string(data, offset)
    return ConnectionBlob(version, counter, flags, proxy, bypass, url, data[offset:])


def encode_blob(blob: ConnectionBlob) -> bytes:
    out = struct.pack('<III', blob.version, blob.counter, blob.flags)
    for text in (blob.proxy, blob.bypass, blob.auto_config_url):
        raw = text.encode('ascii')
        out += struct.pack('<I', len(raw)) + raw
    return out + blob.cache


def settings_key(registry: Registry) -> str:
    """Where WinINet keeps the settings this module sees: the machine's under the per-machine policy."""
    policy = registry.get_value(PROXY_POLICY_KEY, 'ProxySettingsPerUser')
    if policy is not None and policy[1].get('type') == 'REG_DWORD' and policy[1].get('value') == 0:
        return MACHINE_SETTINGS_KEY
    return USER_SETTINGS_KEY


def read_blob(registry: Registry, key: str, value_name: str, module: AnsibleModule) -> t.Optional[ConnectionBlob]:
    found = registry.get_value(key + '\\Connections', value_name)
    if found is None:
        return None
    try:
        return decode_blob(native_value(found[1], f'{key}\\Connections\\{value_name}'))
    except (ValueError, struct.error, UnicodeDecodeError) as exc:
        # Not verified: what InternetQueryOptionW does with a corrupt blob. Fail loudly rather than guess.
        return module.fail_json(msg=f'InternetQueryOptionW(INTERNET_OPTION_PER_CONNECTION_OPTION) failed (The data is invalid, '
                                    f'Win32ErrorCode 13): the simulated blob {value_name} cannot be decoded ({exc})')


def current_settings(blob: t.Optional[ConnectionBlob]) -> dict[str, t.Any]:
    """``WinINetProxy.Refresh()``: strings only count when their flag is set."""
    flags = UNSAVED_FLAGS if blob is None else blob.flags
    manual = bool(flags & PROXY_TYPE_PROXY)
    return {
        'auto_config_url': (blob.auto_config_url or None) if blob and flags & PROXY_TYPE_AUTO_PROXY_URL else None,
        'auto_detect': bool(flags & PROXY_TYPE_AUTO_DETECT),
        'proxy': (blob.proxy or None) if blob and manual else None,
        'bypass': (blob.bypass or None) if blob and manual else None,
    }


def proxy_text(module: AnsibleModule, proxy: t.Any) -> t.Optional[str]:
    """The ``proxy`` option as the PowerShell turns the raw value into a string."""
    if isinstance(proxy, dict):
        invalid = sorted(key for key in proxy if key not in VALID_PROTOCOLS)
        if invalid:
            module.fail_json(msg=f"Invalid keys found in proxy: {', '.join(invalid)}. Valid keys are {', '.join(VALID_PROTOCOLS)}.")
        return ';'.join(f'{key}={dotnet_string(proxy[key])}' for key in VALID_PROTOCOLS if key in proxy)
    return None if proxy is None else dotnet_string(proxy)


def dotnet_string(value: t.Any) -> str:
    """``ToString()`` of what YAML can give."""
    if isinstance(value, bool):
        return 'True' if value else 'False'
    return str(value)


def bypass_text(module: AnsibleModule, bypass: t.Optional[list[str]], proxy: t.Optional[str]) -> t.Optional[str]:
    if not bypass:
        return None
    if not proxy:
        module.fail_json(msg="missing parameter(s) required by ''bypass'': proxy")
    return ';'.join(bypass)


def write_settings(registry: Registry, key: str, value_name: str, previous: t.Optional[ConnectionBlob],
                   wanted: dict[str, t.Any]) -> None:
    """``WinINetProxy.Set()`` as WinINet stores it: the blob (counter + 1, cache kept) and the legacy mirrors."""
    flags = PROXY_TYPE_DIRECT
    flags |= PROXY_TYPE_AUTO_DETECT if wanted['auto_detect'] else 0
    flags |= PROXY_TYPE_AUTO_PROXY_URL if wanted['auto_config_url'] else 0
    flags |= PROXY_TYPE_PROXY if wanted['proxy'] else 0
    blob = ConnectionBlob(
        version=previous.version if previous else BLOB_VERSION,
        counter=((previous.counter + 1) & 0xFFFFFFFF) if previous else 1,
        flags=flags,
        proxy=wanted['proxy'] or '',
        bypass=wanted['bypass'] or '',
        auto_config_url=wanted['auto_config_url'] or '',
        cache=previous.cache if previous else EMPTY_DETECTION_CACHE,
    )
    registry.set_value(key + '\\Connections', value_name, 'REG_BINARY', encode_blob(blob))
    if value_name != DEFAULT_CONNECTION:
        return
    registry.set_value(key, 'ProxyEnable', 'REG_DWORD', 1 if wanted['proxy'] else 0)
    for name, text in (('ProxyServer', wanted['proxy']), ('ProxyOverride', wanted['bypass']), ('AutoConfigURL', wanted['auto_config_url'])):
        if text:
            registry.set_value(key, name, 'REG_SZ', text)
        elif name == 'AutoConfigURL':
            registry.delete_value(key, name)


def inet_proxy(module: AnsibleModule, state: HostState) -> dict[str, t.Any]:
    params = module.params
    proxy = proxy_text(module, params['proxy'])
    bypass = bypass_text(module, params['bypass'], proxy)
    key = settings_key(state.registry)
    value_name = params['connection'] if params['connection'] is not None else DEFAULT_CONNECTION
    if params['connection'] is not None and state.registry.get_value(key + '\\Connections', value_name) is None:
        # RasValidateEntryNameW: the simulated phonebook is the connection values that exist.
        module.fail_json(msg=f"The connection '{params['connection']}' does not exist.")

    previous = read_blob(state.registry, key, value_name, module)
    before = current_settings(previous)
    wanted = {
        'auto_config_url': params['auto_config_url'] or None,
        'auto_detect': params['auto_detect'],
        'proxy': proxy or None,
        'bypass': bypass or None,
    }
    changed = before != wanted
    if changed and not module.check_mode:
        write_settings(state.registry, key, value_name, previous, wanted)

    result: dict[str, t.Any] = {'changed': changed}
    if module._diff:  # pylint: disable=protected-access
        # The real module names the proxy `server` before and `proxy` after.
        result['diff'] = {
            'before': {'auto_config_url': before['auto_config_url'], 'auto_detect': before['auto_detect'],
                       'bypass': before['bypass'], 'server': before['proxy']},
            'after': wanted,
        }
    return result


def main() -> None:
    run_module('win_inet_proxy', inet_proxy, module_kwargs={'required_by': {'bypass': ['proxy']}})


if __name__ == '__main__':
    main()
