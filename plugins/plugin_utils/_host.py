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
# Enough for several agent startup blocks: the log is read from its end.
DEFAULT_TAIL_BYTES = 65536


class HostError(Exception):
    """An upstream module failed on the host; the message names the module and what it said."""


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


@dataclasses.dataclass(frozen=True)
class HostState:
    """Several registry keys and file tails read in one execution; lookups are case-insensitive."""

    keys: Mapping[str, RegistryKey]
    files: Mapping[str, FileTail] = dataclasses.field(default_factory=dict)

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

    def read_state(self, keys: Sequence[str], files: Sequence[str] = (), tail_bytes: int = DEFAULT_TAIL_BYTES) -> HostState:
        """Read several keys and file tails at once (win_powershell with read_state.ps1)."""

    def write_value(self, path: str, name: str, value: RegistryValue, sensitive: bool = False) -> None:
        """Create or replace a value (win_regedit)."""

    def remove_value(self, path: str, name: str, sensitive: bool = False) -> None:
        """Remove a value, keeping the key (win_regedit ``state: absent`` with ``name``)."""

    def remove_key(self, path: str) -> bool:
        """Remove a key with its values and subkeys (win_regedit ``state: absent`` without ``name``); whether it existed."""


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


def _unsigned(reg_type: str, value: t.Any) -> t.Any:
    """.NET's RegistryKey.GetValue returns DWORD/QWORD signed; win_reg_stat reports them unsigned, and so do we."""
    if isinstance(value, int) and value < 0:
        if reg_type == "REG_DWORD":
            return value + 2 ** 32
        if reg_type == "REG_QWORD":
            return value + 2 ** 64
    return value


def host_state_from_result(result: Mapping[str, t.Any]) -> HostState:
    """Build a HostState from read_state.ps1's ``$Ansible.Result`` (win_powershell's ``result``)."""
    keys = {}
    for entry in result.get("registry") or []:
        values = {
            name: RegistryValue(type=prop["type"], value=_unsigned(prop["type"], prop["value"])) for name, prop in (entry.get("values") or {}).items()
        }
        keys[entry["path"].lower()] = RegistryKey(path=entry["path"], exists=bool(entry["exists"]), values=values)
    files = {}
    for entry in result.get("files") or []:
        files[entry["path"].lower()] = FileTail(
            path=entry["path"], exists=bool(entry["exists"]), content=entry.get("content") or "", size=int(entry.get("size") or 0),
            truncated=bool(entry.get("truncated")), error=entry.get("error"),
        )
    return HostState(keys=keys, files=files)


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

    def _run(self, module: str, args: dict[str, t.Any], sensitive: bool = False) -> dict[str, t.Any]:
        self.executions += 1
        with self._no_log(sensitive):
            result = self._action._execute_module(module_name=module, module_args=args, task_vars=self._task_vars)
        if result.get("failed"):
            message = "(output hidden: the arguments carry credentials)" if sensitive else _failure_message(result)
            raise HostError(f"{module} failed on the host: {message}")
        return result

    def read_key(self, path: str) -> RegistryKey:
        return registry_key_from_result(path, self._run("ansible.windows.win_reg_stat", {"path": path}))

    def read_state(self, keys: Sequence[str], files: Sequence[str] = (), tail_bytes: int = DEFAULT_TAIL_BYTES) -> HostState:
        args = {
            "script": READ_STATE_SCRIPT.read_text(encoding="utf-8"),
            "parameters": {"RegistryKeys": list(keys), "Files": list(files), "TailBytes": tail_bytes},
            # registry -> key -> values -> value -> list: the default depth of 2 would flatten it to strings.
            "depth": 8,
        }
        return host_state_from_result(self._run("ansible.windows.win_powershell", args).get("result") or {})

    def write_value(self, path: str, name: str, value: RegistryValue, sensitive: bool = False) -> None:
        args = {"path": path, "name": name, "data": value.value, "type": REGEDIT_TYPES[value.type], "state": "present"}
        self._run("ansible.windows.win_regedit", args, sensitive=sensitive)

    def remove_value(self, path: str, name: str, sensitive: bool = False) -> None:
        self._run("ansible.windows.win_regedit", {"path": path, "name": name, "state": "absent"}, sensitive=sensitive)

    def remove_key(self, path: str) -> bool:
        return bool(self._run("ansible.windows.win_regedit", {"path": path, "state": "absent", "delete_key": True}).get("changed"))


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

    def read_state(self, keys: Sequence[str], files: Sequence[str] = (), tail_bytes: int = DEFAULT_TAIL_BYTES) -> HostState:
        if files:
            raise HostError("files are not part of the snapshot")
        return HostState(keys={path.lower(): self.read_key(path) for path in keys})

    def write_value(self, path: str, name: str, value: RegistryValue, sensitive: bool = False) -> None:
        raise HostError(f"internal error: a snapshot cannot write {path}\\{name}")

    def remove_value(self, path: str, name: str, sensitive: bool = False) -> None:
        raise HostError(f"internal error: a snapshot cannot remove {path}\\{name}")

    def remove_key(self, path: str) -> bool:
        raise HostError(f"internal error: a snapshot cannot remove {path}")
