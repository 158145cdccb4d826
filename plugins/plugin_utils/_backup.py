# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The previous bytes of every registry value a module changes, kept on the host for rollback.

Private to the ssm.proxy collection (internal use): no compatibility promises.

A wrong proxy cuts an instance off from Systems Manager, so before the first write a settings module saves
what it is about to change under ``HKLM:\\SOFTWARE\\ssm.proxy\\Backup`` (one REG_SZ JSON value per module and
run, ``<module>@<run id>``; ``<module>`` for a module used alone), with what it writes, on the host itself:
an interrupted run can still be rolled back later, a rollback can leave alone what someone changed since,
and the saved values, which may hold proxy credentials, never travel back to the controller. An existing
backup of the same module and run is never overwritten, because it holds the state from before that run.
The backups of a run also mark the host as being changed by it (:class:`RunInfo`).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import secrets
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
from ._proxy import ProxyInputError, redact

# The collection's own key: the backups below it, and what the detached restart (restart_agent.ps1) records.
COLLECTION_KEY = "HKLM:\\SOFTWARE\\ssm.proxy"
BACKUP_KEY = COLLECTION_KEY + "\\Backup"
BACKUP_FORMAT = 2
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


# A run's backups stay "live" this long: a newer run refuses to change the host meanwhile (the role's
# ssm_proxy_run_stale_after); after it, the run is taken for dead, reported, and its backups kept.
DEFAULT_STALE_AFTER = 3600


def run_owner(awx_job_id: t.Any, user: str | None) -> str:
    """Who runs the controller's ansible-playbook, as other runs name it (``describe_run``).

    AWX and AAP set ``awx_job_id`` on every job; a plain ansible-playbook is its user's (``$USER``).
    """
    if awx_job_id is not None:
        return f"AWX job {awx_job_id}"
    return f"{user or 'someone'} with ansible-playbook"


def new_run(now: datetime.datetime | None = None, owner: str = "someone with ansible-playbook") -> dict[str, str]:
    """An id, a start (ISO 8601 UTC, from the controller) and an owner for a run that changes a host after this read.

    Made where the plan reads, so that the role names its run without a task of its own (a task costs a worker
    process on the controller for every host). The id keys the run's backups (``<component>@<id>``) and its
    detached restart, so it differs between runs on one host: the start without its separators, then a random
    32-bit number for two reads in the same microsecond. It holds only what :meth:`RunInfo.from_options` accepts.
    """
    started = (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"id": f"{re.sub('[-:]', '', started)}-{secrets.randbelow(2 ** 32)}", "started": started, "owner": owner}


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """Who is changing a host: a run of the role (or of the modules) with an id, an owner, a start and a goal.

    Carried in every backup value the run writes, so the backups themselves mark the host as in progress:
    no extra module execution, and discarding the backups clears the mark.
    """

    id: str
    owner: str = ""
    started: str = ""  # ISO 8601 UTC, from the controller
    wants: str = ""  # a summary without credentials
    stale_after: int = DEFAULT_STALE_AFTER

    def as_json(self) -> dict[str, t.Any]:
        return {"id": self.id, "owner": self.owner, "started": self.started, "wants": self.wants}

    @classmethod
    def from_options(cls, options: t.Mapping[str, t.Any] | None) -> "RunInfo | None":
        if not options:
            return None
        run_id = str(options.get("id") or "")
        if not re.fullmatch(r"[A-Za-z0-9._:+-]{1,100}", run_id):
            raise ProxyInputError("run", f"id must be 1 to 100 characters of A-Z a-z 0-9 . _ : + - (got {run_id!r})")
        return cls(id=run_id, owner=str(options.get("owner") or ""), started=str(options.get("started") or ""),
                   wants=str(options.get("wants") or ""),
                   stale_after=int(DEFAULT_STALE_AFTER if options.get("stale_after") is None else options["stale_after"]))


def backup_name(component: str, run: RunInfo | None) -> str:
    """The backup value of a component: ``<component>@<run id>`` for a run, ``<component>`` for a module used alone."""
    return f"{component}@{run.id}" if run else component


def split_backup_name(name: str) -> tuple[str, str | None]:
    """``ssm_agent_proxy@<id>`` -> ("ssm_agent_proxy", "<id>"); a name without a run -> (name, None)."""
    component, sep, run_id = name.partition("@")
    return component, (run_id if sep else None)


