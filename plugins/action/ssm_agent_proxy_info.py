# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of ssm.proxy.ssm_agent_proxy_info: what the agent will use, from where, and what is wrong.

One module execution per host: read_state.ps1 reads every key and the agent log's tail at once.
"""

from __future__ import annotations

import os
import typing as t

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ..plugin_utils import _snapshot
from ..plugin_utils._action import failures_as_results
from ..plugin_utils._backup import (
    BACKUP_KEY, COLLECTION_KEY, DEFAULT_STALE_AFTER, RESTART_OUTCOME_VALUE, describe_run, new_run, restart_outcome_finding, run_owner,
    runs_in_progress,
)
from ..plugin_utils._blobs import BlobError, decode_winhttp_settings, decode_wininet_settings
from ..plugin_utils._diagnosis import HostFacts, diagnose
from ..plugin_utils._host import OS_KEY, FileTail, HostError, HostState, ModuleHost, ObjectAcl, RegistryKey, SnapshotHost, WindowsHost
from ..plugin_utils._proxy import ProxyInputError, redact, type_name
from ..plugin_utils._routes import requested_endpoints
from . import ssm_agent_proxy, winhttp_proxy, wininet_proxy

SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"
EC2CONFIG_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\Ec2Config"
SYSTEM_ENVIRONMENT_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment"
LOCALSYSTEM_ENVIRONMENT_KEY = "HKU:\\S-1-5-18\\Environment"
# LocalSystem's hive is HKU\S-1-5-18 (HKU\.DEFAULT is the same hive); the agent runs as LocalSystem.
LOCALSYSTEM_INTERNET_KEY = "HKU:\\S-1-5-18\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings"
LOCALSYSTEM_CONNECTIONS_KEY = LOCALSYSTEM_INTERNET_KEY + "\\Connections"
# ProxySettingsPerUser=0 makes WinINet use the machine's settings for every user.
POLICY_KEY = "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\\Internet Settings"
MACHINE_INTERNET_KEY = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings"
MACHINE_CONNECTIONS_KEY = MACHINE_INTERNET_KEY + "\\Connections"  # also WinHTTP's native view
WOW64_CONNECTIONS_KEY = "HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections"
AGENT_LOG = "C:\\ProgramData\\Amazon\\SSM\\Logs\\amazon-ssm-agent.log"
# The agent gives this folder a non-inheriting ACL for Administrators and SYSTEM at start-up (HardenDataFolder ->
# Harden, agent/fileutil of aws/amazon-ssm-agent); its log there holds the proxy variables in clear.
AGENT_DATA_FOLDER = "C:\\ProgramData\\Amazon\\SSM"
# Whose readers the one read reports, by the name the result uses.
ACL_PATHS = {"service_key": SERVICE_KEY, "collection_key": COLLECTION_KEY, "backup_key": BACKUP_KEY, "data_folder": AGENT_DATA_FOLDER}

KEYS = (
    SERVICE_KEY, EC2CONFIG_KEY, SYSTEM_ENVIRONMENT_KEY, LOCALSYSTEM_ENVIRONMENT_KEY, LOCALSYSTEM_INTERNET_KEY,
    LOCALSYSTEM_CONNECTIONS_KEY, POLICY_KEY, MACHINE_INTERNET_KEY, MACHINE_CONNECTIONS_KEY, WOW64_CONNECTIONS_KEY, OS_KEY,
    COLLECTION_KEY, BACKUP_KEY,
)
# The settings modules whose wanted state can be compared with what was read, without another round trip.
SETTINGS_MODULES = {"ssm_agent_proxy": ssm_agent_proxy, "wininet_proxy": wininet_proxy, "winhttp_proxy": winhttp_proxy}

ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {
    "log_tail_bytes": {"type": "int", "default": 65536},
    "desired": {"type": "dict"},
    "stale_after": {"type": "int", "default": DEFAULT_STALE_AFTER},
    "region": {"type": "str"},
    "endpoints": {"type": "list", "elements": "str"},
}


def desired_plans(desired: dict[str, t.Any] | None, prefix: str = "desired.") -> dict[str, t.Any]:
    """Validate each component's wanted options as its module would, and plan them; bad input fails here.

    ``prefix`` is how the caller's options name a component (``desired.wininet_proxy`` here, ``wininet_proxy``
    for ssm.proxy.proxy_settings), so that an error names the option the user wrote.
    """
    plans = {}
    for component, options in (desired or {}).items():
        if component not in SETTINGS_MODULES:
            raise ProxyInputError("desired", f"unknown component '{component}'; use {', '.join(SETTINGS_MODULES)}")
        if options is None:
            continue
        if not isinstance(options, dict):
            raise ProxyInputError(f"{prefix}{component}", f"must be a dict of {component} options, got {type_name(options)}")
        module = SETTINGS_MODULES[component]
        validation = ArgumentSpecValidator(module.ARGUMENT_SPEC).validate(options)
        if validation.error_messages:
            raise ProxyInputError(f"{prefix}{component}", "; ".join(validation.error_messages))
        plans[component] = module.build_plan(validation.validated_parameters)
    return plans


def compliance(state: HostState, plans: dict[str, t.Any]) -> tuple[dict[str, bool], list[str]]:
    """Whether each planned component already matches, asked of the module itself over the snapshot."""
    result, warnings = {}, []
    for component, plan in plans.items():
        try:
            outcome = SETTINGS_MODULES[component].apply(SnapshotHost(state), plan, True)
        except HostError:
            result[component] = False  # something the snapshot does not hold: let the module itself decide
            continue
        result[component] = not outcome["changed"]
        warnings.extend(outcome.get("warnings") or [])
    return result, list(dict.fromkeys(warnings))


def _value(key: RegistryKey, name: str, default: t.Any = None) -> t.Any:
    found = key.get(name)
    return default if found is None else found.value


def _environment(key: RegistryKey) -> dict[str, str]:
    """Registry environment values as name -> text (REG_SZ / REG_EXPAND_SZ as stored)."""
    return {name: str(value.value) for name, value in key.values.items() if value.type in ("REG_SZ", "REG_EXPAND_SZ")}


def wininet_source(state: HostState) -> tuple[dict[str, t.Any] | None, str]:
    """LocalSystem's WinINet settings as WinHttpGetIEProxyConfigForCurrentUser sees them, and where they came from."""
    machine_wide = _value(state.key(POLICY_KEY), "ProxySettingsPerUser") == 0
    internet_key = state.key(MACHINE_INTERNET_KEY if machine_wide else LOCALSYSTEM_INTERNET_KEY)
    connections_key = state.key(MACHINE_CONNECTIONS_KEY if machine_wide else LOCALSYSTEM_CONNECTIONS_KEY)
    scope = "machine" if machine_wide else "local_system"
    blob = connections_key.get("DefaultConnectionSettings")
    if blob is not None and blob.type == "REG_BINARY":
        settings = decode_wininet_settings(blob.value, value_name=f"{connections_key.path}\\DefaultConnectionSettings")
        return {
            "proxy_enabled": settings.manual_proxy, "proxy": settings.proxy, "bypass": settings.bypass,
            "auto_detect": settings.auto_detect, "auto_config_url_enabled": settings.auto_config,
            "auto_config_url": settings.auto_config_url, "scope": scope, "from": "DefaultConnectionSettings",
        }, scope
    if not internet_key.exists:
        return None, scope
    # Without the blob, the legacy plain values are all there is.
    auto_config_url = str(_value(internet_key, "AutoConfigURL", "") or "")
    return {
        "proxy_enabled": _value(internet_key, "ProxyEnable", 0) == 1, "proxy": str(_value(internet_key, "ProxyServer", "") or ""),
        "bypass": str(_value(internet_key, "ProxyOverride", "") or ""), "auto_detect": False,
        "auto_config_url_enabled": bool(auto_config_url), "auto_config_url": auto_config_url, "scope": scope, "from": "plain values",
    }, scope


