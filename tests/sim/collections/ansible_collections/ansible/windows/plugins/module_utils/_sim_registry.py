# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The simulated Windows registry: the ``registry`` section of a sim host's state document.

The section maps PowerShell-style key paths (``HKLM:\\SOFTWARE\\...``, ``HKU:\\S-1-5-18\\...``) to the
key's values, ``{name: {"type": "REG_*", "value": ...}}``; ``""`` is the key's (Default) value. Like the
real registry, key paths and value names are case-insensitive and keep the case they were created with.
A key exists when it is listed or when a listed key lies beneath it (hand-written states need not list
parents); keys this code creates list their missing parents explicitly, as ``CreateSubKey`` makes them.
"""

from __future__ import annotations

import re
import typing as t

# PowerShell's registry drives, as win_regedit / win_reg_stat accept them (``^HK(CC|CR|CU|LM|U):\\``).
HIVE_NAMES = {
    'HKLM': 'HKEY_LOCAL_MACHINE',
    'HKU': 'HKEY_USERS',
    'HKCU': 'HKEY_CURRENT_USER',
    'HKCR': 'HKEY_CLASSES_ROOT',
    'HKCC': 'HKEY_CURRENT_CONFIG',
}
# Keys that exist on every Windows host. HKLM and HKU only hold mounted hives: nobody can create a key
# directly beneath them (CreateSubKey fails with access denied).
BUILTIN_KEYS = {
    'HKLM': ('SOFTWARE', 'SYSTEM', 'HARDWARE', 'SAM', 'SECURITY'),
    'HKU': ('.DEFAULT', 'S-1-5-18', 'S-1-5-19', 'S-1-5-20'),
}
READ_ONLY_ROOTS = ('HKLM', 'HKU')

# .NET Framework's messages for a refused registry write (microsoft/referencesource,
# mscorlib/microsoft/win32/registrykey.cs and the resource strings in mscorlib/mscorlib.txt):
# - OpenSubKey(name, true) when RegOpenKeyEx returns ERROR_ACCESS_DENIED throws SecurityException
#   Security_RegistryPermission (registrykey.cs L749-754, mscorlib.txt L1802);
# - CreateSubKey when RegCreateKeyEx is refused calls Win32Error(ret, keyName + "\\" + subkey) (L406): an
#   UnauthorizedAccessException UnauthorizedAccess_RegistryKeyGeneric_Key naming the whole key asked for
#   (L1664-1667, mscorlib.txt L1789);
# - SetValue when RegSetValueEx is refused calls Win32Error(ret, null) (L1601): UnauthorizedAccessException()
#   with the generic Arg_UnauthorizedAccessException (L1669, mscorlib.txt L277);
# - DeleteValue ignores every error of RegDeleteValue but "not found" (L584-603, "We really should throw an
#   exception here if errorCode was bad, but we can't for compatibility reasons"): a refused delete is silent.
KEY_WRITE_DENIED = 'Requested registry access is not allowed.'
KEY_CREATE_DENIED = "Access to the registry key '{key}' is denied."
VALUE_WRITE_DENIED = 'Attempted to perform an unauthorized operation.'

# win_regedit's `type` choices -> registry type names, and the .NET RegistryValueKind names its diff shows.
REG_TYPES = {
    'string': 'REG_SZ',
    'expandstring': 'REG_EXPAND_SZ',
    'binary': 'REG_BINARY',
    'dword': 'REG_DWORD',
    'qword': 'REG_QWORD',
    'multistring': 'REG_MULTI_SZ',
    'none': 'REG_NONE',
}
VALUE_KINDS = {
    'REG_SZ': 'String',
    'REG_EXPAND_SZ': 'ExpandString',
    'REG_BINARY': 'Binary',
    'REG_DWORD': 'DWord',
    'REG_QWORD': 'QWord',
    'REG_MULTI_SZ': 'MultiString',
    'REG_NONE': 'None',
}

# Variables every Windows process sees; REG_EXPAND_SZ values are expanded against these and the
# system environment of the state.
DEFAULT_ENVIRONMENT = {
    'SystemDrive': 'C:',
    'SystemRoot': 'C:\\Windows',
    'windir': 'C:\\Windows',
    'ProgramData': 'C:\\ProgramData',
    'ProgramFiles': 'C:\\Program Files',
    'ProgramFiles(x86)': 'C:\\Program Files (x86)',
    'CommonProgramFiles': 'C:\\Program Files\\Common Files',
    'ALLUSERSPROFILE': 'C:\\ProgramData',
    'PUBLIC': 'C:\\Users\\Public',
    'TEMP': 'C:\\Windows\\TEMP',
    'TMP': 'C:\\Windows\\TEMP',
}
SYSTEM_ENVIRONMENT_KEY = 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment'

Values = t.Dict[str, t.Dict[str, t.Any]]


class RegistryError(Exception):
    """A registry operation Windows would refuse; the message reads like the .NET exception's."""


class StateFormatError(ValueError):
    """The state document holds something the registry cannot hold; the message names it."""