@dataclasses.dataclass(frozen=True)
class SavedValue:
    """One registry value as it was (``value``) and as the run wrote it (``written``); None means absent.

    ``written`` is what makes a rollback safe when runs overlap: a value that no longer holds what this
    run wrote was changed by someone else since, and is left alone. ``known_written`` is False for
    backups of format 1, which did not record it.
    """

    path: str
    name: str
    value: RegistryValue | None
    written: RegistryValue | None = None
    known_written: bool = False

    def as_json(self) -> dict[str, t.Any]:
        item: dict[str, t.Any] = {"path": self.path, "name": self.name, **_value_json(self.value)}
        if self.known_written:
            item["written"] = _value_json(self.written)
        return item


def restrict_key(host: WindowsHost, path: str, granted: list[str]) -> bool:
    """Keep a key to SYSTEM and Administrators: explicit FullControl for both (by SID), then inheritance off.

    Windows gives every key under HKLM\\SOFTWARE and HKLM\\SYSTEM BUILTIN\\Users and ALL APPLICATION PACKAGES read
    access by inheritance (the defaults DISA STIG rule V-220907 lists). The order matters: win_acl_inheritance with
    reorganize=false drops the inherited rules and keeps the explicit ones (SetAccessRuleProtection($true, $false),
    win_acl_inheritance.ps1 of ansible.windows 3.3.0), so SYSTEM and Administrators get explicit, inheritable
    FullControl first, or nobody could open the key; reorganize=true would copy Users' Read instead. Set-Acl
    (SetSecurityInfo) passes the new inheritable rules on to existing subkeys. The SIDs given a rule are appended
    to ``granted`` as they go, so that a caller knows what to undo when a later call fails; returns whether the
    inheritance was turned off.
    """
    for sid in (SYSTEM_SID, ADMINISTRATORS_SID):
        if host.grant_full_control(path, sid):
            granted.append(sid)
    return host.set_inheritance(path, inherit=False)


def protect_collection_key(host: WindowsHost, acl: ObjectAcl | None) -> None:
    """Make the collection's key readable by SYSTEM and Administrators only, before a credential is written below it.

    Costs nothing when the read shows the key protected already: only the first backup with a credential on a host
    pays (:func:`restrict_key`).
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
        restrict_key(host, COLLECTION_KEY, [])
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


def _value_json(value: RegistryValue | None) -> dict[str, t.Any]:
    return {"exists": False} if value is None else {"exists": True, "type": value.type, "data": value.value}


def _value_from_json(item: t.Mapping[str, t.Any]) -> RegistryValue | None:
    return RegistryValue(item["type"], item["data"]) if item["exists"] else None


@dataclasses.dataclass(frozen=True)
class Backup:
    """A decoded backup value: the saved values and, for a run, who wrote it."""

    values: list[SavedValue]
    run: dict[str, t.Any] | None = None


def encode_backup(saved: Sequence[SavedValue], run: RunInfo | None = None) -> str:
    """The REG_SZ text of a backup."""
    document: dict[str, t.Any] = {"format": BACKUP_FORMAT, "values": [item.as_json() for item in saved]}
    if run is not None:
        document["run"] = run.as_json()
    return json.dumps(document, separators=(",", ":"))


def decode_backup_document(text: t.Any, value_name: str) -> Backup:
    """Parse a backup value (formats 1 and 2); refuse anything this collection did not write."""
    try:
        document = json.loads(text)
        if document.get("format") not in (1, BACKUP_FORMAT):
            raise ValueError(f"format {document.get('format')!r}")
        values = [
            SavedValue(item["path"], item["name"], _value_from_json(item),
                       _value_from_json(item["written"]) if "written" in item else None, "written" in item)
            for item in document["values"]
        ]
        run = document.get("run")
        return Backup(values=values, run=dict(run) if isinstance(run, dict) else None)
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise HostError(
            f"{BACKUP_KEY}\\{value_name} is not a backup this collection can read ({error}); inspect it and remove it by hand"
        ) from None


def decode_backup(text: t.Any, value_name: str) -> list[SavedValue]:
    """The saved values of a backup value."""
    return decode_backup_document(text, value_name).values


def _age_seconds(started: str, now: datetime.datetime) -> float | None:
    try:
        when = datetime.datetime.fromisoformat(started.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return (now - when).total_seconds()


def runs_in_progress(backups: RegistryKey, stale_after: int = DEFAULT_STALE_AFTER, exclude: str | None = None,
                     now: datetime.datetime | None = None) -> list[dict[str, t.Any]]:
    """The runs whose backups are on the host (other than ``exclude``), oldest first, with their age and staleness.

    A run that never finished (it died, or its host lost the connection) leaves its backups: after
    ``stale_after`` seconds it is "stale", reported, and no longer blocks other runs.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    runs: dict[str, dict[str, t.Any]] = {}
    if not backups.exists:
        return []
    for name, value in backups.values.items():
        component, run_id = split_backup_name(name)
        if run_id is None or run_id == exclude:
            continue
        try:
            info = decode_backup_document(value.value, name).run or {}
        except HostError:
            info = {}
        entry = runs.setdefault(run_id, {"id": run_id, "owner": info.get("owner", ""), "started": info.get("started", ""),
                                         "wants": info.get("wants", ""), "components": []})
        entry["components"].append(component)
    for entry in runs.values():
        age = _age_seconds(entry["started"], now)
        entry["age_seconds"] = None if age is None else int(age)
        entry["stale"] = age is None or age >= stale_after
        entry["components"].sort()
    return sorted(runs.values(), key=lambda entry: (entry["started"], entry["id"]))


