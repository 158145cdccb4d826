# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Simulated-host stand-in for ansible.windows.win_service (mirrors win_service.ps1 of 3.3.0).

Simulated: name (service name or display name), state, start_mode, display_name, description, path
(and creating a service with it), dependencies / dependency_action, force_dependent_services.
Options that change the service account, failure actions, privileges, type or SID info fail with a
"not simulated" message instead of being silently ignored. ``state: restarted`` (and ``started`` from
stopped) of AmazonSSMAgent runs the simulated agent start.
"""

from __future__ import annotations

import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ansible.windows.plugins.module_utils._sim_host import HostState, run_module, unhandled
from ansible_collections.ansible.windows.plugins.module_utils._sim_services import (
    ServiceError,
    account_name,
    depended_by,
    describe,
    find_service,
    restart_service,
    start_service,
    stop_service,
)

NOT_SIMULATED = (
    'error_control', 'failure_actions', 'failure_actions_on_non_crash_failure', 'failure_command', 'failure_reboot_msg',
    'failure_reset_period_sec', 'load_order_group', 'password', 'pre_shutdown_timeout_ms', 'required_privileges',
    'service_type', 'sid_info', 'update_password', 'username',
)
# ConvertTo-ServiceStateDiff: the diff (and win_service_info) call a running service "started".
STATE_DIFF = {'running': 'started', 'stopped': 'stopped', 'paused': 'paused'}


def service_diff(services: t.Mapping[str, t.Any], name: str) -> dict[str, t.Any]:
    """Get-ServiceDiff: the service as the diff shows it (fields the sim does not model at their defaults)."""
    info = describe(name, services[name])
    return {
        'dependencies': info['dependencies'],
        'description': info['description'],
        'desktop_interact': False,
        'display_name': info['display_name'],
        'error_control': 'normal',
        'failure_actions': [],
        'failure_actions_on_non_crash_failure': False,
        'failure_command': None,
        'failure_reboot_msg': None,
        'failure_reset_period_sec': 0,
        'load_order_group': '',
        'name': name,
        'path': info['path'],
        'pre_shutdown_timeout_ms': 180000,
        'required_privileges': [],
        'service_type': 'win32_own_process',
        'sid_info': 'none',
        'start_mode': info['start_mode'],
        'state': STATE_DIFF[info['state']],
        'username': account_name(info['username']),
        'password': 'REDACTED',
    }


def detect_changes(params: t.Mapping[str, t.Any]) -> bool:
    """$detectChanges without the `$null -ne $service` term: did the task ask for anything?"""
    if params['dependency_action'] != 'set' or params['desktop_interact']:
        return True
    keys = ('description', 'display_name', 'dependencies', 'error_control', 'failure_actions', 'failure_actions_on_non_crash_failure',
            'failure_command', 'failure_reboot_msg', 'failure_reset_period_sec', 'load_order_group', 'path', 'pre_shutdown_timeout_ms',
            'required_privileges', 'service_type', 'sid_info', 'start_mode', 'state', 'username', 'password')
    return any(params[key] is not None for key in keys)


def apply_config(module: AnsibleModule, record: dict[str, t.Any], name: str, after: dict[str, t.Any]) -> bool:
    """The Set-Service* functions for the simulated options; returns whether anything changed."""
    params = module.params
    info = describe(name, record)
    changed = False
    for key in ('display_name', 'description', 'path', 'start_mode'):
        wanted = params[key]
        # Set-ServiceDescription: '' removes the description; the others ignore an empty value.
        if wanted is None or (wanted == '' and key != 'description'):
            continue
        after[key] = wanted
        if wanted != info[key]:
            if not module.check_mode:
                record[key] = wanted
            changed = True
    if params['dependencies'] is not None:
        current = info['dependencies']
        wanted = list(params['dependencies'])
        action = params['dependency_action']
        if action == 'add':
            new = current + [dep for dep in wanted if dep not in current]
        elif action == 'remove':
            new = [dep for dep in current if dep not in wanted]
        else:
            new = wanted
        after['dependencies'] = new
        if new != current:
            if not module.check_mode:
                record['dependencies'] = new
            changed = True
    return changed


def apply_state(module: AnsibleModule, state: HostState, name: str, after: dict[str, t.Any]) -> bool:
    """Set-ServiceState; the service is started/stopped synchronously, as the cmdlets wait."""
    wanted = module.params['state']
    if wanted is None:
        return False
    after['state'] = wanted
    info = describe(name, state.services[name])
    current = info['state']
    if wanted == 'started' and current != 'running':
        if not module.check_mode:
            if current == 'paused':
                # Resume-Service: the same process continues; nothing is re-read.
                state.services[name]['state'] = 'running'
            else:
                start_service(state, name)
        return True
    if wanted == 'stopped' and current != 'stopped':
        if not module.check_mode:
            stop_service(state, name)
        return True
    if wanted == 'restarted':
        if not module.check_mode:
            restart_service(state, name)
        return True
    if wanted == 'paused' and current != 'paused':
        if not info['can_pause_and_continue']:
            module.fail_json(msg=f'failed to pause service {name}: The service does not support pausing')
        if not module.check_mode:
            state.services[name]['state'] = 'paused'
        return True
    return False


def build_result(services: t.Mapping[str, t.Any], name: t.Optional[str], after: dict[str, t.Any]) -> dict[str, t.Any]:
    """The backwards-compatible return values the real module derives from its after-diff."""
    state = str(after.get('state', '')).replace('_', '')
    username = after.get('username')
    if username == 'NT AUTHORITY\\SYSTEM':
        username = 'LocalSystem'
    result = {
        'exists': True,
        'dependencies': after.get('dependencies'),
        'description': after.get('description'),
        'desktop_interact': after.get('desktop_interact'),
        'display_name': after.get('display_name'),
        'name': after.get('name'),
        'path': after.get('path'),
        'start_mode': after.get('start_mode'),
        'username': username,
        'state': 'running' if state in ('restarted', 'started') else state,
        'can_pause_and_continue': None,
        'depended_by': [],
    }
    if name is not None and name in services:
        result['can_pause_and_continue'] = describe(name, services[name])['can_pause_and_continue']
        result['depended_by'] = depended_by(services, name)
    return result


def service(module: AnsibleModule, state: HostState) -> dict[str, t.Any]:
    params = module.params
    for key in NOT_SIMULATED:
        if params[key] is not None:
            module.fail_json(msg=f'win_service option {key} is not simulated by the sim host')
    if params['desktop_interact']:
        module.fail_json(msg='win_service option desktop_interact is not simulated by the sim host')

    services = state.services
    name = find_service(services, params['name'])
    before: t.Any = service_diff(services, name) if name else ''
    after: t.Any
    changed = False
    try:
        if params['state'] == 'absent':
            after = ''
            if name:
                if not module.check_mode:
                    stop_service(state, name)
                    del services[name]
                changed = True
        elif name is not None or detect_changes(params):
            if name is None:
                if params['path'] is None:
                    module.fail_json(msg=f"Service '{params['name']}' is not installed, need to set 'path' to create a new service")
                changed = True
                if module.check_mode:
                    after = {'name': params['name'], 'path': params['path'], 'start_mode': params['start_mode'],
                             'state': params['state'], 'display_name': params['display_name'],
                             'description': params['description'], 'dependencies': params['dependencies']}
                    return _finish(module, {'changed': True, **build_result(services, None, after)}, before, after)
                # New-Service: a stopped, automatic service running as LocalSystem.
                name = params['name']
                services[name] = {'state': 'stopped', 'start_mode': 'auto', 'path': params['path']}
            after = service_diff(services, name)
            changed = apply_config(module, services[name], name, after) or changed
            changed = apply_state(module, state, name, after) or changed
        else:
            after = before
    except ServiceError as exc:
        # Start-Service, Stop-Service and Restart-Service are called outside any try (win_service.ps1 of ansible.windows
        # 3.3.0, L840, L846, L851): the error is unhandled, and the result has no `changed`, whatever the service did.
        unhandled(module, str(exc))

    result: dict[str, t.Any] = {'changed': changed, 'exists': False}
    if after:
        result.update(build_result(services, name, after))
    return _finish(module, result, before, after)


def _finish(module: AnsibleModule, result: dict[str, t.Any], before: t.Any, after: t.Any) -> dict[str, t.Any]:
    if module._diff:  # pylint: disable=protected-access
        result['diff'] = {'before': before, 'after': after}
    return result


def main() -> None:
    run_module('win_service', service, module_kwargs={'required_by': {'password': ['username']}})


if __name__ == '__main__':
    main()
