# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The checks and warnings of the ssm.proxy filters that have them (plugins/filter/core.py, documented beside it).

Private to the ssm.proxy collection (internal use): no compatibility promises.

plugins/filter/core.py imports this module only when a filter is called: ansible-core compiles the filter file from
source in every worker process that looks up one of the collection's filters (one per task and host).
Each function imports what it needs when called, for the same reason.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

display = Display()


# --- agent_proxy_desired

def agent_proxy_desired(variables: t.Any) -> dict[str, t.Any]:
    """What the role asks each settings module for (see plugin_utils/_role_inputs.py, desired_settings)."""
    from ._role_inputs import desired_settings

    if not isinstance(variables, dict):
        raise AnsibleFilterError(f"agent_proxy_desired: expects the role variables as a dict, got {type(variables).__name__}")
    return desired_settings(variables, windows_bypass)


# --- agent_proxy_input_problems

def agent_proxy_input_problems(variables: t.Any) -> list[str]:
    """The role's consistency checks (see plugin_utils/_role_inputs.py)."""
    from ._role_inputs import input_problems

    if not isinstance(variables, dict):
        raise AnsibleFilterError(f"agent_proxy_input_problems: expects a dict of role variables, got {type(variables).__name__}")
    return input_problems(variables)


# --- effective_agent_proxy

KNOWN_KEYS = frozenset(("service_registry", "system_environment", "localsystem_environment", "wininet", "winhttp", "agent_log", "endpoints"))


def effective_agent_proxy(sources: t.Any) -> dict[str, t.Any]:
    """The agent's effective proxy, its sources and findings, for sources given as data."""
    from ._diagnosis import diagnose
    from ._proxy import ProxyInputError
    from ._routes import validate_endpoints

    if not isinstance(sources, Mapping):
        raise AnsibleFilterError(f"effective_agent_proxy: the input must be a dict of sources, got {type(sources).__name__}")
    unknown = sorted(set(sources) - KNOWN_KEYS)
    if unknown:
        raise AnsibleFilterError(f"effective_agent_proxy: unknown source(s) {', '.join(unknown)}; use {', '.join(sorted(KNOWN_KEYS))}")
    for name in ("wininet", "winhttp"):
        if sources.get(name) is not None and not isinstance(sources[name], Mapping):
            raise AnsibleFilterError(f"effective_agent_proxy: {name} must be a dict, got {type(sources[name]).__name__}")
    raw = {name: value for name, value in sources.items() if name not in ("agent_log", "endpoints")}
    if "endpoints" not in sources:
        return diagnose(raw, log_text=sources.get("agent_log"))
    try:
        endpoints = validate_endpoints("effective_agent_proxy: endpoints", sources["endpoints"])
    except ProxyInputError as error:
        raise AnsibleFilterError(str(error)) from None
    result = diagnose(raw, log_text=sources.get("agent_log"), endpoints=[(None, url) for url in endpoints])
    result["routes"] = [{key: route[key] for key in ("url", "proxy", "matched")} for route in result["routes"]]
    return result


# --- unknown_variables

def _names(option: str, value: t.Any) -> list[str]:
    if not isinstance(value, (list, tuple)):
        raise AnsibleFilterError(f"unknown_variables: {option} must be a list of variable names, got {type(value).__name__}")
    return [str(name) for name in value]


def unknown_variables(names: t.Any, known: t.Any, ignored: t.Any = ()) -> list[str]:
    """Warn once per unknown name (Display drops a repeated warning) and return the warnings."""
    from ._role_inputs import unknown_variables as find_unknown

    warnings = find_unknown(_names("_input", names), _names("known", known), _names("ignored", list(ignored)))
    for warning in warnings:
        display.warning(warning)
    return warnings


# --- windows_bypass

def windows_bypass(entries: t.Any) -> list[str]:
    """Windows bypass entries for a Go no_proxy list (a list, or a comma-separated string)."""
    from ._winproxy import windows_bypass_from_go

    if isinstance(entries, str):
        entries = entries.split(",")
    if not isinstance(entries, (list, tuple)):
        raise AnsibleFilterError(f"windows_bypass: expects a list of no_proxy entries, got {type(entries).__name__}")
    result, warnings = windows_bypass_from_go([str(entry) for entry in entries])
    for warning in warnings:
        display.warning(warning)
    return result
