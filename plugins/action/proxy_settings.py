# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of ssm.proxy.proxy_settings: the three settings modules over one read, written in one execution.

The modules' own decisions (each module's ``apply``) run over the plan's read, kept on the controller by
ssm_agent_proxy_info (:mod:`..plugin_utils._snapshot`), or over one read of its own; their backups and writes
then go to the host together through write_values.ps1, which refuses to write over anything that changed
since the read. In check mode nothing is sent at all. With ``restrict_acl``, the agent's service key is then
restricted to SYSTEM and Administrators in the same task, decided over the same read.
"""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ..plugin_utils import _preflight, _snapshot
from ..plugin_utils._action import BACKUP_OPTION, RUN_OPTION, failures_as_results
from ..plugin_utils._backup import BACKUP_KEY, COLLECTION_KEY, BackupHost, RunInfo, restrict_key
from ..plugin_utils._batch import BatchHost
from ..plugin_utils._blobs import BlobError
from ..plugin_utils._host import Change, ConflictError, HostError, HostState, ModuleHost, ObjectAcl, PartialWriteError
from ..plugin_utils._proxy import ProxyInputError
from .ssm_agent_proxy_info import KEYS, SERVICE_KEY, SETTINGS_MODULES, desired_plans

ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {
    "ssm_agent_proxy": {"type": "dict"},
    "wininet_proxy": {"type": "dict"},
    "winhttp_proxy": {"type": "dict"},
    "snapshot": {"type": "str"},
    "on_change": {"type": "str", "choices": ["fail", "reread"], "default": "fail"},
    "backup": BACKUP_OPTION,
    "run": RUN_OPTION,
    "restrict_acl": {"type": "bool", "default": False},
    "preflight": {"type": "dict", "options": {
        "proxy": {"type": "str", "required": True},
        "username": {"type": "str"},
        "password": {"type": "str", "no_log": True},
        "region": {"type": "str", "default": ""},
        "services": {"type": "list", "elements": "str", "default": list(_preflight.SERVICES)},
        "required": {"type": "list", "elements": "str", "default": list(_preflight.AGENT_SERVICES)},
        "timeout": {"type": "int", "default": 10},
    }},
}
# The documented order: the agent's own proxy first, then WinINet, then WinHTTP.
ORDER = ("ssm_agent_proxy", "wininet_proxy", "winhttp_proxy")
CONFLICT_REASONS = {
    "changed": "changed since the host was read",
    "unreadable": "can no longer be read",
    "run": "marks another run that started changing this host since it was read",
}


def read_host(host: ModuleHost, restrict_acl: bool = False) -> HostState:
    """One read of every key the settings modules read, and the ACLs their backups and ``restrict_acl`` need (no log tail)."""
    return host.read_state(KEYS, acl_paths=[COLLECTION_KEY, SERVICE_KEY] if restrict_acl else [COLLECTION_KEY])


def restrict_service_key(host: ModuleHost, acl: ObjectAcl | None, check_mode: bool) -> dict[str, t.Any]:
    """Keep the agent's service key, whose Environment may hold a proxy password, to SYSTEM and Administrators.

    The same restriction as the collection's key (:func:`restrict_key`); the agent runs as LocalSystem and keeps
    reading its Environment. Decided over the read: a key that is restricted already, or that does not exist (no
    agent), costs no execution; without a read (``acl`` None) win_acl and win_acl_inheritance decide themselves.
    ``granted`` and ``protected`` say what to undo; on a refusal, ``failed`` and ``msg`` too.
    """
    outcome: dict[str, t.Any] = {"path": SERVICE_KEY, "changed": False, "granted": [], "protected": False}
    if acl is not None and (not acl.exists or acl.restricted):
        return outcome
    if check_mode:
        # win_acl and win_acl_inheritance would report a change for a key that is not restricted (the read says so).
        outcome["changed"] = acl is not None
        return outcome
    try:
        outcome["protected"] = restrict_key(host, SERVICE_KEY, outcome["granted"])
    except HostError as error:
        outcome.update(failed=True, msg=f"{SERVICE_KEY} could not be restricted to SYSTEM and Administrators: {str(error).rstrip('.')}.")
    outcome["changed"] = bool(outcome["granted"]) or outcome["protected"]
    return outcome


def decide(state: HostState, host: ModuleHost, plans: dict[str, t.Any], run: RunInfo | None, backup: bool,
           check_mode: bool) -> tuple[BatchHost, dict[str, dict[str, t.Any]], dict[str, tuple[int, int]]]:
    """Each component's own ``apply`` over the read; returns the held writes, the results, and each component's writes."""
    batch = BatchHost(state, host)
    results: dict[str, dict[str, t.Any]] = {}
    spans: dict[str, tuple[int, int]] = {}
    for component in ORDER:
        if component not in plans:
            continue
        start = len(batch.changes)
        target = BackupHost(batch, component, run) if backup else batch
        outcome = SETTINGS_MODULES[component].apply(target, plans[component], check_mode)
        if isinstance(target, BackupHost):
            target.flush()
            outcome["backup"] = {"key": BACKUP_KEY, "name": target.name, "saved": target.saved}
        spans[component] = (start, len(batch.changes))
        results[component] = outcome
    return batch, results, spans


def conflict_message(error: ConflictError) -> str:
    """Name what changed (never its data) and what to do."""
    named = "; ".join(f"{item.get('path')}\\{item.get('name')} {CONFLICT_REASONS.get(str(item.get('reason')), 'changed')}"
                      + (f" ({item['message']})" if item.get("message") else "") for item in error.conflicts)
    if any(item.get("reason") == "run" for item in error.conflicts):
        return (f"{named}; nothing was changed. Another run is changing this host: run again when it has finished "
                "(ssm.proxy.ssm_agent_proxy_info lists it in runs).")
    return (f"{named}; nothing was changed, because the values to write were decided from the earlier read. Run again "
            "(the next run reads the host anew), or set on_change=reread to read again and decide over the new values.")


def partial_message(error: PartialWriteError, changes: list[Change], spans: dict[str, tuple[int, int]], backup: bool) -> str:
    """Which components' settings were written before Windows refused one, and how to undo them (backups do not count)."""
    done = len(error.applied)
    written = [component for component, (start, end) in spans.items()
               if any(changes[index].path.lower() != BACKUP_KEY.lower() for index in range(start, min(end, done)))]
    message = f"{str(error).rstrip('.')}."
    if written:
        message += f" Written before it: {', '.join(written)} (in part)."
    if backup:
        message += " The previous values were saved first: ssm.proxy.rollback with this run's run_id puts them back."
    return message


