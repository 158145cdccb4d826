# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The stand-in ansible.windows modules, driven through tests/sim/playbook by real ansible-playbook.

One playbook run (scenarios/standins.yml) per pipelining mode exercises every check below; each test
asserts on the registered results or on the state documents the run left behind.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import struct
import subprocess
import typing as t

import pytest

pytestmark = pytest.mark.integration

SIM_DIR = pathlib.Path(__file__).resolve().parent
RUNNER = SIM_DIR / 'playbook'
VALUES_KEY = 'HKLM:\\SOFTWARE\\Sim\\Values'
NEW_KEY = 'HKLM:\\SOFTWARE\\Sim\\New\\Deep'
SERVICE_KEY = 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent'
IE_KEY = 'HKU:\\S-1-5-18\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections'
LOG = 'C:\\ProgramData\\Amazon\\SSM\\Logs\\amazon-ssm-agent.log'


def _ie_blob(proxy: str, bypass: str) -> str:
    def counted(text: str) -> bytes:
        return struct.pack('<I', len(text)) + text.encode('ascii')
    return (struct.pack('<III', 0x46, 1, 0x3) + counted(proxy) + counted(bypass) + counted('') + bytes(32)).hex()


REGISTRY_STATE: dict[str, t.Any] = {
    'registry': {
        VALUES_KEY: {
            '': {'type': 'REG_SZ', 'value': 'default'},
            'Sz': {'type': 'REG_SZ', 'value': 'text'},
            'Expand': {'type': 'REG_EXPAND_SZ', 'value': '%SystemRoot%\\Temp'},
            'Bin': {'type': 'REG_BINARY', 'value': 'be01'},
            'Dword': {'type': 'REG_DWORD', 'value': 4294967295},
            'Qword': {'type': 'REG_QWORD', 'value': 1},
            'Multi': {'type': 'REG_MULTI_SZ', 'value': ['a', 'b']},
            'Nothing': {'type': 'REG_NONE', 'value': ''},
        },
        VALUES_KEY + '\\Child': {},
        'HKU:\\.DEFAULT\\Software\\Sim': {'Alias': {'type': 'REG_SZ', 'value': 'localsystem'}},
    },
    'calls': [],
}

SERVICES_STATE: dict[str, t.Any] = {
    'registry': {
        # Environment proxy (with a %-escaped credential) over an IE proxy whose bypass list still applies.
        SERVICE_KEY: {'Environment': {'type': 'REG_MULTI_SZ', 'value': ['https_proxy=http://u:p%40ss@proxy:3128']}},
        IE_KEY: {'DefaultConnectionSettings': {'type': 'REG_BINARY', 'value': _ie_blob('ie.corp:8080', '<local>;*.corp')}},
    },
    'services': {'AmazonSSMAgent': {'state': 'running', 'start_mode': 'auto'}},
    'agent': {'version': '3.3.987.0'},
    'files': {LOG: ''},
    'calls': [],
}


@dataclasses.dataclass
class Run:
    results: dict[str, dict[str, t.Any]]
    states: dict[str, dict[str, t.Any]]
    output: str