def winhttp_source(state: HostState) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
    """WinHTTP's default proxy in the native view (what the 64-bit agent reads) and the 32-bit view."""
    views = {}
    for view, path in (("native", MACHINE_CONNECTIONS_KEY), ("wow64", WOW64_CONNECTIONS_KEY)):
        blob = state.key(path).get("WinHttpSettings")
        if blob is None:
            views[view] = {"proxy": "", "bypass": ""}
            continue
        enabled, proxy, bypass = decode_winhttp_settings(blob.value, value_name=f"{path}\\WinHttpSettings").effective()
        views[view] = {"proxy": proxy if enabled else "", "bypass": bypass if enabled else ""}
    return views["native"], views["wow64"]


def read_and_diagnose(host: WindowsHost, log_tail_bytes: int, plans: dict[str, t.Any] | None = None,
                      stale_after: int = DEFAULT_STALE_AFTER, endpoints: list[tuple[str | None, str]] | None = None,
                      keep_for: str | None = None) -> dict[str, t.Any]:
    """One read of the host, then the diagnosis (and, with plans, which components already match).

    With ``keep_for`` (the inventory host name) and a component that does not match, the read is kept on the
    controller for ssm.proxy.proxy_settings, and ``snapshot`` is the token that finds it: the writes after a plan
    then need no read of their own.
    """
    state = host.read_state(KEYS, [AGENT_LOG], tail_bytes=log_tail_bytes, acl_paths=list(ACL_PATHS.values()))
    service = state.key(SERVICE_KEY)
    os_key = state.key(OS_KEY)
    facts = HostFacts(
        agent_installed=service.exists,
        ec2config_installed=state.key(EC2CONFIG_KEY).exists,
        os_version=_os_version(os_key),
        installation_type=_value(os_key, "InstallationType"),
    )
    environment = _value(service, "Environment", [])
    wininet, _scope = wininet_source(state)
    winhttp, winhttp_wow64 = winhttp_source(state)
    raw = {
        "service_registry": environment if isinstance(environment, list) else [str(environment)],
        "system_environment": _environment(state.key(SYSTEM_ENVIRONMENT_KEY)),
        "localsystem_environment": _environment(state.key(LOCALSYSTEM_ENVIRONMENT_KEY)),
        "wininet": wininet,
        "winhttp": winhttp,
    }
    log = state.file(AGENT_LOG)
    result = diagnose(raw, facts, log.content if log.exists and not log.error else None, log.start,
                      endpoints=endpoints or requested_endpoints(None, None))
    result["findings"].extend(log_findings(log, service.exists, result["running"] is not None))
    outcome = state.key(COLLECTION_KEY).get(RESTART_OUTCOME_VALUE)
    finding = restart_outcome_finding(None if outcome is None else outcome.value, (result["running"] or {}).get("logged_at"))
    if finding:
        result["findings"].append(finding)
    result["sources"]["winhttp_wow64"] = winhttp_wow64
    result["agent"] = {
        "installed": service.exists,
        "version": (result["running"] or {}).get("agent_version"),
        "log": {"path": AGENT_LOG, "exists": log.exists, "size": log.size, "error": log.error},
    }
    result["os"] = {
        "product_name": _value(os_key, "ProductName"), "installation_type": facts.installation_type,
        "version": facts.os_version, "build": _value(os_key, "CurrentBuild"),
    }
    backup = state.key(BACKUP_KEY)
    result["pending_backups"] = sorted(name for name in backup.values) if backup.exists else []
    # Runs that have changed this host and not finished (their backups mark them): live ones block others.
    result["runs"] = [{**run, "message": describe_run(run)} for run in runs_in_progress(backup, stale_after)]
    stale = [run for run in result["runs"] if run["stale"]]
    for run in stale:
        result.setdefault("warnings", []).append(
            f"{describe_run(run)} never finished: its saved values of {', '.join(run['components'])} stay in {BACKUP_KEY} "
            f"(ssm.proxy.rollback run_id={run['id']} restores them where nothing changed since); it no longer blocks other runs"
        )
    result["acl"] = {name: acl_summary(state.acl(path), path) for name, path in ACL_PATHS.items()}
    finding = credentials_readable_finding(state, log)
    if finding:
        result["findings"].append(finding)
    if plans is not None:
        result["compliance"], warnings = compliance(state, plans)
        # Kept only when something is to be written: a host that matches (the scheduled case) costs no file.
        if keep_for is not None and not all(result["compliance"].values()):
            result["snapshot"] = _snapshot.store(state, keep_for)
        # The registry may hold the wanted values while the running agent goes without them (a run stopped
        # between write and restart, a manual edit, an agent update): such a host needs one restart.
        result["restart_needed"] = bool(
            "ssm_agent_proxy" in plans and result["compliance"].get("ssm_agent_proxy") and result["restart_pending"]
        )
        result["compliant"] = all(result["compliance"].values()) and not result["restart_needed"]
        if "ssm_agent_proxy" in plans and service.exists and result["running"] is None:
            # Unknown is not "wrong": restarting on every run because of it would help nobody.
            warnings.append(
                "what the running agent uses is unknown (see the finding " + ", ".join(
                    finding["code"] for finding in result["findings"] if finding["code"].startswith("agent_log") or finding["code"] == "agent_running_unknown"
                ) + "); the agent was not restarted for it"
            )
        if warnings:
            result["warnings"] = list(dict.fromkeys(result.get("warnings", []) + warnings))
    return result