def split_path(path: str) -> tuple[str, list[str]]:
    """``HKLM:\\A\\\\B\\`` -> ("HKLM", ["A", "B"]).

    .NET's ``RegistryKey`` fixes names up the same way: doubled and trailing backslashes are dropped.
    """
    match = re.match(r'^(HK(?:CC|CR|CU|LM|U)):(.*)$', path, re.IGNORECASE)
    if not match:
        raise StateFormatError(f'{path!r} is not a registry path of the form HKLM:\\SOFTWARE\\...')
    return match.group(1).upper(), [part for part in match.group(2).split('\\') if part]


def join_path(hive: str, parts: t.Sequence[str]) -> str:
    return hive + ':\\' + '\\'.join(parts)


def _fold(hive: str, parts: t.Sequence[str]) -> tuple[str, ...]:
    """Comparison form: case-insensitive, and HKU\\.DEFAULT is the LocalSystem hive HKU\\S-1-5-18."""
    folded = [part.casefold() for part in parts]
    if hive == 'HKU' and folded and folded[0] == '.default':
        folded[0] = 's-1-5-18'
    return (hive,) + tuple(folded)


def print_path(hive: str, parts: t.Sequence[str]) -> str:
    """The key as Windows names it in messages (``HKEY_LOCAL_MACHINE\\SOFTWARE\\...``)."""
    return '\\'.join([HIVE_NAMES[hive]] + list(parts))


def hex_to_bytes(text: str, where: str) -> bytes:
    try:
        return bytes.fromhex(str(text))
    except ValueError:
        raise StateFormatError(f'{where}: REG_BINARY/REG_NONE value {text!r} is not a hex string such as "0a1b"') from None


def native_value(entry: t.Mapping[str, t.Any], where: str) -> t.Any:
    """A state entry as the registry API returns it: str, list[str], unsigned int or bytes."""
    reg_type = entry.get('type')
    value = entry.get('value')
    if reg_type in ('REG_SZ', 'REG_EXPAND_SZ'):
        return '' if value is None else str(value)
    if reg_type == 'REG_MULTI_SZ':
        if not isinstance(value, list):
            raise StateFormatError(f'{where}: REG_MULTI_SZ value must be a list of strings, got {value!r}')
        return [str(item) for item in value]
    if reg_type in ('REG_DWORD', 'REG_QWORD'):
        if isinstance(value, bool) or not isinstance(value, int):
            raise StateFormatError(f'{where}: {reg_type} value must be an integer, got {value!r}')
        return value & (0xFFFFFFFF if reg_type == 'REG_DWORD' else 0xFFFFFFFFFFFFFFFF)
    if reg_type in ('REG_BINARY', 'REG_NONE'):
        return hex_to_bytes(value or '', where)
    raise StateFormatError(f'{where}: unknown value type {reg_type!r}; use one of {", ".join(VALUE_KINDS)}')


def state_entry(reg_type: str, value: t.Any) -> dict[str, t.Any]:
    """A native value as the state document stores it (REG_BINARY as lowercase hex)."""
    if reg_type in ('REG_BINARY', 'REG_NONE'):
        return {'type': reg_type, 'value': bytes(value).hex()}
    if reg_type == 'REG_MULTI_SZ':
        return {'type': reg_type, 'value': list(value)}
    return {'type': reg_type, 'value': value}


def expand_environment_strings(text: str, environment: t.Mapping[str, str]) -> str:
    """``ExpandEnvironmentStrings``: ``%NAME%`` replaced when defined (case-insensitive), else kept."""
    folded = {name.casefold(): value for name, value in environment.items()}

    def replace(match: re.Match) -> str:
        return folded.get(match.group(1).casefold(), match.group(0))
    return re.sub(r'%([^%]+)%', replace, text)


