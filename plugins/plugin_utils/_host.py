# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one seam through which the collection's action plugins touch a Windows host.

Private to the ssm.proxy collection (internal use): no compatibility promises.

Every method is exactly one execution of an upstream ``ansible.windows`` module, because over WinRM or
SSM each execution costs seconds: callers read what they need in one call and write only what differs.
Unit tests replace :class:`ModuleHost` with an in-memory host that implements :class:`WindowsHost`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import pathlib
import typing as t
from collections.abc import Iterator, Mapping, Sequence

from ._proxy import redact

# ansible.windows.win_regedit's `type` choices for each REG_* type that win_reg_stat reports.
REGEDIT_TYPES = {
    "REG_SZ": "string",
    "REG_EXPAND_SZ": "expandstring",
    "REG_MULTI_SZ": "multistring",
    "REG_DWORD": "dword",
    "REG_QWORD": "qword",
    "REG_BINARY": "binary",
    "REG_NONE": "none",
}


# Sent through win_powershell; its first lines carry this marker, which the simulated host's twin answers to.
READ_STATE_SCRIPT = pathlib.Path(__file__).parent / "powershell" / "read_state.ps1"
WRITE_VALUES_SCRIPT = pathlib.Path(__file__).parent / "powershell" / "write_values.ps1"
PREFLIGHT_SCRIPT = pathlib.Path(__file__).parent / "powershell" / "preflight.ps1"
# Enough for several agent startup blocks: the log is read from its end.
DEFAULT_TAIL_BYTES = 65536
# Keys of which only some values are needed: read_state.ps1 returns just those (the OS key also holds
# DigitalProductId and other blobs nobody here needs, and every value returned costs win_powershell time).
OS_KEY = "HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
VALUE_FILTERS: Mapping[str, Sequence[str]] = {
    OS_KEY: ("ProductName", "InstallationType", "CurrentMajorVersionNumber", "CurrentMinorVersionNumber", "CurrentVersion", "CurrentBuild"),
}


class HostError(Exception):
    """An upstream module failed on the host; the message names the module and what it said."""


class ConstrainedLanguageError(HostError):
    """The host runs the collection's scripts in PowerShell's ConstrainedLanguage mode (WDAC or AppLocker)."""


class ConflictError(HostError):
    """The host no longer holds what a write was decided from: nothing was written."""

    def __init__(self, message: str, conflicts: Sequence[Mapping[str, t.Any]]) -> None:
        super().__init__(message)
        self.conflicts = list(conflicts)


class PartialWriteError(HostError):
    """Windows refused one of several writes sent together; ``applied`` says which before it went through."""

    def __init__(self, message: str, applied: Sequence[bool]) -> None:
        super().__init__(message)
        self.applied = list(applied)


# What to tell an operator whose host enforces WDAC/AppLocker script rules: win_powershell then runs
# untrusted scripts in ConstrainedLanguage (win_powershell.ps1 of ansible.windows 3.3.0, ~L595 and ~L761-781),
# where the .NET calls the collection's scripts make (RegistryKey, FileStream, WebRequest) are refused.
CONSTRAINED_LANGUAGE_MESSAGE = (
    "the host runs PowerShell scripts in {mode} mode (Windows Defender Application Control or AppLocker script "
    "enforcement), where the collection's scripts cannot call the .NET registry, file and web APIs they need; nothing "
    "was changed. Sign plugins/plugin_utils/powershell/*.ps1 of ssm.proxy with a code-signing certificate the policy "
    "trusts (Set-AuthenticodeSignature) or allow them in the policy, then run again; see docs/diagnosing.md"
)


@dataclasses.dataclass(frozen=True)
class RegistryValue:
    """A registry value as win_reg_stat reports it (REG_BINARY as a list of ints, REG_MULTI_SZ as a list)."""

    type: str
    value: t.Any


@dataclasses.dataclass(frozen=True)
class RegistryKey:
    """A registry key and its values; value names are case-insensitive, as in the registry."""

    path: str
    exists: bool
    values: Mapping[str, RegistryValue] = dataclasses.field(default_factory=dict)

    def get(self, name: str) -> RegistryValue | None:
        """The value called ``name`` (any case), or None."""
        wanted = name.lower()
        for key, value in self.values.items():
            if key.lower() == wanted:
                return value
        return None