def acl_summary(acl: ObjectAcl | None, path: str) -> dict[str, t.Any]:
    """Who may read ``path``: ``restricted`` when only SYSTEM and Administrators may (and no parent can add more)."""
    if acl is None:
        return {"path": path, "exists": None, "protected": None, "readers": [], "restricted": False, "error": "not read"}
    return {"path": acl.path, "exists": acl.exists, "protected": acl.protected, "readers": [reader.label() for reader in acl.readers],
            "restricted": acl.restricted, "error": acl.error}


def _holds_password(values: t.Iterable[t.Any]) -> bool:
    return any(redact(str(value)) != str(value) for value in values)


def credentials_readable_finding(state: HostState, log: FileTail) -> dict[str, str] | None:
    """Name who beyond SYSTEM and Administrators can read a proxy password the host holds, and where.

    Windows lets BUILTIN\\Users and ALL APPLICATION PACKAGES read every key under HKLM\\SYSTEM and HKLM\\SOFTWARE
    by inheritance (DISA STIG rule V-220907 lists these defaults), the agent's service key included; the agent
    keeps its data folder (and log) for Administrators and SYSTEM only, unless someone loosened it.
    """
    service = state.key(SERVICE_KEY).get("Environment")
    backup = state.key(BACKUP_KEY)
    lines = [] if service is None else service.value if isinstance(service.value, list) else [service.value]
    places = [
        (SERVICE_KEY + " (Environment)", SERVICE_KEY, _holds_password(lines)),
        (BACKUP_KEY, BACKUP_KEY, backup.exists and _holds_password(value.value for value in backup.values.values())),
        (AGENT_LOG, AGENT_DATA_FOLDER, log.exists and not log.error and _holds_password([log.content])),
    ]
    exposed = []
    for label, path, holds in places:
        acl = state.acl(path)
        if holds and acl is not None and acl.exists and not acl.error and acl.other_readers():
            exposed.append(f"{label}: {', '.join(reader.label() for reader in acl.other_readers())}")
    if not exposed:
        return None
    return {
        "code": "credentials_readable", "severity": "warning",
        "message": "A proxy password is stored where accounts beyond SYSTEM and Administrators can read it: " + "; ".join(exposed) + ". "
                   "Use a proxy that authenticates the instance without a password, or set ssm_proxy_restrict_acl: true "
                   "(ssm.proxy.agent_proxy) to keep the agent's service key to SYSTEM and Administrators; see docs/security.md.",
    }