def describe_run(run: t.Mapping[str, t.Any]) -> str:
    """``run <id> (<owner>, started <when>, <age> s ago, wanting <wants>)`` for messages."""
    details = [part for part in (run.get("owner"), f"started {run.get('started')}" if run.get("started") else "",
                                 f"{run['age_seconds']} s ago" if run.get("age_seconds") is not None else "",
                                 f"wanting {run['wants']}" if run.get("wants") else "") if part]
    return f"run {run['id']}" + (f" ({', '.join(details)})" if details else "")


class BackupHost:
    """A WindowsHost that saves the previous bytes of what a module changes before changing it.

    Reads add the backup key to the same execution; writes are held back until :meth:`flush`, which
    first writes the backup (unless one exists already) and then the writes, in their order. The
    modules read, decide and then write, so holding the writes back changes nothing else.

    With a ``run``, the backup is that run's (``<component>@<run id>``), and before anything is written
    the backup key is checked for another run in progress that started earlier: then nothing is written
    and the module fails naming it (the older run goes on; see :func:`runs_in_progress`).
    """

    def __init__(self, host: WindowsHost, component: str, run: RunInfo | None = None) -> None:
        self._host = host
        self._component = component
        self._run = run
        self._read: dict[str, RegistryKey] = {}
        self._acl: ObjectAcl | None = None
        self._pending: list[tuple[str, str, RegistryValue | None, bool]] = []
        self.saved = False
        self.name = backup_name(component, run)

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

    def _previous(self, path: str, name: str) -> RegistryValue | None:
        key = self._read.get(path.lower())
        if key is None:
            raise HostError(f"internal error: {path} was written without being read first, so it cannot be backed up")
        return key.get(name)

    def _refuse_if_another_run_is_older(self, backup: RegistryKey | None) -> None:
        if self._run is None or backup is None:
            return
        mine = (self._run.started, self._run.id)
        for other in runs_in_progress(backup, self._run.stale_after, exclude=self._run.id):
            if not other["stale"] and (other["started"], other["id"]) < mine:
                raise HostError(
                    f"another {describe_run(other)} is changing this host; nothing was changed. Run again when it has "
                    f"finished (its backups in {BACKUP_KEY} go when it ends), or after {self._run.stale_after} s if it died"
                )

    def flush(self) -> None:
        """Save the previous values (once), then perform the held-back writes."""
        if not self._pending:
            return
        backup = self._read.get(BACKUP_KEY.lower())
        self._refuse_if_another_run_is_older(backup)
        if backup is None or backup.get(self.name) is None:
            targets = list(dict.fromkeys((path, name) for path, name, _value, _sensitive in self._pending))
            # What this run leaves in each value: the last of its writes to it.
            written = {(path.lower(), name.lower()): value for path, name, value, _sensitive in self._pending}
            saved = [SavedValue(path, name, self._previous(path, name), written[(path.lower(), name.lower())], True)
                     for path, name in targets]
            for item in saved:
                if item.value is not None and item.value.type not in REGEDIT_TYPES:
                    # A kind win_regedit cannot write (REG_LINK, REG_RESOURCE_LIST, ...) could never be put back.
                    raise HostError(
                        f"{item.path}\\{item.name} is {item.value.type}, which the collection cannot write back on rollback; "
                        "nothing was changed. Inspect the value and remove or fix it by hand"
                    )
            if holds_credential(saved):
                protect_collection_key(self._host, self._acl)
                self._acl = ObjectAcl(path=COLLECTION_KEY, exists=True, protected=True)
            self._host.write_value(BACKUP_KEY, self.name, RegistryValue("REG_SZ", encode_backup(saved, self._run)), sensitive=True)
            self.saved = True
        for path, name, value, sensitive in self._pending:
            if value is None:
                self._host.remove_value(path, name, sensitive=sensitive)
            else:
                self._host.write_value(path, name, value, sensitive=sensitive)
        self._pending.clear()
