# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Simulated-host stand-in for ansible.windows.win_regedit (mirrors win_regedit.ps1 of 3.3.0).

Data conversions, comparisons, results and the diff follow the PowerShell line by line, quirks
included (multistring values compare case-insensitively, a value created anew leaves
``data_changed`` false, ``name: ''`` with ``state: absent`` deletes the whole key).
"""

from __future__ import annotations

import re
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ansible.windows.plugins.module_utils._sim_host import HostState, run_module, unhandled
from ansible_collections.ansible.windows.plugins.module_utils._sim_registry import (
    REG_TYPES,
    VALUE_KINDS,
    RegistryError,
    StateFormatError,
    _fold,
    expand_environment_strings,
    native_value,
    KEY_WRITE_DENIED,
    VALUE_WRITE_DENIED,
    split_path,
)

VALID_PATH = r'^HK(CC|CR|CU|LM|U):\\'
UINT32_MAX = 0xFFFFFFFF
UINT64_MAX = 0xFFFFFFFFFFFFFFFF


class ConversionError(Exception):
    """A .NET cast the real module does not catch; Ansible.Basic reports it as an unhandled exception."""


def _cast_message(value: t.Any, target: str, reason: str) -> str:
    return f'Cannot convert value "{value}" to type "{target}". Error: "{reason}"'


# --- Data conversions (the "convert the data to the required format" block) -------------------------------

def hex_export_to_bytes(text: str) -> bytes:
    """Convert-RegExportHexStringToByteArray: ``hex:be,ef``, ``be:ef`` or ``beef`` -> bytes.

    An odd-length string without separators gives no bytes at all, as in the real function.
    """
    text = re.sub(r'^hex:', '', text.lower())
    text = re.sub(r'[^a-f0-9\\,x\-:]', '', text)
    text = text.replace(',', ':')
    if not text:
        return b''
    if len(text) == 1:
        return bytes([int(text, 16)])
    if len(text) % 2 == 0 and ':' not in text:
        return bytes(int(text[i:i + 2], 16) for i in range(0, len(text), 2))
    if ':' in text:
        return bytes(_to_byte_base16(piece) for piece in re.split(':+', text))
    return b''


def _to_byte_base16(piece: str) -> int:
    """[System.Convert]::ToByte(piece, 16), which accepts an optional 0x prefix."""
    digits = piece[2:] if piece.startswith('0x') else piece
    try:
        number = int(digits, 16) if digits and '-' not in digits and '\\' not in digits else None
    except ValueError:
        number = None
    if number is None:
        raise ConversionError('Exception calling "ToByte" with "2" argument(s): "Could not find any recognizable digits."')
    if number > 0xFF:
        raise ConversionError('Exception calling "ToByte" with "2" argument(s): "Value was either too large or too small for an unsigned byte."')
    return number


def _ps_to_uint64(value: str) -> int:
    """PowerShell's [UInt64]"text": decimal or 0x hex, surrounding blanks ignored."""
    text = value.strip()
    try:
        number = int(text[2:], 16) if text.lower().startswith('0x') else int(text, 10)
    except ValueError:
        raise ConversionError(_cast_message(value, 'System.UInt64', 'Input string was not in a correct format.')) from None
    if number < 0 or number > UINT64_MAX:
        raise ConversionError(_cast_message(value, 'System.UInt64', 'Value was either too large or too small for a UInt64.'))
    return number


def _ps_to_byte(value: t.Any) -> int:
    if isinstance(value, str):
        number = _ps_to_uint64(value) if value.strip() else 0
    elif isinstance(value, (int, float)):
        number = int(value)
    else:
        raise ConversionError(_cast_message(value, 'System.Byte', 'Invalid cast.'))
    if not 0 <= number <= 0xFF:
        raise ConversionError(_cast_message(value, 'System.Byte', 'Value was either too large or too small for an unsigned byte.'))
    return number