class Registry:
    """Operations on the ``registry`` section (a dict that is changed in place)."""

    def __init__(self, data: dict[str, Values]) -> None:
        self.data = data

    # -- lookup ---------------------------------------------------------------------------------------------
    def _stored(self) -> list[tuple[str, str, list[str]]]:
        """Every listed key as (listed name, hive, parts)."""
        out = []
        for name in self.data:
            hive, parts = split_path(name)
            out.append((name, hive, parts))
        return out

    def find_key(self, path: str) -> t.Optional[str]:
        """The listed name of ``path`` (matched case-insensitively), or None."""
        want = _fold(*split_path(path))
        for name, hive, parts in self._stored():
            if _fold(hive, parts) == want:
                return name
        return None

    def key_exists(self, path: str) -> bool:
        hive, parts = split_path(path)
        want = _fold(hive, parts)
        if len(parts) == 0 or self._is_builtin(hive, parts):
            return True
        for _name, other_hive, other_parts in self._stored():
            if _fold(other_hive, other_parts)[:len(want)] == want:
                return True
        return False

    @staticmethod
    def _is_builtin(hive: str, parts: t.Sequence[str]) -> bool:
        return len(parts) == 1 and parts[0].casefold() in (b.casefold() for b in BUILTIN_KEYS.get(hive, ()))

    def values(self, path: str) -> Values:
        """The values of an existing key (an empty dict for a key that is only implied)."""
        name = self.find_key(path)
        return self.data[name] if name is not None else {}

    def get_value(self, path: str, value_name: str) -> t.Optional[tuple[str, dict[str, t.Any]]]:
        """(stored value name, entry) of a value, names compared case-insensitively."""
        for name, entry in self.values(path).items():
            if name.casefold() == value_name.casefold():
                return name, entry
        return None

    def sub_keys(self, path: str) -> list[str]:
        """Names of the immediate sub keys, in the case they are listed with, each once."""
        hive, parts = split_path(path)
        want = _fold(hive, parts)
        seen: dict[str, str] = {}
        candidates = [(h, p) for _n, h, p in self._stored()]
        if not parts:
            candidates += [(hive, [builtin]) for builtin in BUILTIN_KEYS.get(hive, ())]
        for other_hive, other_parts in candidates:
            if len(other_parts) > len(parts) and _fold(other_hive, other_parts)[:len(want)] == want:
                child = other_parts[len(parts)]
                seen.setdefault(child.casefold(), child)
        return list(seen.values())

    def expansion_environment(self) -> dict[str, str]:
        """What a module process on the host expands ``%NAME%`` with: defaults plus the system environment."""
        environment = dict(DEFAULT_ENVIRONMENT)
        for name, entry in self.values(SYSTEM_ENVIRONMENT_KEY).items():
            if name and entry.get('type') in ('REG_SZ', 'REG_EXPAND_SZ'):
                environment[name] = str(entry.get('value', ''))
        return environment

    # -- changes --------------------------------------------------------------------------------------------
    def _listed_case(self, hive: str, parts: t.Sequence[str]) -> list[str]:
        """``parts`` with each level spelled as an existing key already spells it."""
        out = list(parts)
        stored = self._stored()
        for depth in range(len(parts)):
            want = _fold(hive, parts[:depth + 1])
            for _name, other_hive, other_parts in stored:
                if len(other_parts) > depth and _fold(other_hive, other_parts[:depth + 1]) == want:
                    out[depth] = other_parts[depth]
                    break
        return out

    def create_key(self, path: str, refused: t.Sequence[str] = ()) -> str:
        """``CreateSubKey``: create the key and any missing parent; return its listed name.

        ``refused`` lists keys whose ACL refuses writing (``faults.registry_key_write_denied``): creating a
        subkey needs KEY_CREATE_SUB_KEY on the deepest existing ancestor, so RegCreateKeyEx is refused there.
        """
        hive, parts = split_path(path)
        if not parts:
            return join_path(hive, parts)
        if hive in READ_ONLY_ROOTS and not self.key_exists(join_path(hive, parts[:1])) or self._parent_refuses(hive, parts, refused):
            # Win32Error(ret, keyName + "\\" + subkey): the message names the whole key asked for, not the level refused.
            raise RegistryError(KEY_CREATE_DENIED.format(key=print_path(hive, parts)))
        parts = self._listed_case(hive, parts)
        for depth in range(1, len(parts) + 1):
            level = parts[:depth]
            if self._is_builtin(hive, level) or self.find_key(join_path(hive, level)) is not None:
                continue
            self.data[join_path(hive, level)] = {}
        return t.cast(str, self.find_key(join_path(hive, parts)))

    def _parent_refuses(self, hive: str, parts: t.Sequence[str], refused: t.Sequence[str]) -> bool:
        """Whether the deepest existing ancestor of a key that does not exist yet is one of ``refused``."""
        if not refused or self.key_exists(join_path(hive, parts)):
            return False
        for depth in range(len(parts) - 1, 0, -1):
            if self.key_exists(join_path(hive, parts[:depth])):
                wanted = _fold(hive, parts[:depth])
                return any(_fold(*split_path(key)) == wanted for key in refused)
        return False

    def _materialise(self, path: str) -> str:
        """List an implied key explicitly (before a change that could make it stop being implied)."""
        name = self.find_key(path)
        return name if name is not None else self.create_key(path)

    def set_value(self, path: str, value_name: str, reg_type: str, value: t.Any) -> None:
        """``SetValue``: keep the stored spelling of an existing value name."""
        key = self._materialise(path)
        existing = self.get_value(path, value_name)
        name = existing[0] if existing else value_name
        self.data[key][name] = state_entry(reg_type, value)

    def delete_value(self, path: str, value_name: str) -> None:
        existing = self.get_value(path, value_name)
        if existing is not None:
            del self.data[self._materialise(path)][existing[0]]

    def delete_key_tree(self, path: str) -> None:
        """``DeleteSubKeyTree``: the key and everything beneath it; the parent stays."""
        hive, parts = split_path(path)
        if len(parts) > 1:
            self._materialise(join_path(hive, parts[:-1]))
        want = _fold(hive, parts)
        for name, other_hive, other_parts in self._stored():
            if _fold(other_hive, other_parts)[:len(want)] == want:
                del self.data[name]
