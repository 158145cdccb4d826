# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake Windows host behind the collection's seam, speaking win_reg_stat / win_regedit results."""

from __future__ import annotations

import copy
import re
import typing as t
from unittest.mock import MagicMock

import pytest

from ansible.playbook.task import Task
from ansible_collections.ssm.proxy.plugins.plugin_utils._host import REGEDIT_TYPES

REGEDIT_TO_REG = {choice: reg for reg, choice in REGEDIT_TYPES.items()}
# A refused RegSetValueEx: .NET's SetValue throws the generic UnauthorizedAccessException (Win32Error(ret, null),
# referencesource mscorlib/microsoft/win32/registrykey.cs L1601, L1669); win_regedit quotes PowerShell's wrapper of it,
# write_values.ps1 unwraps it (Get-Reason).
VALUE_WRITE_DENIED = "Attempted to perform an unauthorized operation."
SET_VALUE_DENIED = f'Exception calling "SetValue" with "3" argument(s): "{VALUE_WRITE_DENIED}"'


class FakeRegistry:
    """Registry keys -> {value name: (REG type, value)}; answers module calls as the upstream modules do."""

    def __init__(self, keys: dict[str, dict[str, tuple[str, t.Any]]], files: dict[str, str] | None = None) -> None:
        self.keys = {path.lower(): dict(values) for path, values in keys.items()}
        self.files = {path.lower(): content for path, content in (files or {}).items()}
        self.calls: list[dict[str, t.Any]] = []
        # (lowercase key path, value name) pairs whose writes Windows refuses.
        self.denied: set[tuple[str, str]] = set()
        # lowercase key path -> {"protected": bool, "readers": [SID, ...]}; keys not listed inherit HKLM's defaults.
        self.acls: dict[str, dict[str, t.Any]] = {}
        self.acl_denied = False
        # preflight.ps1: service -> outcome for the endpoints out of reach; a message the script throws.
        self.unreachable: dict[str, str] = {}
        self.preflight_error = ""

    def preflight(self, parameters: dict[str, t.Any]) -> dict[str, t.Any]:
        """preflight.ps1's result shape: every service reachable but those in ``self.unreachable`` (service -> outcome)."""
        if self.preflight_error:
            return {"changed": False, "failed": True, "result": None,
                    "error": [{"exception": {"message": self.preflight_error}, "output": self.preflight_error}]}
        region = parameters["Region"] or "eu-west-1"
        endpoints = []
        for service in parameters["Services"]:
            outcome = self.unreachable.get(service, "reachable")
            endpoints.append({"service": service, "url": f"https://{service}.{region}.amazonaws.com/", "reachable": outcome == "reachable",
                              "outcome": outcome, "status": 404 if outcome == "reachable" else 403,
                              "reason": "Not Found" if outcome == "reachable" else "Forbidden", "proxy_auth": [],
                              "error": None if outcome == "reachable" else f"the proxy refused CONNECT to {service}.{region}.amazonaws.com:443"})
        return {"changed": False, "result": {"region": region, "region_source": "parameter" if parameters["Region"] else "imds",
                                             "endpoints": endpoints}}

    def snapshot(self) -> dict[str, dict[str, tuple[str, t.Any]]]:
        return copy.deepcopy(self.keys)

    def execute(self, module_name: str, module_args: dict[str, t.Any], no_log: bool) -> dict[str, t.Any]:
        self.calls.append({"module": module_name, "args": copy.deepcopy(module_args), "no_log": no_log})
        if module_name == "ansible.windows.win_powershell" and "# ssm.proxy script: write_values" in module_args["script"]:
            return self.write_values(module_args["parameters"])
        if module_name == "ansible.windows.win_powershell" and "# ssm.proxy script: preflight" in module_args["script"]:
            return self.preflight(module_args["parameters"])
        if module_name == "ansible.windows.win_powershell":
            return self.read_state(module_args)
        path = module_args["path"].lower()
        if module_name in ("ansible.windows.win_acl", "ansible.windows.win_acl_inheritance"):
            return self.change_acl(module_name, path, module_args)
        if module_name == "ansible.windows.win_regedit" and "name" not in module_args and module_args.get("state") == "present":
            self.keys.setdefault(path, {})
            return {"changed": True, "data_changed": False, "data_type_changed": False}
        if module_name == "ansible.windows.win_reg_stat":
            if path not in self.keys:
                return {"changed": False, "exists": False}
            props = {name: {"type": reg_type, "value": value, "raw_value": value} for name, (reg_type, value) in self.keys[path].items()}
            return {"changed": False, "exists": True, "properties": props, "sub_keys": []}
        if module_name == "ansible.windows.win_regedit" and "name" not in module_args:
            existed = self.keys.pop(path, None) is not None  # state: absent without name deletes the key
            return {"changed": existed, "data_changed": False, "data_type_changed": False}
        if module_name == "ansible.windows.win_regedit":
            values = self.keys.setdefault(path, {})
            denied = (path, module_args["name"]) in self.denied
            if module_args["state"] == "absent":
                # .NET's DeleteValue ignores a refused RegDeleteValue: reported as deleted, the value stays.
                existed = (values.get if denied else values.pop)(module_args["name"], None) is not None
                return {"changed": existed, "data_changed": existed, "data_type_changed": False}
            if denied:
                # win_regedit.ps1 L334 around SetValue's generic UnauthorizedAccessException (Win32Error(ret, null)).
                return {"failed": True, "changed": False, "data_changed": True, "data_type_changed": False,
                        "msg": f"failed to change registry property '{module_args['name']}' at {module_args['path']}: "
                               f"{SET_VALUE_DENIED}"}
            reg_type = REGEDIT_TO_REG[module_args["type"]]
            data = module_args.get("data")
            if reg_type == "REG_MULTI_SZ":
                # win_regedit.ps1: a missing `data` is @(), `data: []` is $null (nothing written), and existing
                # and new multistrings compare case-insensitively (Compare-Object).
                if data == []:
                    return {"changed": False, "data_changed": False, "data_type_changed": False}
                data = [] if data is None else data
                old = values.get(module_args["name"])
                if old is not None and old[0] == reg_type and len(old[1]) == len(data) and old[1] and data and all(
                        a.casefold() == b.casefold() for a, b in zip(old[1], data)):
                    return {"changed": False, "data_changed": False, "data_type_changed": False}
            values[module_args["name"]] = (reg_type, data)
            return {"changed": True, "data_changed": True, "data_type_changed": False}
        return {"failed": True, "msg": f"unexpected module {module_name}"}

    def write_values(self, params: dict[str, t.Any]) -> dict[str, t.Any]:
        """Answer write_values.ps1: conflicts when an expected value differs (exactly), else the changes in order."""
        def current(path: str, name: str) -> dict[str, t.Any]:
            values = self.keys.get(path.lower(), {})
            found = next(((reg_type, value) for key, (reg_type, value) in values.items() if key.lower() == name.lower()), None)
            if found is None:
                return {"exists": False}
            reg_type, value = found
            if reg_type in ("REG_BINARY", "REG_NONE"):
                value = bytes(value).hex()
            return {"exists": True, "type": reg_type, "value": value}

        conflicts = [{"path": item["path"], "name": item["name"], "reason": "changed", "message": ""} for item in params.get("Expect", [])
                     if current(item["path"], item["name"]) != {key: value for key, value in item.items() if key not in ("path", "name")}]
        runs = {name.lower() for name in params.get("KnownRuns", [])} | {c["name"].lower() for c in params["Changes"] if c["path"] == params.get("RunsKey")}
        if params.get("RunsKey"):
            conflicts += [{"path": params["RunsKey"], "name": name, "reason": "run", "message": ""}
                          for name in self.keys.get(params["RunsKey"].lower(), {}) if "@" in name and name.lower() not in runs]
        if conflicts:
            return {"changed": False, "result": {"language_mode": "FullLanguage", "conflicts": conflicts, "applied": []}}
        applied = []
        for index, change in enumerate(params["Changes"]):
            path = change["path"].lower()
            if (path, change["name"]) in self.denied:
                return {"changed": bool(applied), "failed": True, "result": {
                    "language_mode": "FullLanguage", "conflicts": [], "applied": applied,
                    "error": {"index": index, "path": change["path"], "name": change["name"], "message": VALUE_WRITE_DENIED}}}
            values = self.keys.setdefault(path, {}) if change["exists"] else self.keys.get(path, {})
            existing = next((key for key in values if key.lower() == change["name"].lower()), None)
            if not change["exists"]:
                applied.append(existing is not None)
                values.pop(existing, None)
                continue
            value = change["value"]
            if change["type"] in ("REG_BINARY", "REG_NONE"):
                value = list(bytes.fromhex(value))
            elif change["type"] in ("REG_DWORD", "REG_QWORD"):
                value &= 0xFFFFFFFF if change["type"] == "REG_DWORD" else 0xFFFFFFFFFFFFFFFF
            values.pop(existing, None)
            values[existing or change["name"]] = (change["type"], value)
            applied.append(True)
        for path in params.get("RemoveIfEmpty", []):
            if self.keys.get(path.lower()) == {}:
                del self.keys[path.lower()]
        return {"changed": any(applied), "result": {"language_mode": "FullLanguage", "conflicts": [], "applied": applied}}

    def acl(self, path: str) -> dict[str, t.Any]:
        """A key's ACL: Windows' default for keys under HKLM (SYSTEM, Administrators, Users read), inherited."""
        return self.acls.get(path.lower(), {"protected": False, "readers": ["S-1-5-18", "S-1-5-32-544", "S-1-5-32-545"]})

    def change_acl(self, module_name: str, path: str, module_args: dict[str, t.Any]) -> dict[str, t.Any]:
        """win_acl adds an explicit reader; win_acl_inheritance state=absent reorganize=false keeps only the explicit ones."""
        if self.acl_denied:
            return {"failed": True, "msg": f"an error occurred when attempting to present FullControl permission(s) on {module_args['path']}"}
        entry = self.acls.setdefault(path, {"protected": False, "readers": [], "explicit": []})
        if module_name == "ansible.windows.win_acl":
            # win_acl.ps1 adds a rule only when no rule with the same rights, type and inheritance is there.
            if module_args["user"] in entry["explicit"]:
                return {"changed": False}
            entry["explicit"].append(module_args["user"])
            return {"changed": True}
        # win_acl_inheritance.ps1 changes nothing when the inheritance is already as asked.
        if module_args["state"] == "absent" and not module_args["reorganize"] and not entry["protected"]:
            entry.update(protected=True, readers=list(entry["explicit"]))
            return {"changed": True}
        return {"changed": False}

    def read_state(self, module_args: dict[str, t.Any]) -> dict[str, t.Any]:
        """Answer read_state.ps1 as win_powershell returns it (``result`` = $Ansible.Result)."""
        assert "# ssm.proxy script: read_state" in module_args["script"]
        params = module_args["parameters"]
        registry = []
        for path in params["RegistryKeys"]:
            values = self.keys.get(path.lower())
            registry.append({
                "path": path, "exists": values is not None,
                "values": {name: {"type": reg_type, "value": value} for name, (reg_type, value) in (values or {}).items()},
            })
        files = []
        for path in params["Files"]:
            content = self.files.get(path.lower())
            files.append({"path": path, "exists": content is not None, "size": len(content or ""), "truncated": False,
                          "content": (content or "")[-params["TailBytes"]:], "error": None})
        acl = []
        for path in params.get("AclPaths", []):
            entry = self.acl(path)
            acl.append({"path": path, "exists": path.lower() in self.keys, "protected": entry["protected"],
                        "readers": [{"sid": sid, "name": None} for sid in entry["readers"]], "error": None})
        return {"changed": False, "result": {"registry": registry, "files": files, "acl": acl}, "error": [], "output": []}


@pytest.fixture
def make_action():
    """Build a real ActionModule whose _execute_module answers from a FakeRegistry."""

    def factory(action_class: type, registry: FakeRegistry, args: dict[str, t.Any], check_mode: bool = False, diff: bool = False):
        task = Task()
        task.action = "ssm.proxy.test"
        task.args = args
        task.check_mode = check_mode
        task.diff = diff
        task.no_log = False
        action = action_class(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)

        def execute_module(module_name: str, module_args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
            return registry.execute(module_name, module_args, no_log=bool(task.no_log))

        action._execute_module = execute_module  # type: ignore[method-assign]
        return action

    return factory


def failure(result: dict[str, t.Any], match: str | None = None) -> str:
    """The ``msg`` of a failed action result, checked against ``match`` (a regular expression, as pytest.raises).

    The action plugins return a failure instead of raising it, so that a task's failed_when and register see it
    (plugin_utils/_action.py, failures_as_results).
    """
    assert result.get("failed") is True, result
    message = str(result.get("msg", ""))
    if match is not None:
        assert re.search(match, message), (match, message)
    return message