@dataclasses.dataclass(frozen=True)
class FileTail:
    """The end of a text file on the host (at most ``tail_bytes``), or why it could not be read."""

    path: str
    exists: bool
    content: str = ""
    size: int = 0
    truncated: bool = False
    error: str | None = None
    # Byte offset of ``content`` in the file: read_state.ps1 starts a cut tail at a line boundary, so a
    # line's offset in the file is exact and tells one startup block of the agent from another.
    start: int = 0


# LocalSystem and BUILTIN\Administrators: the accounts that may read whatever the collection stores, by SID
# because the group's name is localised ("Administratoren"); win_acl takes a SID for `user` (Convert-ToSID).
SYSTEM_SID = "S-1-5-18"
ADMINISTRATORS_SID = "S-1-5-32-544"
PRIVILEGED_SIDS = frozenset({SYSTEM_SID, ADMINISTRATORS_SID})


@dataclasses.dataclass(frozen=True)
class Principal:
    """An account an ACL names: its SID, and its name when the SID translates (a deleted account does not)."""

    sid: str
    name: str | None = None

    def label(self) -> str:
        return self.name or self.sid


@dataclasses.dataclass(frozen=True)
class ObjectAcl:
    """Who may read a registry key or folder, as read_state.ps1 reports it (allow rules granting read access)."""

    path: str
    exists: bool
    protected: bool = False
    readers: tuple[Principal, ...] = ()
    error: str | None = None

    def other_readers(self) -> list[Principal]:
        """The readers beyond SYSTEM and Administrators."""
        return [reader for reader in self.readers if reader.sid.upper() not in PRIVILEGED_SIDS]

    @property
    def restricted(self) -> bool:
        """Only SYSTEM and Administrators may read it, and no parent's rule can come back (protected)."""
        return self.exists and not self.error and self.protected and not self.other_readers()


@dataclasses.dataclass(frozen=True)
class HostState:
    """Several registry keys and file tails read in one execution; lookups are case-insensitive."""

    keys: Mapping[str, RegistryKey]
    files: Mapping[str, FileTail] = dataclasses.field(default_factory=dict)
    acls: Mapping[str, ObjectAcl] = dataclasses.field(default_factory=dict)

    def acl(self, path: str) -> ObjectAcl | None:
        """The ACL read of ``path``, or None when it was not asked for (or the host did not answer it)."""
        return self.acls.get(path.lower())

    def key(self, path: str) -> RegistryKey:
        """The key read at ``path``; asking for a key that was not read is a programming error."""
        return self.keys[path.lower()]

    def file(self, path: str) -> FileTail:
        """The tail read of ``path``."""
        return self.files[path.lower()]


class WindowsHost(t.Protocol):
    """What the action plugins need from a host; each call is one module execution."""

    def read_key(self, path: str) -> RegistryKey:
        """Read a key and all its values (win_reg_stat without ``name``)."""

    def read_state(self, keys: Sequence[str], files: Sequence[str] = (), tail_bytes: int = DEFAULT_TAIL_BYTES,
                   acl_paths: Sequence[str] = ()) -> HostState:
        """Read several keys, file tails and ACLs at once (win_powershell with read_state.ps1)."""

    def write_value(self, path: str, name: str, value: RegistryValue, sensitive: bool = False) -> None:
        """Create or replace a value (win_regedit)."""

    def remove_value(self, path: str, name: str, sensitive: bool = False) -> None:
        """Remove a value, keeping the key (win_regedit ``state: absent`` with ``name``)."""

    def remove_key(self, path: str) -> bool:
        """Remove a key with its values and subkeys (win_regedit ``state: absent`` without ``name``); whether it existed."""

    def create_key(self, path: str) -> None:
        """Create a key and its missing parents, with no value (win_regedit ``state: present`` without ``name``)."""

    def grant_full_control(self, path: str, sid: str) -> bool:
        """Give ``sid`` an explicit, inheritable FullControl rule on a key (win_acl); whether it was added."""

    def set_inheritance(self, path: str, inherit: bool) -> bool:
        """Turn a key's ACL inheritance on or off without copying inherited rules (win_acl_inheritance); whether it changed."""


@dataclasses.dataclass(frozen=True)
class Change:
    """One value to write (``value``) or remove (None), as write_values.ps1 applies it."""

    path: str
    name: str
    value: RegistryValue | None
    sensitive: bool = False


