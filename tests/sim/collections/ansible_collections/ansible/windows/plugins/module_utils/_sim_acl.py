# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Who may read a registry key or a folder of the simulated host: the ``registry_acl`` and ``file_acl`` sections.

Each section maps a path to ``{"protected": bool, "readers": [principal, ...]}``: ``readers`` are the
principals an explicit allow rule lets read the object (QueryValues / ReadData, GENERIC_READ or
GENERIC_ALL); ``protected`` is ``AreAccessRulesProtected`` (no inheritance from the parent). What a
principal may read is decided as Windows does for inheritable rules (win_acl's default for a key is
``ContainerInherit, ObjectInherit``): an object that is not protected also has every reader of its
parent, up to the first protected object. ``SetSecurityInfo`` (what .NET's ``SetAccessControl`` / Set-Acl
call) propagates inheritable rules to existing children, so the inheritance here is computed on every
read rather than copied when a key is created.

Defaults, the Windows ones the DISA STIG for Windows Server lists (rule V-220907, "Default permissions for the
HKEY_LOCAL_MACHINE registry hive must be maintained"): ``HKLM:\\SOFTWARE`` and ``HKLM:\\SYSTEM`` are
protected and readable by SYSTEM, Administrators, Users and ALL APPLICATION PACKAGES (CREATOR OWNER's
rule is inherit-only: it reads nothing itself). ``C:\\ProgramData`` is readable by SYSTEM, Administrators
and Users; ``C:\\ProgramData\\Amazon\\SSM`` only by Administrators and SYSTEM, without inheritance, as the
agent leaves it at every start (``HardenDataFolder`` -> ``Harden`` in agent/fileutil of aws/amazon-ssm-agent).

Standard library only: ``_sim_twins`` (loaded by file path in pytest) reaches it through the host state.
"""

from __future__ import annotations

import re
import typing as t

SYSTEM = 'NT AUTHORITY\\SYSTEM'
ADMINISTRATORS = 'BUILTIN\\Administrators'
USERS = 'BUILTIN\\Users'
ALL_APPLICATION_PACKAGES = 'APPLICATION PACKAGE AUTHORITY\\ALL APPLICATION PACKAGES'
# Account names as NTAccount.Translate spells them -> their well-known SIDs.
WELL_KNOWN = {
    SYSTEM: 'S-1-5-18',
    ADMINISTRATORS: 'S-1-5-32-544',
    USERS: 'S-1-5-32-545',
    ALL_APPLICATION_PACKAGES: 'S-1-15-2-1',
    'NT AUTHORITY\\Authenticated Users': 'S-1-5-11',
    'NT AUTHORITY\\LOCAL SERVICE': 'S-1-5-19',
    'NT AUTHORITY\\NETWORK SERVICE': 'S-1-5-20',
    'Everyone': 'S-1-1-0',
}
SID_PATTERN = re.compile(r'^S-1-\d+(-\d+)+$', re.IGNORECASE)
WINDOWS_DEFAULT_READERS = [SYSTEM, ADMINISTRATORS, USERS, ALL_APPLICATION_PACKAGES]
REGISTRY_DEFAULTS = {
    'HKLM:\\SOFTWARE': {'protected': True, 'readers': WINDOWS_DEFAULT_READERS},
    'HKLM:\\SYSTEM': {'protected': True, 'readers': WINDOWS_DEFAULT_READERS},
}
AGENT_DATA_FOLDER = 'C:\\ProgramData\\Amazon\\SSM'
FILE_DEFAULTS = {
    'C:\\ProgramData': {'protected': True, 'readers': [SYSTEM, ADMINISTRATORS, USERS]},
    AGENT_DATA_FOLDER: {'protected': True, 'readers': [ADMINISTRATORS, SYSTEM]},
}
# Every other top-level object (other hives, drive roots): administrators and SYSTEM only (not modelled further).
ROOT_DEFAULT = {'protected': True, 'readers': [SYSTEM, ADMINISTRATORS]}


class AclFormatError(ValueError):
    """The ``registry_acl`` / ``file_acl`` section of the state document is malformed."""


def resolve(principal: str) -> t.Optional[tuple[str, t.Optional[str]]]:
    """(SID, account name or None) of a principal given by name (qualified or not, any case) or SID; None if unknown.

    A SID with no known account stands for a deleted account or an unreachable domain: NTAccount.Translate
    throws for it, so it has no name.
    """
    if SID_PATTERN.match(principal):
        sid = principal.upper()
        names = [name for name, known in WELL_KNOWN.items() if known == sid]
        return sid, names[0] if names else None
    wanted = principal.casefold()
    for name, sid in WELL_KNOWN.items():
        if wanted in (name.casefold(), name.rsplit('\\', 1)[-1].casefold()):
            return sid, name
    return None


def _fold(path: str) -> str:
    """Comparison form of a key or folder path: case-insensitive, no doubled or trailing separators."""
    path = path.replace('/', '\\')
    head, sep, rest = path.partition(':\\')
    parts = [part for part in rest.split('\\') if part]
    folded = head.casefold() + sep + '\\'.join(parts).casefold()
    return folded.replace('hku:\\.default', 'hku:\\s-1-5-18', 1) if folded.startswith('hku:\\.default') else folded


def acl_write_denied(data: t.Mapping[str, t.Any], path: str) -> bool:
    """``faults.acl_write_denied``: a key whose ACL the connecting account may read but not change.

    As on a key that TrustedInstaller owns, or that an endpoint product guards: Get-Acl works (READ_CONTROL), the key
    cannot be opened for writing, so the Set-Acl or SetAccessControl that would change the ACL fails (win_acl.ps1 and
    win_acl_inheritance.ps1 word it).
    """
    faults = data.get('faults') or {}
    denied = faults.get('acl_write_denied') if isinstance(faults, dict) else None
    if denied is None:
        return False
    if not isinstance(denied, list) or not all(isinstance(entry, str) for entry in denied):
        raise AclFormatError(f'faults.acl_write_denied must be a list of key paths, got {denied!r}')
    return any(_fold(entry) == _fold(path) for entry in denied)


def _parent(path: str) -> t.Optional[str]:
    head, sep, rest = path.partition(':\\')
    parts = [part for part in rest.split('\\') if part]
    return head + sep + '\\'.join(parts[:-1]) if len(parts) > 1 else None


class AccessControl:
    """The ACLs of one section (``registry_acl`` or ``file_acl``) of a state document, changed in place."""

    def __init__(self, data: dict[str, t.Any], section: str, defaults: t.Mapping[str, t.Mapping[str, t.Any]]) -> None:
        self._data = data
        self._section = section
        self._defaults = {_fold(path): entry for path, entry in defaults.items()}

    def _listed(self) -> dict[str, t.Any]:
        listed = self._data.get(self._section) or {}
        if not isinstance(listed, dict):
            raise AclFormatError(f'{self._section}: expected an object of path -> {{"protected", "readers"}}, got {listed!r}')
        return listed

    def _find(self, path: str) -> t.Optional[str]:
        want = _fold(path)
        return next((name for name in self._listed() if _fold(name) == want), None)

    def entry(self, path: str) -> dict[str, t.Any]:
        """The object's own ACL: ``{"protected", "readers"}`` (explicit readers only)."""
        name = self._find(path)
        entry = self._listed()[name] if name is not None else self._defaults.get(_fold(path))
        if entry is None:
            entry = ROOT_DEFAULT if _parent(path) is None else {'protected': False, 'readers': []}
        if not isinstance(entry, dict) or not isinstance(entry.get('protected', False), bool) \
                or not isinstance(entry.get('readers', []), list) or not all(isinstance(item, str) for item in entry.get('readers', [])):
            raise AclFormatError(f'{self._section} {path!r}: expected {{"protected": bool, "readers": [principal, ...]}}, got {entry!r}')
        return {'protected': bool(entry.get('protected', False)), 'readers': list(entry.get('readers', []))}

    def readers(self, path: str) -> list[str]:
        """Every principal that may read the object: its own readers, then its parents' up to a protected one."""
        out: list[str] = []
        current: t.Optional[str] = path
        while current is not None:
            entry = self.entry(current)
            out += [reader for reader in entry['readers'] if reader not in out]
            if entry['protected']:
                break
            current = _parent(current)
        return out

    def inherited(self, path: str) -> list[str]:
        """The readers the object would get from its parent (none for a top-level object)."""
        parent = _parent(path)
        return self.readers(parent) if parent is not None else []

    def set_entry(self, path: str, protected: bool, readers: t.Sequence[str]) -> None:
        """Store the object's own ACL (under the spelling already listed, else ``path``)."""
        self._data.setdefault(self._section, {})[self._find(path) or path] = {'protected': protected, 'readers': list(readers)}

    def forget(self, path: str) -> None:
        """A deleted key takes its ACL along: a key created again at that path inherits anew."""
        want = _fold(path)
        listed = self._listed()
        for name in [name for name in listed if _fold(name) == want or _fold(name).startswith(want + '\\')]:
            del listed[name]

    def describe(self, path: str) -> dict[str, t.Any]:
        """read_state.ps1's Get-AclState for an existing object: ``protected`` and ``readers`` [{sid, name}]."""
        readers = []
        for principal in self.readers(path):
            found = resolve(principal)
            if found is None:
                raise AclFormatError(f'{self._section} {path!r}: unknown principal {principal!r}; use an account name of '
                                     f'{", ".join(WELL_KNOWN)} or a SID (S-1-5-21-...)')
            if found[0] not in (item['sid'] for item in readers):
                readers.append({'sid': found[0], 'name': found[1]})
        return {'protected': self.entry(path)['protected'], 'readers': readers}


def registry_acl(data: dict[str, t.Any]) -> AccessControl:
    """The key ACLs of a state document."""
    return AccessControl(data, 'registry_acl', REGISTRY_DEFAULTS)


def file_acl(data: dict[str, t.Any]) -> AccessControl:
    """The folder ACLs of a state document."""
    return AccessControl(data, 'file_acl', FILE_DEFAULTS)
