# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The plan's read of a host, kept on the controller so that the writes after it need no second read.

Private to the ssm.proxy collection (internal use): no compatibility promises.

Every execution over WinRM or SSM costs seconds, and the role's plan has already read every key the settings
modules read. The read may hold proxy credentials (the agent's Environment), so it never goes into a
registered result: ssm_agent_proxy_info keeps it in a file of its own under Ansible's per-process temporary
directory (``DEFAULT_LOCAL_TMP``: created by the ansible-playbook process before its workers fork, shared by
them, and removed when the process exits), readable by the controller's user only, and returns a token.
ssm.proxy.proxy_settings takes the token, and write_values.ps1 refuses to write over anything that changed
since the read. The saved values inside backups are not kept: only which runs they belong to.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import typing as t

from ansible import constants as C

from ._backup import BACKUP_KEY, decode_backup_document, encode_backup, RunInfo
from ._host import HostError, HostState, ObjectAcl, Principal, RegistryKey, RegistryValue

TOKEN = re.compile(r"[0-9a-f]{32}")


def _directory() -> pathlib.Path:
    path = pathlib.Path(C.DEFAULT_LOCAL_TMP) / "ssm.proxy-reads"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _without_saved_values(name: str, value: RegistryValue) -> RegistryValue:
    """A backup value reduced to its run: whoever reads the file learns nothing a backup saved."""
    try:
        run = decode_backup_document(value.value, name).run
    except HostError:
        return RegistryValue("REG_SZ", "")  # unreadable stays unreadable: its run is unknown
    info = RunInfo(id=str(run.get("id", "")), owner=str(run.get("owner", "")), started=str(run.get("started", "")),
                   wants=str(run.get("wants", ""))) if run else None
    return RegistryValue("REG_SZ", encode_backup([], info))


def _key_json(key: RegistryKey) -> dict[str, t.Any]:
    values = key.values
    if key.path.lower() == BACKUP_KEY.lower():
        values = {name: _without_saved_values(name, value) for name, value in values.items()}
    return {"path": key.path, "exists": key.exists, "values": {name: [value.type, value.value] for name, value in values.items()}}


def _acl_json(acl: ObjectAcl) -> dict[str, t.Any]:
    return {"path": acl.path, "exists": acl.exists, "protected": acl.protected, "error": acl.error,
            "readers": [[reader.sid, reader.name] for reader in acl.readers]}


def store(state: HostState, host: str) -> str:
    """Keep ``state`` (its keys and ACLs, not file tails) for ``host``; return the token that finds it again."""
    token = os.urandom(16).hex()
    document = {"host": host, "keys": [_key_json(key) for key in state.keys.values()],
                "acls": [_acl_json(acl) for acl in state.acls.values()]}
    path = _directory() / f"{token}.json"
    # O_EXCL and 0600: a file nobody else can read, never one that someone else prepared.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        json.dump(document, stream)
    return token


def load(token: str, host: str) -> HostState | None:
    """The read kept under ``token`` for ``host``; None when it is gone (another ansible-playbook process, or used up)."""
    if not TOKEN.fullmatch(token or ""):
        raise HostError(f"snapshot: {token!r} is not a token returned by ssm.proxy.ssm_agent_proxy_info")
    path = _directory() / f"{token}.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    if document.get("host") != host:
        raise HostError(f"snapshot: the token was returned for host {document.get('host')!r}, not {host!r}; pass this host's own plan")
    keys = {
        entry["path"].lower(): RegistryKey(path=entry["path"], exists=entry["exists"],
                                           values={name: RegistryValue(kind, data) for name, (kind, data) in entry["values"].items()})
        for entry in document["keys"]
    }
    acls = {
        entry["path"].lower(): ObjectAcl(path=entry["path"], exists=entry["exists"], protected=entry["protected"], error=entry["error"],
                                         readers=tuple(Principal(sid=sid, name=name) for sid, name in entry["readers"]))
        for entry in document["acls"]
    }
    return HostState(keys=keys, acls=acls)


def discard(token: str) -> None:
    """Forget a read once writes made it stale."""
    if TOKEN.fullmatch(token or ""):
        (_directory() / f"{token}.json").unlink(missing_ok=True)