def _signed(reg_type: str, value: int) -> int:
    """.NET Framework's SetValue converts DWORD/QWORD data with Convert.ToInt32/ToInt64: send them signed."""
    bits = 32 if reg_type == "REG_DWORD" else 64
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def script_value(path: str, name: str, value: RegistryValue | None) -> dict[str, t.Any]:
    """A value as write_values.ps1 takes it: read_state.ps1's representation (signed integers, one hex string)."""
    if value is None:
        return {"path": path, "name": name, "exists": False}
    data = value.value
    if value.type in ("REG_DWORD", "REG_QWORD"):
        data = _signed(value.type, int(data))
    elif value.type not in ("REG_SZ", "REG_EXPAND_SZ", "REG_MULTI_SZ"):
        data = bytes(data).hex()
    return {"path": path, "name": name, "exists": True, "type": value.type, "value": data}


def registry_key_from_result(path: str, result: Mapping[str, t.Any]) -> RegistryKey:
    """Build a RegistryKey from win_reg_stat's return (``exists``, ``properties``: {name: {type, value, raw_value}})."""
    if not result.get("exists"):
        return RegistryKey(path=path, exists=False)
    values = {
        name: RegistryValue(type=prop["type"], value=prop["value"])
        for name, prop in (result.get("properties") or {}).items()
    }
    return RegistryKey(path=path, exists=True, values=values)


def _failure_message(result: Mapping[str, t.Any]) -> str:
    """A module's failure text; win_powershell reports a throwing script in ``error`` and sets no ``msg``."""
    if result.get("msg"):
        return str(result["msg"])
    for record in result.get("error") or []:
        exception = record.get("exception") or {}
        if exception.get("message") or record.get("output"):
            return str(exception.get("message") or record.get("output"))
    return "no message"


def _target(args: Mapping[str, t.Any]) -> str:
    """`` for <path>\\<name>`` of a win_regedit call, so a failure names the value (never its data)."""
    if "path" not in args:
        return ""
    return f" for {args['path']}\\{args['name']}" if args.get("name") else f" for {args['path']}"


def _safe_message(result: Mapping[str, t.Any], sensitive: bool) -> str:
    """The failure text, safe to show when the arguments carried credentials.

    win_regedit's own messages name the path, the value name and the .NET exception, never the data
    (win_regedit.ps1 FailJson calls); only a failed type conversion quotes the value ("Cannot convert
    value ..."), which the collection's typed data never causes, but such a message is still hidden.
    """
    message = _failure_message(result)
    if not sensitive:
        return message
    if "Cannot convert value" in message:
        return "(the message quotes the value, which may carry credentials: it is hidden)"
    return redact(message)


def _unsigned(reg_type: str, value: t.Any) -> t.Any:
    """.NET's RegistryKey.GetValue returns DWORD/QWORD signed; win_reg_stat reports them unsigned, and so do we."""
    if isinstance(value, int) and value < 0:
        if reg_type == "REG_DWORD":
            return value + 2 ** 32
        if reg_type == "REG_QWORD":
            return value + 2 ** 64
    return value


def _state_value(prop: Mapping[str, t.Any]) -> RegistryValue:
    """A value as read_state.ps1 reports it: REG_BINARY/REG_NONE (and kinds win_regedit cannot write) as one hex string.

    One string instead of an array of ints because win_powershell converts every array element on its
    own (Convert-OutputObject), which costs seconds for a kilobyte on Windows PowerShell 5.1.
    """
    reg_type, value = str(prop["type"]), prop["value"]
    if isinstance(value, str) and reg_type not in ("REG_SZ", "REG_EXPAND_SZ", "REG_MULTI_SZ"):
        return RegistryValue(type=reg_type, value=list(bytes.fromhex(value)))
    return RegistryValue(type=reg_type, value=_unsigned(reg_type, value))


