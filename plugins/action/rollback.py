# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of ssm.proxy.rollback: put back, or forget, what the settings modules saved on the host."""

from __future__ import annotations

import dataclasses
import typing as t

from ..plugin_utils._action import SettingsAction
from ..plugin_utils._backup import BACKUP_KEY, decode_backup
from ..plugin_utils._host import WindowsHost
from ..plugin_utils._proxy import ProxyInputError

COMPONENTS = ("ssm_agent_proxy", "wininet_proxy", "winhttp_proxy")

ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {
    "state": {"type": "str", "choices": ["restored", "discarded"], "default": "restored"},
    "components": {"type": "list", "elements": "str", "choices": list(COMPONENTS), "default": list(COMPONENTS)},
}


@dataclasses.dataclass(frozen=True)
class Plan:
    """Restore (or only forget) the backups of these components."""

    restore: bool
    components: tuple[str, ...]


def build_plan(args: dict[str, t.Any]) -> Plan:
    if not args["components"]:
        raise ProxyInputError("components", "is empty; name at least one of " + ", ".join(COMPONENTS))
    return Plan(restore=args["state"] == "restored", components=tuple(dict.fromkeys(args["components"])))


def discard_all(host: WindowsHost, check_mode: bool) -> dict[str, t.Any]:
    """Forget every backup in one execution: remove the backup key (what a verified change ends with)."""
    changed = False if check_mode else host.remove_key(BACKUP_KEY)
    return {"changed": changed, "restored": [], "discarded": list(COMPONENTS) if changed else [], "values": [],
            "diff": {"before": f"{BACKUP_KEY}\n" if changed else "", "after": ""}, "warnings": []}


def apply(host: WindowsHost, plan: Plan, check_mode: bool) -> dict[str, t.Any]:
    """Read the backups once; restore every saved value with its exact type and bytes, then drop the backup."""
    if not plan.restore and set(plan.components) == set(COMPONENTS) and not check_mode:
        return discard_all(host, check_mode)
    backups = host.read_key(BACKUP_KEY)
    found = [name for name in plan.components if backups.get(name) is not None]
    restored_values = []
    if plan.restore:
        # Decode everything first: a backup that cannot be read fails the task before anything is written.
        saved = {name: decode_backup(backups.get(name).value, name) for name in found}  # type: ignore[union-attr]
        for name in found:
            for item in saved[name]:
                restored_values.append({"component": name, "path": item.path, "name": item.name, "existed": item.value is not None})
                if check_mode:
                    continue
                if item.value is None:
                    host.remove_value(item.path, item.name, sensitive=True)
                else:
                    host.write_value(item.path, item.name, item.value, sensitive=True)
    if not check_mode:
        for name in found:
            host.remove_value(BACKUP_KEY, name, sensitive=True)
    return {
        "changed": bool(found),
        "restored": found if plan.restore else [],
        "discarded": [] if plan.restore else found,
        "values": restored_values,
        "diff": {"before": "".join(f"{BACKUP_KEY}\\{name}\n" for name in found), "after": ""},
        "warnings": [],
    }


class ActionModule(SettingsAction):
    """Restore or discard the backups the settings modules keep on the host."""

    ARGUMENT_SPEC = ARGUMENT_SPEC
    SUPPORTS_BACKUP = False
    build_plan = staticmethod(build_plan)
    apply = staticmethod(apply)