def binary_data(module: AnsibleModule, data: t.Any, outcome: Outcome) -> bytes:
    if data is None:
        data = ''
    if isinstance(data, str):
        return hex_export_to_bytes(data)
    if isinstance(data, int) and not isinstance(data, bool):
        if data > 255:
            outcome.fail(module, f"cannot convert binary data '{data}' to byte array, please specify this value as a yaml byte "
                                 "array or a comma separated hex value string")
        return bytes([_ps_to_byte(data)])
    if isinstance(data, list):
        return bytes(_ps_to_byte(item) for item in data)
    raise ConversionError('The type of the value object did not match the specified RegistryValueKind or the object could '
                          'not be properly converted.')


def integer_data(module: AnsibleModule, data: t.Any, reg_type: str, outcome: Outcome) -> int:
    """dword/qword data as the unsigned number the registry stores."""
    if data is None:
        data = 0
    if isinstance(data, str):
        data = _ps_to_uint64(data)
    elif isinstance(data, float):
        if data % 1 != 0:
            outcome.fail(module, f"data '{data}' cannot be a decimal or float value with a remainder when type is dword or qword")
        data = int(data)
    elif isinstance(data, bool):
        data = int(data)
    elif not isinstance(data, int):
        raise ConversionError(_cast_message(data, 'System.Int32', 'Invalid cast.'))
    if reg_type == 'REG_DWORD':
        if data > UINT32_MAX:
            outcome.fail(module, 'data cannot be larger than 0xffffffff when type is dword')
        if data < -(2 ** 31):
            raise ConversionError(_cast_message(data, 'System.Int32', 'Value was either too large or too small for an Int32.'))
        return data & UINT32_MAX
    if data > UINT64_MAX:
        outcome.fail(module, 'data cannot be larger than 0xffffffffffffffff when type is qword')
    if data < -(2 ** 63):
        raise ConversionError(_cast_message(data, 'System.Int64', 'Value was either too large or too small for an Int64.'))
    return data & UINT64_MAX


def _dotnet_string(value: t.Any) -> str:
    """Object.ToString() of what YAML can give, as RegistryKey.SetValue stores a non-string."""
    if isinstance(value, bool):
        return 'True' if value else 'False'
    if isinstance(value, list):
        return 'System.Object[]'
    if isinstance(value, dict):
        return 'System.Collections.Hashtable'
    return str(value)


def convert_data(module: AnsibleModule, data: t.Any, reg_type: str, name: t.Optional[str], outcome: Outcome) -> t.Any:
    """The real module's conversion of ``data`` for ``type``; None means "no data, only the key"."""
    if reg_type in ('REG_BINARY', 'REG_NONE'):
        return binary_data(module, data, outcome)
    if reg_type in ('REG_DWORD', 'REG_QWORD'):
        return integer_data(module, data, reg_type, outcome)
    if reg_type == 'REG_MULTI_SZ':
        if data is None:
            # `[string[]]$data = @()`: an empty array, which creates an empty value where none exists.
            return []
        if isinstance(data, list):
            # `[string[]]$data = foreach (...) { ... }` (~L456-460): a foreach that outputs nothing is $null,
            # so `data: []` is "no data" and Set-StatePresent returns before comparing or writing (~L300-304).
            return [_dotnet_string(item) for item in data] or None
        return [_dotnet_string(data)]
    # string / expandstring: a missing value becomes '' only for a named value, not for (Default).
    if data is None:
        return '' if name else None
    return _dotnet_string(data)


# --- Comparison and diff ----------------------------------------------------------------------------------

def _ps_equal(left: t.Any, right: t.Any, case_sensitive: bool) -> bool:
    """PowerShell equality: the right operand is converted to the left one's type."""
    if isinstance(left, str):
        right_text = _dotnet_string(right)
        return left == right_text if case_sensitive else left.casefold() == right_text.casefold()
    if isinstance(left, int):
        try:
            return left == (right if isinstance(right, int) else _ps_to_uint64(str(right)))
        except ConversionError:
            return False
    return left == right


def values_differ(existing: t.Any, new: t.Any) -> bool:
    """Compare-RegistryProperty: arrays through Compare-Object -SyncWindow 0 (case-insensitive), else -cne."""
    if isinstance(existing, (list, bytes)):
        old_items = list(existing)
        new_items = list(new) if isinstance(new, (list, bytes)) else [new]
        if len(old_items) != len(new_items):
            return True
        return any(not _ps_equal(a, b, case_sensitive=False) for a, b in zip(old_items, new_items))
    return not _ps_equal(existing, new, case_sensitive=True)


