# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Simulated Windows services (the ``services`` section) and the SSM Agent that runs as one.

A service record is ``{"state": "running"|"stopped"|"paused", "start_mode": "auto"|"delayed"|"manual"|
"disabled"}`` plus optional ``display_name``, ``description``, ``path``, ``username``, ``dependencies``
and ``can_pause_and_continue``. Starting ``AmazonSSMAgent`` runs the simulated agent: it evaluates its
proxy from the registry (``_sim_agent``), appends its startup block to its log file and records the
result in ``agent.running``.
"""

from __future__ import annotations

import datetime
import os
import random
import typing as t

from ansible_collections.ansible.windows.plugins.module_utils import _sim_agent as agent
from ansible_collections.ansible.windows.plugins.module_utils._sim_registry import Registry, StateFormatError

AGENT_SERVICE = 'AmazonSSMAgent'
SEED_ENV = 'SIM_SEED'

# What Get-Service shows for the agent when the state does not say otherwise.
AGENT_DEFAULTS = {
    'display_name': 'Amazon SSM Agent',
    'description': 'Amazon SSM Agent',
    'path': '"C:\\Program Files\\Amazon\\SSM\\amazon-ssm-agent.exe"',
}
SERVICE_STATES = ('running', 'stopped', 'paused')
START_MODES = ('auto', 'delayed', 'manual', 'disabled')


class ServiceError(Exception):
    """A service operation Windows refuses; the message reads like the cmdlet's error."""


def find_service(services: t.Mapping[str, t.Any], name: str) -> t.Optional[str]:
    """Get-ServiceFromName: match the service name or the display name (case-insensitive)."""
    folded = name.casefold()
    for service_name, record in services.items():
        if service_name.casefold() == folded:
            return service_name
    for service_name, record in services.items():
        if str(describe(service_name, record)['display_name']).casefold() == folded:
            return service_name
    return None


def describe(name: str, record: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """A service record with every optional field filled in."""
    defaults = AGENT_DEFAULTS if name.casefold() == AGENT_SERVICE.casefold() else {}
    state = record.get('state', 'stopped')
    start_mode = record.get('start_mode', 'manual')
    if state not in SERVICE_STATES:
        raise StateFormatError(f'service {name}: state {state!r} is not one of {", ".join(SERVICE_STATES)}')
    if start_mode not in START_MODES:
        raise StateFormatError(f'service {name}: start_mode {start_mode!r} is not one of {", ".join(START_MODES)}')
    return {
        'name': name,
        'display_name': record.get('display_name', defaults.get('display_name', name)),
        'description': record.get('description', defaults.get('description', '')),
        'path': record.get('path', defaults.get('path', f'C:\\Windows\\System32\\{name}.exe')),
        'username': record.get('username', 'LocalSystem'),
        'dependencies': list(record.get('dependencies', [])),
        'can_pause_and_continue': bool(record.get('can_pause_and_continue', False)),
        'state': state,
        'start_mode': start_mode,
    }


def depended_by(services: t.Mapping[str, t.Any], name: str) -> list[str]:
    return [other for other, record in services.items()
            if name.casefold() in (dep.casefold() for dep in record.get('dependencies', []))]


def account_name(username: str) -> str:
    """The account as the SCM reports it (``LocalSystem`` is shown as ``NT AUTHORITY\\SYSTEM``)."""
    return 'NT AUTHORITY\\SYSTEM' if username.casefold() in ('localsystem', 'system', 'nt authority\\system') else username


# --- Starting and stopping ----------------------------------------------------------------------------------

def start_service(state: t.Any, name: str) -> None:
    """Start-Service: refuse a disabled service; a starting agent evaluates its proxy."""
    record = state.services[name]
    info = describe(name, record)
    if info['start_mode'] == 'disabled':
        raise ServiceError(f"Service '{info['display_name']} ({name})' cannot be started due to the following error: "
                           f"Cannot start service {name} on computer '.'.")
    record['state'] = 'running'
    if name.casefold() == AGENT_SERVICE.casefold():
        start_agent(state)


def stop_service(state: t.Any, name: str) -> None:
    state.services[name]['state'] = 'stopped'
    if name.casefold() == AGENT_SERVICE.casefold():
        # The process and its environment are gone.
        state.agent['running'] = None


def agent_rng() -> random.Random:
    """Go's map order is random; SIM_SEED makes it reproducible for tests."""
    seed = os.environ.get(SEED_ENV)
    return random.Random(seed) if seed else random.Random()


def start_agent(state: t.Any, now: t.Optional[datetime.datetime] = None) -> agent.ProxyEvaluation:
    """The simulated agent's start: SetProxyConfig, then the startup block in its log.

    The environment is read at this start from the registry (system, LocalSystem, service value).
    On Windows a changed system or LocalSystem variable reaches a restarted service only after a
    reboot; the sim applies it at the next start (documented simplification).
    """
    registry: Registry = state.registry

    def lookup_key(path: str) -> t.Optional[dict[str, t.Any]]:
        return registry.values(path) if registry.key_exists(path) else None

    version = str(state.agent.get('version', agent.DEFAULT_AGENT_VERSION))
    try:
        agent.parse_version(version)
    except ValueError as exc:
        raise StateFormatError(f'agent.version: {exc}') from None
    evaluation = agent.set_proxy_config(agent.gather_inputs(lookup_key))
    lines = agent.startup_log_lines(evaluation, version, now or datetime.datetime.now(), agent_rng())
    state.append_file(agent.AGENT_LOG_PATH, ''.join(line + '\n' for line in lines))
    state.agent['running'] = dict(evaluation.variables)
    return evaluation
