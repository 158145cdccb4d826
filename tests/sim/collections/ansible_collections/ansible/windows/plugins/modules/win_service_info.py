# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Simulated-host stand-in for ansible.windows.win_service_info (mirrors win_service_info.ps1 of 3.3.0).

Every documented key of each service is returned; what the sim does not model has the value a
plain own-process service shows.
"""

from __future__ import annotations

import fnmatch
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ansible.windows.plugins.module_utils._sim_host import HostState, run_module
from ansible_collections.ansible.windows.plugins.module_utils._sim_services import account_name, depended_by, describe

# ConvertTo-ServiceStateDiff / the info module's state names.
STATE_NAMES = {'running': 'started', 'stopped': 'stopped', 'paused': 'paused'}


def matching_services(services: t.Mapping[str, t.Any], name: t.Optional[str]) -> list[str]:
    """Get-Service semantics: exact name first, then a wildcard over names and display names."""
    if name is None:
        return list(services)
    exact = [service for service in services if service.casefold() == name.casefold()]
    if exact:
        return exact
    pattern = name.casefold()
    return [service for service, record in services.items()
            if fnmatch.fnmatchcase(service.casefold(), pattern)
            or fnmatch.fnmatchcase(str(describe(service, record)['display_name']).casefold(), pattern)]


def service_entry(services: t.Mapping[str, t.Any], name: str) -> dict[str, t.Any]:
    info = describe(name, services[name])
    running = info['state'] != 'stopped'
    controls: list[str] = []
    if running:
        controls = ['stop', 'shutdown'] + (['pause_continue'] if info['can_pause_and_continue'] else [])
    return {
        'checkpoint': 0,
        'controls_accepted': controls,
        'dependencies': info['dependencies'],
        'dependency_of': depended_by(services, name),
        'description': info['description'],
        'desktop_interact': False,
        'display_name': info['display_name'],
        'error_control': 'normal',
        'failure_actions': [],
        'failure_actions_on_non_crash_failure': False,
        'failure_command': None,
        'failure_reboot_msg': None,
        'failure_reset_period_sec': 0,
        'launch_protection': 'none',
        'load_order_group': '',
        'name': name,
        'path': info['path'],
        'pre_shutdown_timeout_ms': 180000,
        'preferred_node': None,
        'process_id': 4000 + sum(map(ord, name)) if running else 0,
        'required_privileges': [],
        'service_exit_code': 0,
        'service_flags': [],
        'service_type': 'win32_own_process',
        'sid_info': 'none',
        'start_mode': info['start_mode'],
        'state': STATE_NAMES[info['state']],
        'triggers': [],
        'username': account_name(info['username']),
        'wait_hint_ms': 0,
        'win32_exit_code': 0 if running else 1077,
    }


def service_info(module: AnsibleModule, state: HostState) -> dict[str, t.Any]:
    names = matching_services(state.services, module.params['name'])
    return {'changed': False, 'exists': bool(names), 'services': [service_entry(state.services, name) for name in names]}


def main() -> None:
    run_module('win_service_info', service_info)


if __name__ == '__main__':
    main()
