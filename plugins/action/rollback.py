# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of ssm.proxy.rollback: put back, or forget, what the settings modules saved on the host.

Backups are per run (``<component>@<run id>``, or ``<component>`` for modules used alone). A saved value is
put back only while the host still holds what the run wrote: a value changed since (by a newer run, by
hand) is left alone and named, so that a rollback never undoes someone else's change.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ..plugin_utils._action import SettingsAction
from ..plugin_utils._backup import BACKUP_KEY, decode_backup, split_backup_name
from ..plugin_utils._host import Change, HostError, ModuleHost, WindowsHost, write_exact
from ..plugin_utils._proxy import ProxyInputError

COMPONENTS = ("ssm_agent_proxy", "wininet_proxy", "winhttp_proxy")

ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {
    "state": {"type": "str", "choices": ["restored", "discarded"], "default": "restored"},
    "components": {"type": "list", "elements": "str", "choices": list(COMPONENTS), "default": list(COMPONENTS)},
    # A single id (a str) is a list of one: Ansible's list type splits a str at commas, which run ids never hold.
    "run_id": {"type": "list", "elements": "str"},
}


@dataclasses.dataclass(frozen=True)
class Plan:
    """Restore (or only forget) the backups of these components, of some runs or of all (``run_ids`` empty)."""

    restore: bool
    components: tuple[str, ...]
    run_ids: tuple[str, ...] = ()


def build_plan(args: dict[str, t.Any]) -> Plan:
    if not args["components"]:
        raise ProxyInputError("components", "is empty; name at least one of " + ", ".join(COMPONENTS))
    run_ids = tuple(dict.fromkeys(run_id for run_id in args.get("run_id") or () if run_id))
    return Plan(restore=args["state"] == "restored", components=tuple(dict.fromkeys(args["components"])), run_ids=run_ids)


def _selected(names: t.Iterable[str], plan: Plan) -> list[str]:
    """The backup values the plan is about: its components, of its run (or of every run and the modules' own)."""
    chosen = []
    for name in names:
        component, run_id = split_backup_name(name)
        if component in plan.components and (not plan.run_ids or run_id in plan.run_ids):
            chosen.append(name)
    # In the order the role applies the components, then by run.
    return sorted(chosen, key=lambda name: (COMPONENTS.index(split_backup_name(name)[0]), name))


def discard_all(host: WindowsHost, check_mode: bool) -> dict[str, t.Any]:
    """Forget every backup in one execution: remove the backup key."""
    changed = False if check_mode else host.remove_key(BACKUP_KEY)
    return {"changed": changed, "restored": [], "rewritten": [], "left_alone": [], "discarded": list(COMPONENTS) if changed else [],
            "values": [], "diff": {"before": f"{BACKUP_KEY}\n" if changed else "", "after": ""}, "warnings": []}


def discard_run(host: ModuleHost, plan: Plan) -> dict[str, t.Any]:
    """Forget some runs' backups in one execution, without reading them first.

    The names are known (``<component>@<run id>``), so write_values.ps1 removes just those, whatever else the
    key holds (another run's backups are never touched), and then the key if nothing is left in it.
    """
    names = [f"{component}@{run_id}" for run_id in plan.run_ids for component in plan.components]
    applied = host.write_values([Change(BACKUP_KEY, name, None, sensitive=True) for name in names], [], remove_if_empty=[BACKUP_KEY])
    removed = [name for name, done in zip(names, applied) if done]
    return {"changed": bool(removed), "restored": [], "rewritten": [], "left_alone": [],
            "discarded": list(dict.fromkeys(split_backup_name(name)[0] for name in removed)), "values": [],
            "diff": {"before": "".join(f"{BACKUP_KEY}\\{name}\n" for name in removed), "after": ""}, "warnings": []}


def _forget(host: WindowsHost, names: list[str], others: bool) -> None:
    """Remove these backup values: the whole key in one execution when nothing else is in it."""
    if not others:
        host.remove_key(BACKUP_KEY)
        return
    for name in names:
        host.remove_value(BACKUP_KEY, name, sensitive=True)