def diff_value(reg_type: str, value: t.Any) -> dict[str, t.Any]:
    """Get-DiffValue: the RegistryValueKind name and the value as the real diff shows it."""
    kind = VALUE_KINDS[reg_type]
    if reg_type in ('REG_BINARY', 'REG_NONE'):
        return {'type': kind, 'value': [f'0x{byte:02x}' for byte in value]}
    if reg_type == 'REG_DWORD':
        return {'type': kind, 'value': f'0x{value:08x}'}
    if reg_type == 'REG_QWORD':
        return {'type': kind, 'value': f'0x{value:016x}'}
    return {'type': kind, 'value': value}


# --- State changes -----------------------------------------------------------------------------------------
#
# How win_regedit.ps1 (ansible.windows 3.3.0) meets a refusal, and what the stand-in reproduces. It uses
# Microsoft.Win32.RegistryKey directly, in the module process's registry view ([Microsoft.Win32.Registry]::
# LocalMachine etc., L470-477), never the registry provider cmdlets:
# - Set-StatePresent / Set-StateAbsent open the key with $Hive.OpenSubKey($Path, $true) outside any try block
#   (L211, L277): a key whose ACL refuses writing throws SecurityException; the module's $ErrorActionPreference
#   is Stop (ansible-core executor/powershell/module_wrapper.ps1), nothing catches it, and the wrapper reports
#   {failed, msg: "Unhandled exception while executing module: $ErrorRecord", exception} and nothing else.
# - CreateSubKey($Path) (L283) is caught: FailJson("failed to create registry key at <path>: ...") (L286).
# - SetValue($Name, $Data, $Type) (L331, L352) is caught: FailJson("failed to change|create registry property
#   '<name>' at <path>: ...") (L334, L355), after data_changed/data_type_changed (L314-324) and the key's diff
#   entry (L296-297) were set and before changed (L337, L358).
# - DeleteValue($Name) (L246) never throws for a refusal (.NET ignores RegDeleteValue's errors, see
#   _sim_registry.VALUE_WRITE_DENIED's comment): changed true (L253), the diff shows the value gone, and it stays.
# "$($_.Exception.Message)" of a .NET method call is PowerShell's MethodInvocationException text,
# 'Exception calling "<method>" with "<n>" argument(s): "<.NET message>"' (PowerShell's ExtendedTypeSystem.resx).

def _method_failed(method: str, arguments: int, message: str) -> str:
    """The MethodInvocationException message PowerShell puts around a .NET exception."""
    return f'Exception calling "{method}" with "{arguments}" argument(s): "{message}"'


def _value_denied(state: HostState, path: str, name: str) -> bool:
    """Whether ``faults.registry_write_denied`` refuses writing this one value.

    Entries are ``<key path>\\<value name>``, matched as the registry matches (case-insensitive,
    ``HKU:\\.DEFAULT`` is ``S-1-5-18``). Windows keeps ACLs per key, not per value: this is a refusal of the
    RegSetValueEx/RegDeleteValue call itself (a registry filter such as an endpoint product's tamper
    protection), which returns ERROR_ACCESS_DENIED through a handle that was opened for writing.
    """
    faults = state.data.get('faults') or {}
    denied = faults.get('registry_write_denied') if isinstance(faults, dict) else None
    if denied is None:
        return False
    if not isinstance(denied, list) or not all(isinstance(entry, str) and '\\' in entry for entry in denied):
        raise StateFormatError(f'faults.registry_write_denied must be a list of "<key path>\\<value name>" strings, got {denied!r}')
    hive, parts = split_path(path)
    wanted = _fold(hive, parts) + (name.casefold(),)
    for entry in denied:
        key, _sep, value_name = entry.rpartition('\\')
        entry_hive, entry_parts = split_path(key)
        if _fold(entry_hive, entry_parts) + (value_name.casefold(),) == wanted:
            return True
    return False


