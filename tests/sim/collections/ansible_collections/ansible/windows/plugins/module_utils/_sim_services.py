# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Simulated Windows services (the ``services`` section) and the SSM Agent that runs as one.

A service record is ``{"state": "running"|"stopped"|"paused", "start_mode": "auto"|"delayed"|"manual"|
"disabled"}`` plus optional ``display_name``, ``description``, ``path``, ``username``, ``dependencies``
and ``can_pause_and_continue``. Starting ``AmazonSSMAgent`` runs the simulated agent: it evaluates its
proxy from the registry (``_sim_agent``), appends its startup block to its log file and records the
result in ``agent.running``. The ``faults`` section can make such a start fail or ignore the proxy
settings (``agent_start``, ``agent_start_faults_remaining``).

win_service and the twin of the collection's restart_agent script both start the agent through
:func:`start_service` / :func:`restart_service`, so faults apply to both alike.
"""

from __future__ import annotations

import datetime
import os
import random
import typing as t

from ansible_collections.ansible.windows.plugins.module_utils import _sim_agent as agent
from ansible_collections.ansible.windows.plugins.module_utils import _sim_network as network
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
# faults.agent_start: the agent process exits during its start / starts without its proxy settings.
AGENT_START_FAULTS = ('fails', 'without_settings')
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
    """Start-Service: refuse a disabled service; a starting agent evaluates its proxy.

    An ``agent_start: fails`` fault leaves the agent stopped and raises what Start-Service /
    Restart-Service report when the service stops during its start.
    """
    record = state.services[name]
    info = describe(name, record)
    if info['start_mode'] == 'disabled':
        raise ServiceError(f"Service '{info['display_name']} ({name})' cannot be started due to the following error: "
                           f"Cannot start service {name} on computer '.'.")
    is_agent = name.casefold() == AGENT_SERVICE.casefold()
    fault = take_agent_start_fault(state) if is_agent else None
    if fault == 'fails':
        record['state'] = 'stopped'
        state.agent['running'] = None
        # ServiceResources.StartServiceFailed: the service went from StartPending to Stopped.
        raise ServiceError(f"Failed to start service '{info['display_name']} ({name})'.")
    record['state'] = 'running'
    if is_agent:
        start_agent(state, without_settings=fault == 'without_settings')


def restart_service(state: t.Any, name: str) -> None:
    """Restart-Service: stop (a stopped service stays stopped), then start; raises ServiceError when the start fails."""
    stop_service(state, name)
    start_service(state, name)


def take_agent_start_fault(state: t.Any) -> t.Optional[str]:
    """The ``faults.agent_start`` kind that applies to this agent start, or None; counts the start.

    ``agent_start_faults_remaining`` (absent: every start is faulty) is decremented by each faulty
    start; at 0 starts are normal again, so a rollback's second restart can succeed.
    """
    faults = state.data.get('faults')
    if not isinstance(faults, dict) or faults.get('agent_start') is None:
        return None
    kind = faults['agent_start']
    if kind not in AGENT_START_FAULTS:
        raise StateFormatError(f'faults.agent_start {kind!r} is not one of {", ".join(AGENT_START_FAULTS)}')
    if 'agent_start_faults_remaining' not in faults:
        return str(kind)
    remaining = faults['agent_start_faults_remaining']
    if isinstance(remaining, bool) or not isinstance(remaining, int) or remaining < 0:
        raise StateFormatError(f'faults.agent_start_faults_remaining must be an integer >= 0, got {remaining!r}')
    if remaining == 0:
        return None
    faults['agent_start_faults_remaining'] = remaining - 1
    return str(kind)


def stop_service(state: t.Any, name: str) -> None:
    """Stop-Service; a running agent logs its shutdown lines first (core/app/agent.go Stop: "Stopping Core Agent", "Bye.")."""
    record = state.services[name]
    was_running = record.get('state', 'stopped') == 'running'
    record['state'] = 'stopped'
    if name.casefold() == AGENT_SERVICE.casefold():
        # A startup block still held back was written long before the agent could be asked to stop.
        deliver_delayed_startup(state, force=True)
        if was_running and state.agent.get('running') is not None:
            version = agent.parse_version(str(state.agent.get('version', agent.DEFAULT_AGENT_VERSION)))
            _append_agent_log(state, agent.shutdown_log_lines(version, datetime.datetime.now()))
        # The process and its environment are gone.
        state.agent['running'] = None


def _append_agent_log(state: t.Any, lines: t.Sequence[str]) -> None:
    """Append to the agent log, unless ``faults.agent_log: not_written`` (the agent logs elsewhere or not at all)."""
    faults = state.data.get('faults')
    if not (isinstance(faults, dict) and faults.get('agent_log') == 'not_written'):
        state.append_file(agent.AGENT_LOG_PATH, ''.join(line + '\n' for line in lines))


def start_delay(state: t.Any) -> int:
    """``agent.start_delay_executions``: module executions between the service reporting running and the startup block."""
    delay = state.agent.get('start_delay_executions', 0)
    if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
        raise StateFormatError(f'agent.start_delay_executions must be an integer >= 0, got {delay!r}')
    return delay


def deliver_delayed_startup(state: t.Any, force: bool = False) -> None:
    """Count one module execution against a held-back startup block; write it when its delay is over (or ``force``).

    Called at the start of every module execution on the host: with ``start_delay_executions: N`` the
    block is in the log for the N-th execution after the one that started the agent, not before.
    """
    section = state.data.get('agent')  # not state.agent: a host without the agent keeps its document as it is
    pending = section.get('pending_startup') if isinstance(section, dict) else None
    if not isinstance(pending, dict):
        return
    remaining = int(pending.get('remaining', 0)) - (0 if force else 1)
    if remaining > 0 and not force:
        pending['remaining'] = remaining
        return
    del state.agent['pending_startup']
    _append_agent_log(state, pending.get('lines') or [])


def agent_rng() -> random.Random:
    """Go's map order is random; SIM_SEED makes it reproducible for tests."""
    seed = os.environ.get(SEED_ENV)
    return random.Random(seed) if seed else random.Random()


