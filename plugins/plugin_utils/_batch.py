# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Several settings modules applied over one read and written in one execution.

Private to the ssm.proxy collection (internal use): no compatibility promises.

The settings modules decide over a :class:`~._host.WindowsHost`; :class:`BatchHost` answers their reads from a
read already made (the role's plan) and holds their writes, backups included, until :meth:`BatchHost.commit`
sends them all through write_values.ps1, which first checks that the host still holds what was read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ._backup import BACKUP_KEY, COLLECTION_KEY
from ._host import (
    ADMINISTRATORS_SID, DEFAULT_TAIL_BYTES, REGEDIT_TYPES, SYSTEM_SID, Change, HostError, HostState, ModuleHost, ObjectAcl, Principal, RegistryKey,
    RegistryValue, SnapshotHost,
)


class BatchHost:
    """A WindowsHost over a snapshot that holds every registry write for one write_values execution.

    ACL changes (restricting the collection's key before the first backup holding a credential) go to the
    host at once through win_acl and win_acl_inheritance, as the modules alone do: they are rare (once per
    host) and the collection's key is the collection's own, so they never conflict with anyone.
    """

    def __init__(self, state: HostState, host: ModuleHost) -> None:
        self._state = state
        self._host = host
        self.changes: list[Change] = []

    def _snapshot(self) -> SnapshotHost:
        return SnapshotHost(self._state)

    def read_key(self, path: str) -> RegistryKey:
        return self._snapshot().read_key(path)

    def read_state(self, keys: Sequence[str], files: Sequence[str] = (), tail_bytes: int = DEFAULT_TAIL_BYTES,
                   acl_paths: Sequence[str] = ()) -> HostState:
        return self._snapshot().read_state(keys, files, tail_bytes, acl_paths)

    def write_value(self, path: str, name: str, value: RegistryValue, sensitive: bool = False) -> None:
        self.changes.append(Change(path, name, value, sensitive))

    def remove_value(self, path: str, name: str, sensitive: bool = False) -> None:
        self.changes.append(Change(path, name, None, sensitive))

    def remove_key(self, path: str) -> bool:
        raise HostError(f"internal error: a batch does not remove keys ({path})")

    def create_key(self, path: str) -> None:
        self._host.create_key(path)

    def grant_full_control(self, path: str, sid: str) -> bool:
        return self._host.grant_full_control(path, sid)

    def set_inheritance(self, path: str, inherit: bool) -> bool:
        changed = self._host.set_inheritance(path, inherit)
        if not inherit and path.lower() == COLLECTION_KEY.lower():
            # The next component's backup sees the key restricted, as a fresh read would, and restricts nothing again.
            restricted = ObjectAcl(path=path, exists=True, protected=True, readers=(Principal(SYSTEM_SID), Principal(ADMINISTRATORS_SID)))
            self._state = dataclasses.replace(self._state, acls={**self._state.acls, path.lower(): restricted})
        return changed

    def expectations(self) -> list[tuple[str, str, RegistryValue | None]]:
        """Each value the changes touch, as the snapshot holds it: what write_values.ps1 must still find.

        A value of a kind .NET's RegistryKey does not know (REG_LINK, REG_RESOURCE_LIST, ...) is refused here:
        the script could never see it as unchanged, and nothing should be written over data nobody can read back.
        """
        seen: dict[tuple[str, str], tuple[str, str, RegistryValue | None]] = {}
        for change in self.changes:
            marker = (change.path.lower(), change.name.lower())
            if marker not in seen:
                key = self._state.keys.get(change.path.lower())
                current = None if key is None else key.get(change.name)
                if current is not None and current.type not in REGEDIT_TYPES:
                    raise HostError(f"{change.path}\\{change.name} is {current.type}, which the collection does not overwrite; "
                                    "nothing was changed. Inspect the value and remove or fix it by hand")
                seen[marker] = (change.path, change.name, current)
        return list(seen.values())

    def known_runs(self) -> list[str]:
        """The run markers (``<component>@<run id>``) the snapshot saw under the backup key."""
        backup = self._state.keys.get(BACKUP_KEY.lower())
        return sorted(name for name in backup.values if "@" in name) if backup is not None and backup.exists else []

    def commit(self) -> list[bool]:
        """Send every held write in one execution, after the host proved unchanged since the snapshot."""
        if not self.changes:
            return []
        return self._host.write_values(self.changes, self.expectations(), runs_key=BACKUP_KEY, known_runs=self.known_runs())