def set_value(module: AnsibleModule, state: HostState, path: str, name: str, stored_name: str, reg_type: str, data: t.Any,
              verb: str, outcome: 'Outcome') -> None:
    """``$key.SetValue($Name, $Data, $Type)`` in its try block (win_regedit.ps1 L330-335 change, L351-356 create).

    A refused RegSetValueEx is Win32Error(ret, null) in .NET: the generic UnauthorizedAccessException message,
    which names neither key nor value (registrykey.cs L1601, L1669). The module's message names both, as
    given in the task (``$Name``, ``$PrintPath``); the registry keeps an existing value's own spelling.
    """
    if _value_denied(state, path, stored_name):
        outcome.fail(module, f"failed to {verb} registry property '{name}' at {path}: "
                             f"{_method_failed('SetValue', 3, VALUE_WRITE_DENIED)}")
    state.registry.set_value(path, stored_name, reg_type, data)


def delete_value(state: HostState, path: str, name: str) -> None:
    """``$key.DeleteValue($Name)`` (win_regedit.ps1 L246): a refused RegDeleteValue is ignored by .NET, the value stays."""
    if not _value_denied(state, path, name):
        state.registry.delete_value(path, name)


def denied_keys(state: HostState) -> list[str]:
    """``faults.registry_key_write_denied``: the keys whose ACL refuses writing."""
    faults = state.data.get('faults') or {}
    denied = faults.get('registry_key_write_denied') if isinstance(faults, dict) else None
    if denied is None:
        return []
    if not isinstance(denied, list) or not all(isinstance(entry, str) for entry in denied):
        raise StateFormatError(f'faults.registry_key_write_denied must be a list of key paths, got {denied!r}')
    return denied


def deny_key(module: AnsibleModule, state: HostState, path: str) -> None:
    """Fail as win_regedit does on a key whose ACL refuses writes (``faults.registry_key_write_denied``).

    ``$Hive.OpenSubKey($Path, $true)`` comes first in Set-StatePresent and Set-StateAbsent, outside any try
    block (win_regedit.ps1 L211, L277), so EVERY call on such a key fails, in check mode too and also when
    nothing would change. A key that does not exist opens as $null without an error.
    """
    denied = denied_keys(state)
    registry = state.registry
    if not registry.key_exists(path):
        return
    wanted = _fold(*split_path(path))
    if any(_fold(*split_path(entry)) == wanted for entry in denied):
        unhandled(module, _method_failed('OpenSubKey', 2, KEY_WRITE_DENIED))


class Outcome:
    """The module's result and diff as the PowerShell builds them up."""

    def __init__(self) -> None:
        # L39-40, before anything can fail: every failure carries them (FailJson returns the Result so far).
        self.result: dict[str, t.Any] = {'changed': False, 'data_changed': False, 'data_type_changed': False}
        # L42-43: `$module.Diff.before = ""` and `.after = ""`, until Set-State* assigns the key's entries. The Diff
        # is never empty, so in diff mode every result has `diff` (Ansible.Basic.cs: `if (Diff.Count > 0 && DiffMode)`).
        self.before: t.Any = ''
        self.after: t.Any = ''

    def report(self, module: AnsibleModule) -> dict[str, t.Any]:
        """Result plus ``diff`` as GetFormattedResults adds it: in diff mode (the Diff always has entries)."""
        result = dict(self.result)
        if module._diff:  # pylint: disable=protected-access
            result['diff'] = {'before': self.before, 'after': self.after}
        return result

    def fail(self, module: AnsibleModule, message: str) -> t.NoReturn:
        """$Module.FailJson(message, $_): the result so far (and the diff so far) with failed and msg."""
        module.fail_json(msg=message, **self.report(module))