@pytest.fixture(scope='module', params=[False, True], ids=['pipelining-off', 'pipelining-on'])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Run scenarios/standins.yml once against three hosts and collect what it left behind."""
    work = tmp_path_factory.mktemp('standins')
    states = {'registry': REGISTRY_STATE, 'services': SERVICES_STATE}
    inventory: dict[str, t.Any] = {'all': {'children': {}}}
    for host, state in states.items():
        (work / f'{host}.json').write_text(json.dumps(state, indent=1), encoding='utf-8')
        inventory['all']['children'][host] = {'hosts': {f'{host}-host': {'sim_state': str(work / f'{host}.json')}}}
    inventory['all']['children']['stateless'] = {'hosts': {'stateless-host': {}}}
    (work / 'inventory.json').write_text(json.dumps(inventory), encoding='utf-8')
    (work / 'results').mkdir()

    env = dict(os.environ, ANSIBLE_PIPELINING=str(request.param), SIM_SEED='42', ANSIBLE_NOCOLOR='1')
    process = subprocess.run(
        [str(RUNNER), '-i', str(work / 'inventory.json'), str(SIM_DIR / 'scenarios' / 'standins.yml'),
         '-e', json.dumps({'results_dir': str(work / 'results')})],
        cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert process.returncode == 0, process.stdout + process.stderr
    return Run(
        results={host: json.loads((work / 'results' / f'{host}-host.json').read_text(encoding='utf-8'))
                 for host in ('registry', 'services', 'stateless')},
        states={host: json.loads((work / f'{host}.json').read_text(encoding='utf-8')) for host in states},
        output=process.stdout,
    )


def _calls(run: Run, host: str, module: str) -> list[dict[str, t.Any]]:
    return [call for call in run.states[host]['calls'] if call['module'] == 'ansible.windows.' + module]


# --- win_reg_stat -----------------------------------------------------------------------------------------------

def test_reg_stat_key_formats(run: Run) -> None:
    result = run.results['registry']['stat_key']
    assert result['exists'] is True and result['changed'] is False
    assert result['sub_keys'] == ['Child']
    properties = result['properties']
    assert properties[''] == {'type': 'REG_SZ', 'value': 'default', 'raw_value': 'default'}  # (Default)
    assert properties['Bin'] == {'type': 'REG_BINARY', 'value': [190, 1], 'raw_value': ['0xbe', '0x01']}
    assert properties['Dword'] == {'type': 'REG_DWORD', 'value': 4294967295, 'raw_value': 4294967295}
    assert properties['Multi'] == {'type': 'REG_MULTI_SZ', 'value': ['a', 'b'], 'raw_value': ['a', 'b']}
    assert properties['Nothing'] == {'type': 'REG_NONE', 'value': [], 'raw_value': []}
    assert properties['Expand'] == {'type': 'REG_EXPAND_SZ', 'value': 'C:\\Windows\\Temp', 'raw_value': '%SystemRoot%\\Temp'}


def test_reg_stat_value_formats(run: Run) -> None:
    results = run.results['registry']
    assert {k: results['stat_bin'][k] for k in ('exists', 'type', 'value', 'raw_value')} == {
        'exists': True, 'type': 'REG_BINARY', 'value': [190, 1], 'raw_value': ['0xbe', '0x01']}
    assert 'properties' not in results['stat_bin'] and 'sub_keys' not in results['stat_bin']
    assert (results['stat_expand']['value'], results['stat_expand']['raw_value']) == ('C:\\Windows\\Temp', '%SystemRoot%\\Temp')
    assert results['stat_default']['value'] == 'default'
    assert results['stat_missing_key']['exists'] is False and not results['stat_missing_key'].get('failed')
    assert results['stat_missing_value']['exists'] is False
    assert results['stat_parent']['exists'] is True and results['stat_parent']['sub_keys'] == ['Values']
    assert results['stat_alias']['value'] == 'localsystem'
    assert results['stat_bad_path']['failed'] is True
    assert results['stat_bad_path']['msg'] == 'path: HKEY_USERS\\S-1-5-18 is not a valid registry path, see module documentation for examples.'


# --- win_regedit ------------------------------------------------------------------------------------------------

def test_regedit_check_mode_reports_but_does_not_write(run: Run) -> None:
    result = run.results['registry']['create_check']
    assert (result['changed'], result['data_changed'], result['data_type_changed']) == (True, False, False)
    assert result['diff'] == {'before': {}, 'after': {NEW_KEY: {}}}
    check_calls = [call for call in _calls(run, 'registry', 'win_regedit') if call.get('check_mode')]
    assert [call['args'].get('name') for call in check_calls] == ['X', 'Dword']


def test_regedit_create_creates_parents_and_is_idempotent(run: Run) -> None:
    results = run.results['registry']
    assert results['create']['changed'] is True and results['create']['data_changed'] is False
    assert results['create']['diff'] == {'before': {}, 'after': {NEW_KEY: {'X': {'type': 'DWord', 'value': '0x00000001'}}}}
    assert results['create_again']['changed'] is False
    # The parent created on the way stays (as an empty key) after the child is deleted.
    assert run.states['registry']['registry']['HKLM:\\SOFTWARE\\Sim\\New'] == {}
    assert NEW_KEY not in run.states['registry']['registry']


def test_regedit_data_conversions(run: Run) -> None:
    results = run.results['registry']
    assert results['binary_hex']['changed'] is True
    assert results['binary_list']['changed'] is False  # [190, 239] == hex:be,ef
    assert (results['type_change']['changed'], results['type_change']['data_type_changed'], results['type_change']['data_changed']) == (
        True, True, False)  # PowerShell compares "1" and 1 as equal
    assert results['multi_case']['changed'] is False  # Compare-Object is case-insensitive
    assert results['qword_hex']['changed'] is True
    assert results['dword_too_large']['msg'] == 'data cannot be larger than 0xffffffff when type is dword'
    assert results['aliases']['changed'] is True
    values = run.states['registry']['registry'][VALUES_KEY]
    assert values['Aliased'] == {'type': 'REG_QWORD', 'value': 7}
    assert values['Odd'] == {'type': 'REG_BINARY', 'value': ''}
    assert values['Multi'] == {'type': 'REG_MULTI_SZ', 'value': ['a', 'b']}


def test_regedit_deletes(run: Run) -> None:
    results = run.results['registry']
    assert results['delete_value']['diff'] == {'before': {VALUES_KEY: {'Sz': {'type': 'String', 'value': 'text'}}}, 'after': {VALUES_KEY: {}}}
    assert results['delete_value_check']['changed'] is True
    assert results['delete_key']['diff'] == {'before': {NEW_KEY: {}}, 'after': {}}
    values = run.states['registry']['registry'][VALUES_KEY]
    assert 'Sz' not in values and 'Dword' in values


def test_regedit_rejects_non_psdrive_paths(run: Run) -> None:
    results = run.results['registry']
    for name, path in (('regedit_bad_path', 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Sim'), ('regedit_hkey_users', 'HKEY_USERS\\S-1-5-18\\Software')):
        assert results[name]['failed'] is True
        assert results[name]['msg'] == f'path: {path} is not a valid powershell path, see module documentation for examples.'
    assert results['hku_root']['failed'] is True
    # CreateSubKey's Win32Error(ret, keyName + "\\" + subkey) names the whole key asked for (registrykey.cs L406).
    assert results['hku_root']['msg'] == ('failed to create registry key at HKU:\\S-1-5-21-0\\Software: Exception calling "CreateSubKey" '
                                          'with "1" argument(s): "Access to the registry key \'HKEY_USERS\\S-1-5-21-0\\Software\' is denied."')


def test_arguments_are_validated_against_the_real_spec(run: Run) -> None:
    results = run.results['registry']
    assert results['unknown_option']['failed'] is True and 'bogus' in results['unknown_option']['msg']
    assert 'Unsupported parameters' in results['unknown_option']['msg']
    assert results['bad_choice']['failed'] is True
    assert 'value of type must be one of: none, binary, dword, expandstring, multistring, string, qword' in results['bad_choice']['msg']
    assert results['missing_required']['msg'] == 'missing required arguments: path'
    assert results['stat_property_alias']['failed'] is True and 'property' in results['stat_property_alias']['msg']
    # A call that failed validation was still a round trip.
    assert {'module': 'ansible.windows.win_regedit', 'args': {'path': VALUES_KEY, 'name': 'X', 'data': 'y', 'bogus': 1}} in \
        run.states['registry']['calls']


def test_no_log_task_redacts_data_in_calls(run: Run) -> None:
    secret_calls = [call for call in _calls(run, 'registry', 'win_regedit') if call['args'].get('name') == 'Secret']
    assert secret_calls == [{'module': 'ansible.windows.win_regedit', 'args': {'path': VALUES_KEY, 'name': 'Secret', 'data': '********'}}]
    assert run.states['registry']['registry'][VALUES_KEY]['Secret'] == {'type': 'REG_SZ', 'value': 'hunter2'}
    assert 'hunter2' not in run.output


def test_every_execution_is_recorded(run: Run) -> None:
    # 11 win_reg_stat tasks, 20 win_regedit tasks: failures and check mode included.
    assert len(_calls(run, 'registry', 'win_reg_stat')) == 11
    assert len(_calls(run, 'registry', 'win_regedit')) == 20


# --- win_service / win_service_info and the simulated agent -----------------------------------------------------

SHUTDOWN_MESSAGES = ('[amazon-ssm-agent] Stopping Core Agent', '[amazon-ssm-agent] Bye.')


def _log_blocks(run: Run) -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in run.states['services']['files'][LOG].splitlines():
        message = line.split(' ', 3)[3]
        if message in SHUTDOWN_MESSAGES:  # what a stopping agent logs between two starts
            continue
        blocks[-1].append(message)
        if line.endswith('Starting Core Agent'):
            blocks.append([])
    return blocks[:-1]


def test_agent_restarts_write_startup_blocks(run: Run) -> None:
    # restart, start-from-stopped: two real starts; check mode, started-when-running and the failed
    # restart of the disabled service write nothing.
    blocks = _log_blocks(run)
    assert len(blocks) == 2
    for block in blocks:
        assert block[:3] == [
            'Getting IE proxy configuration for current user: The operation completed successfully.',
            'SetProxySettings invalid URL or host for no_proxy: <local> host not supported, skipped',
            'Proxy environment variables:',
        ]
        assert sorted(block[3:6]) == ['http_proxy: ', 'https_proxy: http://u:p%!s(MISSING)s@proxy:3128', 'no_proxy: *.corp']
        assert block[6:] == ['[amazon-ssm-agent] amazon-ssm-agent - v3.3.987.0', '[amazon-ssm-agent] OS: windows, Arch: amd64',
                             '[amazon-ssm-agent] Starting Core Agent']


def test_agent_running_values_and_service_state(run: Run) -> None:
    state = run.states['services']
    # The last restart stopped the disabled service and failed to start it.
    assert state['services']['AmazonSSMAgent'] == {'state': 'stopped', 'start_mode': 'disabled'}
    assert state['agent']['running'] is None


def test_win_service_results(run: Run) -> None:
    results = run.results['services']
    assert results['restart_check']['changed'] is True
    assert results['restart']['changed'] is True and results['restart']['state'] == 'running'
    assert {key: results['restart'][key] for key in ('exists', 'name', 'display_name', 'start_mode', 'username', 'can_pause_and_continue',
                                                     'depended_by', 'dependencies')} == {
        'exists': True, 'name': 'AmazonSSMAgent', 'display_name': 'Amazon SSM Agent', 'start_mode': 'auto', 'username': 'LocalSystem',
        'can_pause_and_continue': False, 'depended_by': [], 'dependencies': []}
    assert results['start_running']['changed'] is False
    assert results['stop']['changed'] is True and results['stop']['state'] == 'stopped'
    assert results['start']['diff']['before']['state'] == 'stopped' and results['start']['diff']['after']['state'] == 'started'
    assert results['missing_service']['msg'] == "Service 'NoSuchService' is not installed, need to set 'path' to create a new service"
    assert results['missing_no_change'] == {'changed': False, 'exists': False, 'failed': False}
    assert results['disable']['changed'] is True
    assert results['restart_disabled']['msg'].endswith(
        "Service 'Amazon SSM Agent (AmazonSSMAgent)' cannot be started due to the following error: Cannot start service AmazonSSMAgent on "
        "computer '.'.")


def test_win_service_info_results(run: Run) -> None:
    results = run.results['services']
    assert results['info']['exists'] is True
    (service,) = results['info']['services']
    assert (service['name'], service['state'], service['start_mode'], service['username']) == (
        'AmazonSSMAgent', 'started', 'auto', 'NT AUTHORITY\\SYSTEM')
    assert (results['info_missing']['exists'], results['info_missing']['services']) == (False, [])


def test_password_is_redacted_in_calls(run: Run) -> None:
    (call,) = [call for call in _calls(run, 'services', 'win_service') if 'username' in call['args']]
    assert call['args'] == {'name': 'AmazonSSMAgent', 'username': '.\\svc', 'password': '********'}
    assert run.results['services']['not_simulated']['msg'] == 'win_service option password is not simulated by the sim host'
    assert _calls(run, 'services', 'win_service')[0] == {
        'module': 'ansible.windows.win_service', 'args': {'name': 'AmazonSSMAgent', 'state': 'restarted'}, 'check_mode': True}


def test_host_without_sim_state_fails_naming_the_variable(run: Run) -> None:
    result = run.results['stateless']['no_state']
    assert result['failed'] is True
    assert "this host has no 'sim_state' variable" in result['msg']
