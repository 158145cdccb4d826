# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of ssm.proxy.rollback: put back, or forget, what the settings modules saved on the host."""

from __future__ import annotations

import dataclasses
import typing as t

from ..plugin_utils._action import SettingsAction
from ..plugin_utils._backup import BACKUP_KEY, decode_backup
from ..plugin_utils._host import HostError, WindowsHost, write_exact
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
    return {"changed": changed, "restored": [], "rewritten": [], "discarded": list(COMPONENTS) if changed else [], "values": [],
            "diff": {"before": f"{BACKUP_KEY}\n" if changed else "", "after": ""}, "warnings": []}


def apply(host: WindowsHost, plan: Plan, check_mode: bool) -> dict[str, t.Any]:
    """Put every saved value back with its exact type and bytes, then drop the backups that were fully restored.

    The backup names its values; what they hold now is read in one more execution, so that only values
    that differ are written, and with the sequence win_regedit really writes (write_exact). A value that
    cannot be written fails the task naming it (never its data), after the others were restored; its
    backup stays on the host for a later rollback.
    """
    if not plan.restore and set(plan.components) == set(COMPONENTS) and not check_mode:
        return discard_all(host, check_mode)
    backups = host.read_key(BACKUP_KEY)
    found = [name for name in plan.components if backups.get(name) is not None]
    restored_values: list[dict[str, t.Any]] = []
    failed: dict[str, list[str]] = {}
    rewritten: list[str] = []
    if plan.restore and found:
        # Decode everything first: a backup that cannot be read fails the task before anything is written.
        saved = {name: decode_backup(backups.get(name).value, name) for name in found}  # type: ignore[union-attr]
        paths = list(dict.fromkeys(item.path for items in saved.values() for item in items))
        current = host.read_state(paths)
        for name in found:
            for item in saved[name]:
                restored_values.append({"component": name, "path": item.path, "name": item.name, "existed": item.value is not None})
                if check_mode:
                    continue
                try:
                    if write_exact(host, item.path, item.name, item.value, current.key(item.path).get(item.name), sensitive=True):
                        rewritten.append(name)
                except HostError as error:
                    # The seam's message starts with the module and the value; keep what Windows said.
                    reason = str(error).split(": ", 1)[-1]
                    failed.setdefault(name, []).append(f"{item.path}\\{item.name} ({reason})")
    if not check_mode:
        for name in found:
            if name not in failed:
                host.remove_value(BACKUP_KEY, name, sensitive=True)
    if failed:
        restored = [name for name in found if name not in failed]
        raise HostError(
            "could not restore " + "; ".join(value for values in failed.values() for value in values)
            + (f". Restored: {', '.join(restored)}" if restored else ". Nothing else was restored")
            + f". The saved values of {', '.join(failed)} stay in {BACKUP_KEY} for a later ssm.proxy.rollback."
        )
    return {
        "changed": bool(found),
        "restored": found if plan.restore else [],
        # The components whose values differed from the saved ones and were written back (the agent needs a
        # restart only when its own value was).
        "rewritten": list(dict.fromkeys(rewritten)),
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