def set_absent(module: AnsibleModule, state: HostState, path: str, name: t.Optional[str], delete_key: bool,
               outcome: Outcome) -> None:
    """Set-StateAbsent."""
    registry = state.registry
    if not registry.key_exists(path):
        return
    if delete_key and not name:
        if not module.check_mode:
            registry.delete_key_tree(path)
            state.registry_acl.forget(path)  # the key's security descriptor goes with it
        outcome.result['changed'] = True
        outcome.before, outcome.after = {path: {}}, {}
        return
    # [String]$Name turns $null into '': delete_key=false without a name clears (Default).
    found = registry.get_value(path, name or '')
    if found is None:
        return
    stored_name, entry = found
    value = native_value(entry, f'{path} value {stored_name!r}')
    if entry['type'] == 'REG_EXPAND_SZ':
        # This GetValue has no DoNotExpandEnvironmentNames: the diff shows the expanded text.
        value = expand_environment_strings(value, registry.expansion_environment())
    if not module.check_mode:
        delete_value(state, path, stored_name)
    outcome.result['changed'] = True
    outcome.before = {path: {name or '': diff_value(entry['type'], value)}}
    outcome.after = {path: {}}


def set_present(module: AnsibleModule, state: HostState, path: str, name: str, data: t.Any, reg_type: str,
                outcome: Outcome) -> None:
    """Set-StatePresent."""
    registry = state.registry
    if not registry.key_exists(path):
        if not module.check_mode:
            try:
                # A missing key under one whose ACL refuses writing: OpenSubKey gave $null, RegCreateKeyEx is refused.
                registry.create_key(path, refused=denied_keys(state))
            except RegistryError as exc:
                # L282-287: caught; the diff is still L42-43's empty strings here (the key's entries come at L291-292).
                outcome.fail(module, f"failed to create registry key at {path}: {_method_failed('CreateSubKey', 1, str(exc))}")
        outcome.result['changed'] = True
        outcome.before, outcome.after = {}, {path: {}}
        if module.check_mode:
            # The key does not exist in check mode: nothing more can be compared.
            return
    else:
        outcome.before, outcome.after = {path: {}}, {path: {}}
    if data is None:
        return

    found = registry.get_value(path, name)
    if found is None:
        if not module.check_mode:
            set_value(module, state, path, name, name, reg_type, data, 'create', outcome)
        outcome.result['changed'] = True
        outcome.after[path][name] = diff_value(reg_type, data)
        return

    stored_name, entry = found
    existing_type = entry['type']
    existing = native_value(entry, f'{path} value {stored_name!r}')
    change = False
    if reg_type != existing_type:
        change = True
        outcome.result['data_type_changed'] = True
        outcome.result['data_changed'] = values_differ(existing, data)
    elif values_differ(existing, data):
        change = True
        outcome.result['data_changed'] = True
    if change:
        if not module.check_mode:
            set_value(module, state, path, name, stored_name, reg_type, data, 'change', outcome)
        outcome.result['changed'] = True
        outcome.before[path][name] = diff_value(existing_type, existing)
        outcome.after[path][name] = diff_value(reg_type, data)
    else:
        outcome.before[path][name] = outcome.after[path][name] = diff_value(existing_type, existing)


def regedit(module: AnsibleModule, state: HostState) -> dict[str, t.Any]:
    params = module.params
    path: str = params['path']
    name: t.Optional[str] = params['name']
    type_choice: str = params['type']
    outcome = Outcome()

    if name is None and type_choice != 'string':
        module.warn("the data type when name is not specified can only be 'string', the type has automatically been converted")
        type_choice = 'string'
    if not re.match(VALID_PATH, path, re.IGNORECASE):
        outcome.fail(module, f'path: {path} is not a valid powershell path, see module documentation for examples.')
    if name == '':
        name = None
    if params['hive']:
        hive = params['hive']
        if state.find_file(hive) is None:
            outcome.fail(module, f"hive at path '{hive}' is not valid or accessible, cannot load hive")
        outcome.fail(module, f'loading the registry hive file {hive} is not simulated by the sim host')

    reg_type = REG_TYPES[type_choice]
    try:
        data = convert_data(module, params['data'], reg_type, name, outcome)
    except ConversionError as exc:
        unhandled(module, str(exc))

    deny_key(module, state, path)
    if params['state'] == 'present':
        set_present(module, state, path, name or '', data, reg_type, outcome)
    else:
        set_absent(module, state, path, name, params['delete_key'], outcome)

    return outcome.report(module)


def main() -> None:
    # `data` carries the value itself: a no_log task must not leave it in the calls record.
    run_module('win_regedit', regedit, value_args=('data',))


if __name__ == '__main__':
    main()