def host_state_from_result(result: Mapping[str, t.Any]) -> HostState:
    """Build a HostState from read_state.ps1's ``$Ansible.Result`` (win_powershell's ``result``).

    Refuses a host where the script ran in ConstrainedLanguage (it then reads nothing) and a key that
    exists but could not be read: taking it for absent would make the modules rewrite what they cannot see.
    """
    mode = result.get("language_mode")
    if mode and mode != "FullLanguage":
        raise ConstrainedLanguageError(CONSTRAINED_LANGUAGE_MESSAGE.format(mode=mode))
    keys = {}
    for entry in result.get("registry") or []:
        if entry.get("error"):
            raise HostError(
                f"{entry['path']} exists but could not be read ({entry['error']}); nothing was changed. "
                "Connect as an administrator, or give the connecting account read access to that key"
            )
        values = {name: _state_value(prop) for name, prop in (entry.get("values") or {}).items()}
        keys[entry["path"].lower()] = RegistryKey(path=entry["path"], exists=bool(entry["exists"]), values=values)
    acls = {}
    for entry in result.get("acl") or []:
        readers = tuple(Principal(sid=str(item["sid"]), name=item.get("name")) for item in entry.get("readers") or [])
        acls[entry["path"].lower()] = ObjectAcl(path=entry["path"], exists=bool(entry["exists"]), protected=bool(entry.get("protected")),
                                                readers=readers, error=entry.get("error"))
    files = {}
    for entry in result.get("files") or []:
        files[entry["path"].lower()] = FileTail(
            path=entry["path"], exists=bool(entry["exists"]), content=entry.get("content") or "", size=int(entry.get("size") or 0),
            truncated=bool(entry.get("truncated")), error=entry.get("error"), start=int(entry.get("start") or 0),
        )
    return HostState(keys=keys, files=files, acls=acls)


def _regedit_item_equal(left: t.Any, right: t.Any) -> bool:
    """PowerShell's ``-eq`` as Compare-Object applies it: strings ignore letter case, numbers compare as numbers."""
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    return bool(left == right)


def regedit_sees_change(current: RegistryValue | None, wanted: RegistryValue) -> bool:
    """Whether a plain ``win_regedit state=present`` call would write ``wanted`` over ``current``.

    win_regedit.ps1 (ansible.windows 3.3.0, Compare-RegistryProperty ~L165-173) writes when the type
    differs or when Compare-Object finds a difference; Compare-Object ignores letter case, so a change
    that is only in case (a password, ``%2f`` against ``%2F``) is not written. An empty array on either
    side is treated as "not seen" too: win_regedit turns ``data: []`` into ``$null`` and writes nothing
    (~L456-460 and ~L300-304), and what Compare-Object makes of an empty side has changed across
    PowerShell releases, so the collection never relies on it.
    """
    if current is None or current.type != wanted.type:
        return True
    if isinstance(current.value, list) or isinstance(wanted.value, list):
        old, new = list(current.value or []), list(wanted.value or [])
        if not old or not new:
            return False
        return len(old) != len(new) or not all(_regedit_item_equal(a, b) for a, b in zip(old, new))
    return bool(current.value != wanted.value)


def write_exact(host: "WindowsHost", path: str, name: str, wanted: RegistryValue | None, current: RegistryValue | None,
                sensitive: bool = False) -> bool:
    """Make ``path\\name`` hold exactly ``wanted`` (None: absent), with upstream module calls that really do it.

    A plain present call is enough when win_regedit sees the change; when it would not (a change only in
    letter case, an empty multistring on either side) the value is removed first, so that the present
    call creates it anew, which win_regedit always writes. Returns whether anything was sent.
    """
    if wanted is None:
        if current is None:
            return False
        host.remove_value(path, name, sensitive=sensitive)
        return True
    if current is not None and current.type == wanted.type and current.value == wanted.value:
        return False
    if current is not None and not regedit_sees_change(current, wanted):
        host.remove_value(path, name, sensitive=sensitive)
    host.write_value(path, name, wanted, sensitive=sensitive)
    return True