def start_agent(state: t.Any, now: t.Optional[datetime.datetime] = None, without_settings: bool = False) -> agent.ProxyEvaluation:
    """The simulated agent's start: SetProxyConfig, then the startup block in its log.

    The environment is read at this start from the registry (system, LocalSystem, service value).
    On Windows a changed system or LocalSystem variable reaches a restarted service only after a
    reboot; the sim applies it at the next start (documented simplification).
    ``without_settings`` (the ``agent_start: without_settings`` fault): the agent sees no proxy
    setting at all and logs the three variables empty.
    """
    registry: Registry = state.registry

    def lookup_key(path: str) -> t.Optional[dict[str, t.Any]]:
        return registry.values(path) if registry.key_exists(path) else None

    version = str(state.agent.get('version', agent.DEFAULT_AGENT_VERSION))
    try:
        agent.parse_version(version)
    except ValueError as exc:
        raise StateFormatError(f'agent.version: {exc}') from None
    inputs = agent.AgentInputs(environment={}) if without_settings else agent.gather_inputs(lookup_key)
    evaluation = agent.set_proxy_config(inputs)
    lines = agent.startup_log_lines(evaluation, version, now or datetime.datetime.now(), agent_rng())
    lines.extend(contact_log_lines(state, evaluation, version, now))
    delay = start_delay(state)
    if delay:
        # The service reports running at once; the block reaches the log only after the agent's own start-up work.
        state.agent['pending_startup'] = {'remaining': delay, 'lines': lines}
    else:
        _append_agent_log(state, lines)
    state.agent['running'] = dict(evaluation.variables)
    return evaluation


def contact_log_lines(state: t.Any, evaluation: agent.ProxyEvaluation, version: str,
                      now: t.Optional[datetime.datetime]) -> list[str]:
    """After its start the agent calls Systems Manager through what it holds; a refusal is logged, not fatal.

    ``agent.registered``: whether ssm, ec2messages and ssmmessages answered through the ``network`` model
    (``_sim_network.agent_contact``; null without ``imds.region``). The ERROR lines follow the startup block.
    """
    try:
        registered, errors = network.agent_contact(state.data, evaluation.variables)
    except network.NetworkFormatError as error:
        raise StateFormatError(str(error)) from None
    state.agent['registered'] = registered
    stamp = agent.format_timestamp((now or datetime.datetime.now()) + datetime.timedelta(milliseconds=50),
                                   agent.parse_version(version))
    return [f'{stamp} ERROR {message}' for message in errors]
