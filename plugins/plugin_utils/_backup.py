# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The previous bytes of every registry value a module changes, kept on the host for rollback.

Private to the ssm.proxy collection (internal use): no compatibility promises.

A wrong proxy cuts an instance off from Systems Manager, so before the first write a settings module saves
what it is about to change under ``HKLM:\\SOFTWARE\\ssm.proxy\\Backup`` (one REG_SZ JSON value per module),
on the host itself: an interrupted run can still be rolled back later, and the saved values, which may
hold proxy credentials, never travel back to the controller. An existing backup is never overwritten,
because it holds the state from before the run that was interrupted.
"""

from __future__ import annotations

import dataclasses
import json
import typing as t
from collections.abc import Sequence

from ._host import DEFAULT_TAIL_BYTES, REGEDIT_TYPES, HostError, HostState, RegistryKey, RegistryValue, WindowsHost

# The collection's own key: the backups below it, and what the detached restart (restart_agent.ps1) records.
COLLECTION_KEY = "HKLM:\\SOFTWARE\\ssm.proxy"
BACKUP_KEY = COLLECTION_KEY + "\\Backup"
BACKUP_FORMAT = 1
# restart_agent.ps1's detached process writes {"request_id", "outcome": "running"|"failed", "time", "message"} here.
RESTART_OUTCOME_VALUE = "RestartOutcome"


def restart_outcome_finding(text: t.Any, started_at: str | None) -> dict[str, str] | None:
    """A finding for a detached restart that left the agent stopped: nobody saw it fail, so the next read says so.

    ``started_at`` is the time of the agent's newest startup block: an agent started after the failure
    (by hand, by a later run) makes the old failure history, not a finding. Both times are the host's
    local time as the agent's log writes it (``yyyy-MM-dd HH:mm:ss``), so they compare as text.
    """
    if not isinstance(text, str) or not text:
        return None
    try:
        outcome = json.loads(text)
    except ValueError:
        outcome = {"outcome": "failed", "message": "the recorded outcome is not JSON"}
    if not isinstance(outcome, dict) or outcome.get("outcome") == "running":
        return None
    if started_at and str(outcome.get("time", "")) < started_at:
        return None
    return {
        "code": "detached_restart_failed", "severity": "error",
        "message": f"The detached restart {outcome.get('request_id', '?')} of AmazonSSMAgent at {outcome.get('time', '?')} did not leave "
                   f"the agent running ({outcome.get('message') or 'no message'}); start the AmazonSSMAgent service and check its log.",
    }


@dataclasses.dataclass(frozen=True)
class SavedValue:
    """One registry value as it was; ``value`` None means it did not exist."""

    path: str
    name: str
    value: RegistryValue | None

    def as_json(self) -> dict[str, t.Any]:
        if self.value is None:
            return {"path": self.path, "name": self.name, "exists": False}
        return {"path": self.path, "name": self.name, "exists": True, "type": self.value.type, "data": self.value.value}


def encode_backup(saved: Sequence[SavedValue]) -> str:
    """The REG_SZ text of a backup."""
    return json.dumps({"format": BACKUP_FORMAT, "values": [item.as_json() for item in saved]}, separators=(",", ":"))


def decode_backup(text: t.Any, value_name: str) -> list[SavedValue]:
    """Parse a backup value; refuse anything this collection did not write."""
    try:
        document = json.loads(text)
        if document.get("format") != BACKUP_FORMAT:
            raise ValueError(f"format {document.get('format')!r}")
        return [
            SavedValue(item["path"], item["name"], RegistryValue(item["type"], item["data"]) if item["exists"] else None)
            for item in document["values"]
        ]
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise HostError(
            f"{BACKUP_KEY}\\{value_name} is not a backup this collection can read ({error}); inspect it and remove it by hand"
        ) from None


class BackupHost:
    """A WindowsHost that saves the previous bytes of what a module changes before changing it.

    Reads add the backup key to the same execution; writes are held back until :meth:`flush`, which
    first writes the backup (unless one exists already) and then the writes, in their order. The
    modules read, decide and then write, so holding the writes back changes nothing else.
    """

    def __init__(self, host: WindowsHost, component: str) -> None:
        self._host = host
        self._component = component
        self._read: dict[str, RegistryKey] = {}
        self._pending: list[tuple[str, str, RegistryValue | None, bool]] = []
        self.saved = False

    def _remember(self, state: HostState) -> HostState:
        self._read.update(state.keys)
        return state

    def read_key(self, path: str) -> RegistryKey:
        return self._remember(self._host.read_state([path, BACKUP_KEY])).key(path)

    def read_state(self, keys: Sequence[str], files: Sequence[str] = (), tail_bytes: int = DEFAULT_TAIL_BYTES) -> HostState:
        return self._remember(self._host.read_state([*keys, BACKUP_KEY], files, tail_bytes))

    def write_value(self, path: str, name: str, value: RegistryValue, sensitive: bool = False) -> None:
        self._pending.append((path, name, value, sensitive))

    def remove_value(self, path: str, name: str, sensitive: bool = False) -> None:
        self._pending.append((path, name, None, sensitive))

    def _previous(self, path: str, name: str) -> SavedValue:
        key = self._read.get(path.lower())
        if key is None:
            raise HostError(f"internal error: {path} was written without being read first, so it cannot be backed up")
        return SavedValue(path, name, key.get(name))

    def flush(self) -> None:
        """Save the previous values (once), then perform the held-back writes."""
        if not self._pending:
            return
        backup = self._read.get(BACKUP_KEY.lower())
        if backup is None or backup.get(self._component) is None:
            targets = list(dict.fromkeys((path, name) for path, name, _value, _sensitive in self._pending))
            saved = [self._previous(path, name) for path, name in targets]
            for item in saved:
                if item.value is not None and item.value.type not in REGEDIT_TYPES:
                    # A kind win_regedit cannot write (REG_LINK, REG_RESOURCE_LIST, ...) could never be put back.
                    raise HostError(
                        f"{item.path}\\{item.name} is {item.value.type}, which the collection cannot write back on rollback; "
                        "nothing was changed. Inspect the value and remove or fix it by hand"
                    )
            self._host.write_value(BACKUP_KEY, self._component, RegistryValue("REG_SZ", encode_backup(saved)), sensitive=True)
            self.saved = True
        for path, name, value, sensitive in self._pending:
            if value is None:
                self._host.remove_value(path, name, sensitive=sensitive)
            else:
                self._host.write_value(path, name, value, sensitive=sensitive)
        self._pending.clear()