class ModuleHost:
    """A WindowsHost that runs ansible.windows modules through an action plugin's ``_execute_module``."""

    def __init__(self, action: t.Any, task_vars: dict[str, t.Any]) -> None:
        self._action = action
        self._task_vars = task_vars
        self.executions = 0

    @contextlib.contextmanager
    def _no_log(self, sensitive: bool) -> Iterator[None]:
        """Run the next module with no_log when its arguments carry credentials.

        ``_execute_module`` takes ``_ansible_no_log`` from the task, so it is raised on the task for the
        duration of the call: Ansible.Basic on Windows then keeps the arguments out of the event log,
        and nothing sensitive comes back in ``invocation``.
        """
        task = self._action._task
        previous = task.no_log
        if sensitive:
            task.no_log = True
        try:
            yield
        finally:
            task.no_log = previous

    def _run(self, module: str, args: dict[str, t.Any], sensitive: bool = False, allow_failure: bool = False) -> dict[str, t.Any]:
        self.executions += 1
        with self._no_log(sensitive):
            result = self._action._execute_module(module_name=module, module_args=args, task_vars=self._task_vars)
        if result.get("failed") and not (allow_failure and isinstance(result.get("result"), dict) and result["result"].get("error")):
            raise HostError(f"{module} failed on the host{_target(args)}: {_safe_message(result, sensitive)}")
        return result

    def write_values(self, changes: Sequence[Change], expect: Sequence[tuple[str, str, RegistryValue | None]],
                     runs_key: str = "", known_runs: Sequence[str] = (), remove_if_empty: Sequence[str] = ()) -> list[bool]:
        """Check ``expect`` and apply ``changes`` in ONE execution (write_values.ps1); whether each change changed something.

        Raises ConflictError (nothing written) when an expected value changed or ``runs_key`` holds a run the
        caller did not know of, PartialWriteError when Windows refused a change after earlier ones were applied.
        The arguments hold previous and new values, credentials among them: the execution runs with no_log.
        """
        parameters: dict[str, t.Any] = {
            "Changes": [script_value(change.path, change.name, change.value) for change in changes],
            "Expect": [script_value(path, name, value) for path, name, value in expect],
        }
        if runs_key:
            parameters.update(RunsKey=runs_key, KnownRuns=list(known_runs))
        if remove_if_empty:
            parameters["RemoveIfEmpty"] = list(remove_if_empty)
        args = {"script": WRITE_VALUES_SCRIPT.read_text(encoding="utf-8"), "parameters": parameters, "depth": 5}
        result = self._run("ansible.windows.win_powershell", args, sensitive=True, allow_failure=True)
        outcome = result.get("result") or {}
        mode = outcome.get("language_mode")
        if mode and mode != "FullLanguage":
            raise ConstrainedLanguageError(CONSTRAINED_LANGUAGE_MESSAGE.format(mode=mode))
        if outcome.get("conflicts"):
            raise ConflictError("the host changed since it was read", outcome["conflicts"])
        if outcome.get("error"):
            error = outcome["error"]
            raise PartialWriteError(
                f"Windows refused to write {error.get('path')}\\{error.get('name')}: {redact(str(error.get('message') or 'no message'))}",
                [bool(item) for item in outcome.get("applied") or []],
            )
        return [bool(item) for item in outcome.get("applied") or []]

    def preflight(self, parameters: dict[str, t.Any], username: str | None, password: str | None) -> dict[str, t.Any]:
        """preflight.ps1's win_powershell result, unraised: a script that threw is the caller's verdict to word.

        A proxy credential goes as a PSCredential through ``sensitive_parameters`` (Ansible.Basic's no_log option
        of win_powershell) and the execution runs with no_log, so neither the event log nor ``invocation`` holds it.
        """
        args: dict[str, t.Any] = {"script": PREFLIGHT_SCRIPT.read_text(encoding="utf-8"), "parameters": parameters, "depth": 5}
        if username:
            args["sensitive_parameters"] = [{"name": "ProxyCredential", "username": username, "password": password or ""}]
        self.executions += 1
        with self._no_log(bool(username)):
            return self._action._execute_module(module_name="ansible.windows.win_powershell", module_args=args,
                                                task_vars=self._task_vars)

    def read_key(self, path: str) -> RegistryKey:
        return registry_key_from_result(path, self._run("ansible.windows.win_reg_stat", {"path": path}))

    def read_state(self, keys: Sequence[str], files: Sequence[str] = (), tail_bytes: int = DEFAULT_TAIL_BYTES,
                   acl_paths: Sequence[str] = ()) -> HostState:
        parameters: dict[str, t.Any] = {"RegistryKeys": list(keys), "Files": list(files), "TailBytes": tail_bytes}
        if acl_paths:
            parameters["AclPaths"] = list(acl_paths)
        filters = {path: list(names) for path, names in VALUE_FILTERS.items() if path.lower() in {key.lower() for key in keys}}
        if filters:
            parameters["ValueFilter"] = filters
        args = {
            "script": READ_STATE_SCRIPT.read_text(encoding="utf-8"),
            "parameters": parameters,
            # registry -> key -> values -> value -> list: the default depth of 2 would flatten it to strings.
            "depth": 8,
        }
        return host_state_from_result(self._run("ansible.windows.win_powershell", args).get("result") or {})

    def write_value(self, path: str, name: str, value: RegistryValue, sensitive: bool = False) -> None:
        if value.type not in REGEDIT_TYPES:
            raise HostError(f"{path}\\{name} would be written as {value.type}, which win_regedit cannot write; nothing was changed")
        args = {"path": path, "name": name, "type": REGEDIT_TYPES[value.type], "state": "present"}
        # An empty multistring must be sent without data: win_regedit turns `data: []` into $null and writes
        # nothing, while a missing `data` becomes @() and creates an empty value (win_regedit.ps1 ~L452-460).
        # write_exact() removes an existing value first, so that this call creates it.
        if not (value.type == "REG_MULTI_SZ" and not value.value):
            args["data"] = value.value
        self._run("ansible.windows.win_regedit", args, sensitive=sensitive)

    def remove_value(self, path: str, name: str, sensitive: bool = False) -> None:
        self._run("ansible.windows.win_regedit", {"path": path, "name": name, "state": "absent"}, sensitive=sensitive)

    def remove_key(self, path: str) -> bool:
        return bool(self._run("ansible.windows.win_regedit", {"path": path, "state": "absent", "delete_key": True}).get("changed"))

    def create_key(self, path: str) -> None:
        self._run("ansible.windows.win_regedit", {"path": path, "state": "present"})

    def grant_full_control(self, path: str, sid: str) -> bool:
        # A key is a container, so win_acl.ps1 makes the rule ContainerInherit, ObjectInherit: subkeys get it too.
        args = {"path": path, "user": sid, "rights": "FullControl", "type": "allow", "state": "present"}
        return bool(self._run("ansible.windows.win_acl", args).get("changed"))

    def set_inheritance(self, path: str, inherit: bool) -> bool:
        # reorganize=false: SetAccessRuleProtection($true, $false) drops the inherited rules instead of copying them
        # (win_acl_inheritance.ps1 of ansible.windows 3.3.0); copying would keep HKLM\SOFTWARE's Users: Read.
        args = {"path": path, "state": "present" if inherit else "absent", "reorganize": False}
        return bool(self._run("ansible.windows.win_acl_inheritance", args).get("changed"))