def log_findings(log: FileTail, agent_installed: bool, block_found: bool = True) -> list[dict[str, str]]:
    """Say why the running values are unknown when the agent's log is missing or cannot be read.

    Without the log nobody can confirm what the running agent uses; an empty ``running`` alone does not
    tell an operator whether the agent never started or the account may not read its log.
    """
    if not agent_installed:
        return []
    if log.exists and not log.error and not block_found:
        return [{
            "code": "agent_running_unknown", "severity": "warning",
            "message": f"The agent log {log.path} holds no startup block in its last {len(log.content.encode('utf-8'))} bytes, so what the "
                       "running agent uses is unknown; restart AmazonSSMAgent (or raise log_tail_bytes) to see it.",
        }]
    if log.error:
        return [{
            "code": "agent_log_unreadable", "severity": "warning",
            "message": f"The agent log {log.path} could not be read ({log.error}), so what the running agent uses is unknown; "
                       "connect as an account that may read %ProgramData%\\Amazon\\SSM\\Logs (an administrator).",
        }]
    if not log.exists:
        return [{
            "code": "agent_log_missing", "severity": "warning",
            "message": f"The agent log {log.path} does not exist, so what the running agent uses is unknown: the agent has not "
                       "started since it was installed, or it logs elsewhere (seelog.xml); restart AmazonSSMAgent and check its log settings.",
        }]
    return []


def _os_version(key: RegistryKey) -> str | None:
    """NT version: CurrentMajor/MinorVersionNumber since Windows 10/2016, CurrentVersion (frozen at 6.3) before."""
    major, minor = _value(key, "CurrentMajorVersionNumber"), _value(key, "CurrentMinorVersionNumber")
    if major is not None:
        return f"{major}.{minor or 0}"
    return _value(key, "CurrentVersion")


class ActionModule(ActionBase):
    """Report the SSM Agent's effective proxy, its sources, the running values and findings."""

    TRANSFERS_FILES = False
    _requires_connection = True

    @failures_as_results
    def run(self, tmp: t.Any = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        self._supports_check_mode = True
        self._supports_async = False
        result = super().run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if args["log_tail_bytes"] < 1024:
            raise AnsibleActionFail("log_tail_bytes: must be at least 1024 to hold an agent startup block")
        try:
            plans = desired_plans(args["desired"]) if args["desired"] is not None else None
            endpoints = requested_endpoints(args["region"], args["endpoints"])
            result.update(read_and_diagnose(ModuleHost(self, task_vars or {}), args["log_tail_bytes"], plans, args["stale_after"], endpoints,
                                            keep_for=str((task_vars or {}).get("inventory_hostname", "")) if plans is not None else None))
        except (HostError, BlobError, ProxyInputError) as error:
            raise AnsibleActionFail(str(error)) from None
        result["changed"] = False
        # The id and start of a change made after this read (the role's run): made here, with the read, instead of
        # in a task of the role's own.
        # The owner is the controller's: the worker's environment is ansible-playbook's (lookup('env', 'USER')).
        result["run"] = new_run(owner=run_owner((task_vars or {}).get("awx_job_id"), os.environ.get("USER")))
        # The role follows the check mode of its tasks (--check, or a play/block `check_mode: true`, which
        # ansible_check_mode does not show) through this value.
        result["check_mode"] = bool(self._task.check_mode)
        return result
