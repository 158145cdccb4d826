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

from ._host import (
    ADMINISTRATORS_SID,
    DEFAULT_TAIL_BYTES,
    REGEDIT_TYPES,
    SYSTEM_SID,
    HostError,
    HostState,
    ObjectAcl,
    RegistryKey,
    RegistryValue,
    WindowsHost,
)
from ._proxy import redact

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


def protect_collection_key(host: WindowsHost, acl: ObjectAcl | None) -> None:
    """Make the collection's key readable by SYSTEM and Administrators only, before a credential is written below it.

    Windows gives every key under HKLM\\SOFTWARE BUILTIN\\Users and ALL APPLICATION PACKAGES read access by
    inheritance (the defaults DISA STIG rule V-220907 lists). The order matters: win_acl_inheritance with
    reorganize=false drops the inherited rules and keeps the explicit ones (SetAccessRuleProtection($true, $false),
    win_acl_inheritance.ps1 of ansible.windows 3.3.0), so SYSTEM and Administrators get explicit, inheritable
    FullControl first, or nobody could open the key; reorganize=true would copy Users' Read instead. Set-Acl
    (SetSecurityInfo) passes the new inheritable rules on to existing subkeys such as Backup. Costs nothing
    when the read shows the key protected already: only the first backup with a credential on a host pays.
    """
    if acl is not None and acl.exists and acl.protected:
        others = acl.other_readers()
        if others:
            raise HostError(
                f"{COLLECTION_KEY} is readable by {', '.join(reader.label() for reader in others)} through explicit rules, so no "
                "backup holding a credential was written there and nothing was changed. Remove those rules (or the key) and run again"
            )
        return
    try:
        if acl is None or not acl.exists:
            host.create_key(COLLECTION_KEY)
        host.grant_full_control(COLLECTION_KEY, SYSTEM_SID)
        host.grant_full_control(COLLECTION_KEY, ADMINISTRATORS_SID)
        host.set_inheritance(COLLECTION_KEY, inherit=False)
    except HostError as error:
        raise HostError(
            f"{COLLECTION_KEY} could not be restricted to SYSTEM and Administrators ({error}), so no backup holding a credential was "
            "written there and no setting was changed. Connect as an administrator, or check the key's owner and ACL "
            "(Get-Acl HKLM:\\SOFTWARE\\ssm.proxy), then run again"
        ) from None


def holds_credential(saved: Sequence[SavedValue]) -> bool:
    """Whether a backup would hold a ``user:password@``: in text values, or in the strings of a binary blob."""
    for item in saved:
        if item.value is None:
            continue
        data = item.value.value
        text = bytes(data).decode("latin-1") if isinstance(data, list) and all(isinstance(byte, int) for byte in data) else str(data)
        if redact(text) != text:
            return True
    return False


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
        self._acl: ObjectAcl | None = None
        self._pending: list[tuple[str, str, RegistryValue | None, bool]] = []
        self.saved = False

    def _remember(self, state: HostState) -> HostState:
        self._read.update(state.keys)
        self._acl = state.acl(COLLECTION_KEY) or self._acl
        return state

    def read_key(self, path: str) -> RegistryKey:
        return self._remember(self._host.read_state([path, BACKUP_KEY], acl_paths=[COLLECTION_KEY])).key(path)

    def read_state(self, keys: Sequence[str], files: Sequence[str] = (), tail_bytes: int = DEFAULT_TAIL_BYTES,
                   acl_paths: Sequence[str] = ()) -> HostState:
        # The collection key's ACL rides along: whether a backup with a credential may be written costs no execution.
        return self._remember(self._host.read_state([*keys, BACKUP_KEY], files, tail_bytes, [*acl_paths, COLLECTION_KEY]))

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
            text = encode_backup(saved)
            if holds_credential(saved):
                protect_collection_key(self._host, self._acl)
                self._acl = ObjectAcl(path=COLLECTION_KEY, exists=True, protected=True)
            self._host.write_value(BACKUP_KEY, self._component, RegistryValue("REG_SZ", text), sensitive=True)
            self.saved = True
        for path, name, value, sensitive in self._pending:
            if value is None:
                self._host.remove_value(path, name, sensitive=sensitive)
            else:
                self._host.write_value(path, name, value, sensitive=sensitive)
        self._pending.clear()