class SnapshotHost:
    """A read-only WindowsHost answering from a HostState already read.

    Lets a settings module's own ``apply`` decide, in check mode, whether it would change anything, with
    no further round trip: ssm_agent_proxy_info uses it to tell the role which components already match.
    """

    def __init__(self, state: HostState) -> None:
        self._state = state

    def read_key(self, path: str) -> RegistryKey:
        try:
            return self._state.key(path)
        except KeyError:
            raise HostError(f"{path} is not part of the snapshot") from None

    def read_state(self, keys: Sequence[str], files: Sequence[str] = (), tail_bytes: int = DEFAULT_TAIL_BYTES,
                   acl_paths: Sequence[str] = ()) -> HostState:
        if files:
            raise HostError("files are not part of the snapshot")
        acls = {path.lower(): acl for path in acl_paths if (acl := self._state.acl(path)) is not None}
        return HostState(keys={path.lower(): self.read_key(path) for path in keys}, acls=acls)

    def write_value(self, path: str, name: str, value: RegistryValue, sensitive: bool = False) -> None:
        raise HostError(f"internal error: a snapshot cannot write {path}\\{name}")

    def remove_value(self, path: str, name: str, sensitive: bool = False) -> None:
        raise HostError(f"internal error: a snapshot cannot remove {path}\\{name}")

    def remove_key(self, path: str) -> bool:
        raise HostError(f"internal error: a snapshot cannot remove {path}")

    def create_key(self, path: str) -> None:
        raise HostError(f"internal error: a snapshot cannot create {path}")

    def grant_full_control(self, path: str, sid: str) -> bool:
        raise HostError(f"internal error: a snapshot cannot change the ACL of {path}")

    def set_inheritance(self, path: str, inherit: bool) -> bool:
        raise HostError(f"internal error: a snapshot cannot change the ACL of {path}")