def apply(host: WindowsHost, plan: Plan, check_mode: bool) -> dict[str, t.Any]:
    """Put saved values back with their exact type and bytes where the host still holds what the run wrote; drop those backups.

    What the saved values hold now is read in one more execution, so that only values that differ are
    written, with the sequence win_regedit really writes (write_exact). A value that no longer holds what
    the run wrote is left alone (``left_alone``, a warning). A value that cannot be written fails the task
    naming it (never its data), after the others were restored; its backup stays for a later rollback.
    """
    if not plan.restore and not plan.run_ids and set(plan.components) == set(COMPONENTS) and not check_mode:
        return discard_all(host, check_mode)
    if not plan.restore and plan.run_ids and not check_mode:
        return discard_run(t.cast(ModuleHost, host), plan)
    backups = host.read_key(BACKUP_KEY)
    found = _selected(backups.values, plan) if backups.exists else []
    others = bool(set(backups.values) - set(found)) if backups.exists else False
    restored_values: list[dict[str, t.Any]] = []
    failed: dict[str, list[str]] = {}
    rewritten: list[str] = []
    left_alone: list[str] = []
    if plan.restore and found:
        # Decode everything first: a backup that cannot be read fails the task before anything is written.
        saved = {name: decode_backup(backups.get(name).value, name) for name in found}  # type: ignore[union-attr]
        paths = list(dict.fromkeys(item.path for items in saved.values() for item in items))
        current = host.read_state(paths)
        for name in found:
            component = split_backup_name(name)[0]
            for item in saved[name]:
                now = current.key(item.path).get(item.name)
                # Already the saved value (a write that failed never happened): nothing to put back, nothing to leave alone.
                if item.known_written and now != item.written and now != item.value:
                    # Someone changed it after this run wrote it: putting the old value back would undo their change.
                    left_alone.append(f"{item.path}\\{item.name}")
                    continue
                restored_values.append({"component": component, "path": item.path, "name": item.name, "existed": item.value is not None})
                if check_mode:
                    continue
                try:
                    if write_exact(host, item.path, item.name, item.value, now, sensitive=True):
                        rewritten.append(component)
                except HostError as error:
                    # The seam's message starts with the module and the value; keep what Windows said.
                    reason = str(error).split(": ", 1)[-1]
                    failed.setdefault(name, []).append(f"{item.path}\\{item.name} ({reason})")
    done = [name for name in found if name not in failed]
    if not check_mode and done:
        _forget(host, done, others or bool(failed))
    components = list(dict.fromkeys(split_backup_name(name)[0] for name in done))
    if failed:
        raise HostError(
            "could not restore " + "; ".join(value for values in failed.values() for value in values)
            + (f". Restored: {', '.join(components)}" if components else ". Nothing else was restored")
            + f". The saved values of {', '.join(failed)} stay in {BACKUP_KEY} for a later ssm.proxy.rollback."
        )
    warnings = []
    if left_alone:
        warnings.append(f"left alone, because they no longer hold what the run wrote (changed since by another run or by hand): "
                        f"{', '.join(left_alone)}")
    return {
        "changed": bool(found),
        "restored": components if plan.restore else [],
        # The components whose values differed from the saved ones and were written back (the agent needs a
        # restart only when its own value was).
        "rewritten": list(dict.fromkeys(rewritten)),
        "left_alone": left_alone,
        "discarded": [] if plan.restore else components,
        "values": restored_values,
        "diff": {"before": "".join(f"{BACKUP_KEY}\\{name}\n" for name in found), "after": ""},
        "warnings": warnings,
    }


class ActionModule(SettingsAction):
    """Restore or discard the backups the settings modules keep on the host."""

    ARGUMENT_SPEC = ARGUMENT_SPEC
    SUPPORTS_BACKUP = False
    build_plan = staticmethod(build_plan)
    apply = staticmethod(apply)