def acl_diff(acl: ObjectAcl | None) -> dict[str, str]:
    """Who may read the service key before and after its restriction, in the diff's before/after form.

    A key that no longer inherits keeps the readers its own explicit rules name (the restriction adds rules and turns
    inheritance off, it removes none); on a key that still inherits, the read does not tell explicit from inherited
    readers, and Windows' defaults are inherited only.
    """
    def lines(protected: bool, readers: list[str]) -> str:
        return f"inherits from HKLM\\SYSTEM: {'no' if protected else 'yes'}\nreaders: {', '.join(readers) or '(none)'}\n"
    before = lines(acl.protected, [reader.label() for reader in acl.readers]) if acl is not None else "(not read)\n"
    kept = [reader.label() for reader in acl.other_readers()] if acl is not None and acl.protected else []
    return {"before_header": f"{SERVICE_KEY} (ACL)", "after_header": f"{SERVICE_KEY} (ACL)", "before": before,
            "after": lines(True, ["NT AUTHORITY\\SYSTEM", "BUILTIN\\Administrators", *kept])}


class ActionModule(ActionBase):
    """Apply the agent's, WinINet's and WinHTTP's proxy settings over one read, in one write."""

    TRANSFERS_FILES = False
    _requires_connection = True

    @failures_as_results
    def run(self, tmp: t.Any = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        self._supports_check_mode = True
        self._supports_async = False
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        check_mode = bool(self._task.check_mode)
        host_name = str(task_vars.get("inventory_hostname", ""))
        host = ModuleHost(self, task_vars)
        try:
            run = RunInfo.from_options(args["run"])
            plans = desired_plans({component: args[component] for component in ORDER if args[component] is not None}, prefix="")
            if not plans and not args["restrict_acl"]:
                raise ProxyInputError("ssm_agent_proxy", "give the options of at least one of ssm_agent_proxy, wininet_proxy, winhttp_proxy, "
                                      "or restrict_acl=true")
            # Before anything is read for the write or written: a proxy that cuts the agent off is never configured.
            # In check mode nothing would be written, so nothing is probed either; with no component, no proxy changes.
            verdict = _preflight.run(host, args["preflight"]) if args["preflight"] and plans and not check_mode else None
            if verdict is not None and not verdict["passed"]:
                result.update(failed=True, changed=False, msg=f"{_preflight.summary(verdict, args['preflight']['proxy']).rstrip('.')}. Nothing was written.",
                              preflight=verdict, executions=host.executions)
                return result
            state = _snapshot.load(args["snapshot"], host_name) if args["snapshot"] else None
            reused = state is not None
            # The ACL alone needs no read outside check mode: win_acl and win_acl_inheritance decide themselves.
            if state is None and (plans or check_mode):
                state = read_host(host, args["restrict_acl"])
            batch: BatchHost | None = None
            results: dict[str, dict[str, t.Any]] = {}
            spans: dict[str, tuple[int, int]] = {}
            if state is not None:
                batch, results, spans = decide(state, host, plans, run, args["backup"], check_mode)
            if not check_mode and batch is not None:
                try:
                    batch.commit()
                except ConflictError as error:
                    if args["on_change"] != "reread" or any(item.get("reason") == "run" for item in error.conflicts):
                        raise AnsibleActionFail(conflict_message(error)) from None
                    state, reused = read_host(host, args["restrict_acl"]), False
                    batch, results, spans = decide(state, host, plans, run, args["backup"], check_mode)
                    batch.commit()
            # After the writes: a write that fails leaves the ACL alone.
            restricted = restrict_service_key(host, None if state is None else state.acl(SERVICE_KEY), check_mode) if args["restrict_acl"] else None
            if (args["snapshot"] and not check_mode
                    and (any(outcome["changed"] for outcome in results.values()) or (restricted and restricted["changed"]))):
                _snapshot.discard(args["snapshot"])  # the host no longer holds what it says
        except ConflictError as error:
            raise AnsibleActionFail(conflict_message(error)) from None
        except PartialWriteError as error:
            raise AnsibleActionFail(partial_message(error, batch.changes if batch is not None else [], spans, args["backup"])) from None
        except (ProxyInputError, HostError, BlobError) as error:
            raise AnsibleActionFail(str(error)) from None

        warnings = list(dict.fromkeys(warning for outcome in results.values() for warning in outcome.pop("warnings", None) or []))
        diffs = [outcome.pop("diff") for outcome in results.values() if "diff" in outcome]
        result.update(
            changed=any(outcome["changed"] for outcome in results.values()) or bool(restricted and restricted["changed"]),
            results=results,
            restart_required=bool(results.get("ssm_agent_proxy", {}).get("changed")),
            reused_read=reused,
            executions=host.executions,
        )
        if args["backup"]:
            saved = [outcome["backup"] for outcome in results.values()]
            result["backup"] = {"key": BACKUP_KEY, "names": [entry["name"] for entry in saved], "saved": any(entry["saved"] for entry in saved)}
        if self._task.diff:
            result["diff"] = [diff for component, diff in zip(results, diffs) if results[component]["changed"]]
            if restricted is not None and restricted["changed"]:
                result["diff"].append(acl_diff(None if state is None else state.acl(SERVICE_KEY)))
        if verdict is not None:
            result["preflight"] = verdict
            if verdict["unreachable"]:
                warnings.insert(0, _preflight.summary(verdict, args["preflight"]["proxy"]))
        if restricted is not None:
            result["acl"] = restricted
            if restricted.get("failed"):
                written = [component for component, outcome in results.items() if outcome["changed"]]
                result.update(failed=True, msg=restricted["msg"] + (f" Written before it: {', '.join(written)}." if written else ""))
        if warnings:
            result["warnings"] = warnings
        return result
