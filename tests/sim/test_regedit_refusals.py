# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The win_regedit stand-in refusing registry writes as win_regedit.ps1 (ansible.windows 3.3.0) does on Windows.

One real ansible-playbook run (diff mode) meets each refusal the sim injects: a refused value
(``faults.registry_write_denied``), a key whose ACL refuses writing (``faults.registry_key_write_denied``)
and a key nobody may create (directly under HKU). Each test cites the line that decides the real outcome.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import typing as t

import pytest

pytestmark = pytest.mark.integration

RUNNER = pathlib.Path(__file__).resolve().parent / 'playbook'
KEY = 'HKLM:\\SOFTWARE\\Sim\\Values'
LOCKED = 'HKLM:\\SOFTWARE\\Sim\\Locked'
# PowerShell's MethodInvocationException around .NET's exception (ExtendedTypeSystem.resx "MethodInvocationException"),
# which is what win_regedit.ps1 quotes as $($_.Exception.Message).
SET_VALUE_DENIED = 'Exception calling "SetValue" with "3" argument(s): "Attempted to perform an unauthorized operation."'
OPEN_DENIED = ('Unhandled exception while executing module: Exception calling "OpenSubKey" with "2" argument(s): '
               '"Requested registry access is not allowed."')

STATE: dict[str, t.Any] = {
    'registry': {
        KEY: {'Sz': {'type': 'REG_SZ', 'value': 'old'}, 'Gone': {'type': 'REG_SZ', 'value': 'stays'}},
        LOCKED: {'Sz': {'type': 'REG_SZ', 'value': 'old'}},
    },
    'faults': {
        'registry_write_denied': [KEY + '\\SZ', KEY + '\\New', KEY + '\\Gone', 'HKLM:\\SOFTWARE\\Sim\\Fresh\\Value'],
        'registry_key_write_denied': [LOCKED],
    },
    'calls': [],
}

NAMES = ['change', 'retype', 'create', 'fresh_key', 'delete', 'change_check', 'locked_change', 'locked_same', 'locked_absent',
         'locked_check', 'locked_child', 'hku_root', 'dword_too_large']
TASKS: list[dict[str, t.Any]] = [
    {'name': 'change', 'ansible.windows.win_regedit': {'path': KEY, 'name': 'sz', 'data': 'new'}},
    {'name': 'retype', 'ansible.windows.win_regedit': {'path': KEY, 'name': 'Sz', 'data': 'old', 'type': 'expandstring'}},
    {'name': 'create', 'ansible.windows.win_regedit': {'path': KEY, 'name': 'New', 'data': 1, 'type': 'dword'}},
    {'name': 'fresh_key', 'ansible.windows.win_regedit': {'path': 'HKLM:\\SOFTWARE\\Sim\\Fresh', 'name': 'Value', 'data': 'x'}},
    {'name': 'delete', 'ansible.windows.win_regedit': {'path': KEY, 'name': 'Gone', 'state': 'absent'}},
    {'name': 'change_check', 'ansible.windows.win_regedit': {'path': KEY, 'name': 'Sz', 'data': 'new'}, 'check_mode': True},
    {'name': 'locked_change', 'ansible.windows.win_regedit': {'path': LOCKED, 'name': 'Sz', 'data': 'new'}},
    {'name': 'locked_same', 'ansible.windows.win_regedit': {'path': LOCKED, 'name': 'Sz', 'data': 'old'}},
    {'name': 'locked_absent', 'ansible.windows.win_regedit': {'path': LOCKED, 'name': 'Missing', 'state': 'absent'}},
    {'name': 'locked_check', 'ansible.windows.win_regedit': {'path': LOCKED, 'name': 'Sz', 'data': 'new'}, 'check_mode': True},
    {'name': 'locked_child', 'ansible.windows.win_regedit': {'path': LOCKED + '\\Child\\Deep', 'name': 'X', 'data': 'y'}},
    {'name': 'hku_root', 'ansible.windows.win_regedit': {'path': 'HKU:\\S-1-5-21-0\\Software', 'name': 'X', 'data': 'y'}},
    {'name': 'dword_too_large', 'ansible.windows.win_regedit': {'path': KEY, 'name': 'Big', 'data': 4294967296, 'type': 'dword'}},
]


@pytest.fixture(scope='module')
def outcome(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, t.Any]], dict[str, t.Any]]:
    """Run every task once (diff mode, errors ignored); the registered results and the state left behind."""
    work = tmp_path_factory.mktemp('regedit_refusals')
    state = work / 'h.json'
    state.write_text(json.dumps(STATE), encoding='utf-8')
    (work / 'inv.json').write_text(json.dumps({'all': {'hosts': {'h': {'sim_state': str(state)}}}}), encoding='utf-8')
    tasks = [dict(task, register=task['name'], ignore_errors=True) for task in TASKS] + [{
        'name': 'save', 'ansible.builtin.copy': {
            'content': "{{ dict(names | zip(query('ansible.builtin.vars', *names))) | to_nice_json }}",
            'dest': str(work / 'results.json'), 'mode': '0644'}}]
    (work / 'play.json').write_text(json.dumps([{'hosts': 'all', 'gather_facts': False, 'vars': {'names': NAMES}, 'tasks': tasks}]),
                                    encoding='utf-8')
    result = subprocess.run([str(RUNNER), '--diff', '-i', str(work / 'inv.json'), str(work / 'play.json')],
                            capture_output=True, text=True, check=False, timeout=300, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    return (json.loads((work / 'results.json').read_text(encoding='utf-8')),
            json.loads(state.read_text(encoding='utf-8')))


def _shape(result: dict[str, t.Any]) -> dict[str, t.Any]:
    return {key: result.get(key) for key in ('failed', 'changed', 'data_changed', 'data_type_changed', 'diff')}


def test_a_refused_value_change(outcome: tuple[dict[str, dict[str, t.Any]], dict[str, t.Any]]) -> None:
    results, state = outcome
    # win_regedit.ps1 L330-335: SetValue in a try block, FailJson("failed to change registry property '$Name' at
    # $($PrintPath): $($_.Exception.Message)"); .NET's SetValue: Win32Error(ret, null) (registrykey.cs L1601) ->
    # UnauthorizedAccessException() "Attempted to perform an unauthorized operation." (L1669, mscorlib.txt L277).
    # $Name and $PrintPath as the task gave them; data_changed (L324) and the key's diff (L296-297) were set before.
    assert results['change']['msg'] == f"failed to change registry property 'sz' at {KEY}: {SET_VALUE_DENIED}"
    assert _shape(results['change']) == {'failed': True, 'changed': False, 'data_changed': True, 'data_type_changed': False,
                                         'diff': {'before': {KEY: {}}, 'after': {KEY: {}}}}
    # A type change with equal text: data_type_changed (L314) is set, data_changed (L317) is not.
    assert results['retype']['msg'] == f"failed to change registry property 'Sz' at {KEY}: {SET_VALUE_DENIED}"
    assert _shape(results['retype'])['data_type_changed'] is True and _shape(results['retype'])['data_changed'] is False
    assert state['registry'][KEY]['Sz'] == {'type': 'REG_SZ', 'value': 'old'}
    # Check mode never calls SetValue (L329): the refusal cannot show.
    assert results['change_check']['changed'] is True and not results['change_check'].get('failed')


def test_a_refused_value_creation(outcome: tuple[dict[str, dict[str, t.Any]], dict[str, t.Any]]) -> None:
    results, state = outcome
    # L351-356: "failed to create registry property", before changed (L358) is set.
    assert results['create']['msg'] == f"failed to create registry property 'New' at {KEY}: {SET_VALUE_DENIED}"
    assert _shape(results['create']) == {'failed': True, 'changed': False, 'data_changed': False, 'data_type_changed': False,
                                         'diff': {'before': {KEY: {}}, 'after': {KEY: {}}}}
    assert 'New' not in state['registry'][KEY]
    # A new key: CreateSubKey (L283) succeeded and changed (L289) was set before the refused SetValue; the key stays.
    fresh = 'HKLM:\\SOFTWARE\\Sim\\Fresh'
    assert results['fresh_key']['msg'] == f"failed to create registry property 'Value' at {fresh}: {SET_VALUE_DENIED}"
    assert _shape(results['fresh_key']) == {'failed': True, 'changed': True, 'data_changed': False, 'data_type_changed': False,
                                            'diff': {'before': {}, 'after': {fresh: {}}}}
    assert state['registry'][fresh] == {}


def test_a_refused_delete_is_silent(outcome: tuple[dict[str, dict[str, t.Any]], dict[str, t.Any]]) -> None:
    results, state = outcome
    # L246 DeleteValue($Name): .NET ignores every RegDeleteValue error but "not found" (registrykey.cs L584-603, "We
    # really should throw an exception here if errorCode was bad, but we can't for compatibility reasons"), so the
    # module reports the value deleted (L253-256) and it is still there.
    assert _shape(results['delete']) == {'failed': False, 'changed': True, 'data_changed': False, 'data_type_changed': False,
                                         'diff': {'before': {KEY: {'Gone': {'type': 'String', 'value': 'stays'}}}, 'after': {KEY: {}}}}
    assert state['registry'][KEY]['Gone'] == {'type': 'REG_SZ', 'value': 'stays'}


def test_a_key_that_refuses_writing_fails_every_call(outcome: tuple[dict[str, dict[str, t.Any]], dict[str, t.Any]]) -> None:
    results, state = outcome
    # L211/L277: $Hive.OpenSubKey($Path, $true) outside any try; .NET throws SecurityException
    # Security_RegistryPermission (registrykey.cs L749-754, mscorlib.txt L1802); module_wrapper.ps1 reports it with
    # failed, msg and exception only: the module's changed/data_changed were never written.
    for name in ('locked_change', 'locked_same', 'locked_absent', 'locked_check'):
        assert results[name]['msg'] == OPEN_DENIED, name
        assert _shape(results[name]) == {'failed': True, 'changed': False, 'data_changed': None, 'data_type_changed': None,
                                         'diff': None}, name
        assert 'exception' in results[name], name
    assert state['registry'][LOCKED] == {'Sz': {'type': 'REG_SZ', 'value': 'old'}}


def test_a_key_nobody_may_create(outcome: tuple[dict[str, dict[str, t.Any]], dict[str, t.Any]]) -> None:
    results, state = outcome
    # L282-287: CreateSubKey caught; RegCreateKeyEx refused -> Win32Error(ret, keyName + "\\" + subkey) (registrykey.cs
    # L406): UnauthorizedAccessException naming the whole key asked for (mscorlib.txt L1789). The diff is still L42-43's
    # empty strings (the key's entries come at L291-292); FailJson returns it in diff mode (Ansible.Basic.cs
    # GetFormattedResults: `if (Diff.Count > 0 && DiffMode)`).
    assert results['hku_root']['msg'] == ('failed to create registry key at HKU:\\S-1-5-21-0\\Software: Exception calling "CreateSubKey" '
                                          'with "1" argument(s): "Access to the registry key \'HKEY_USERS\\S-1-5-21-0\\Software\' is denied."')
    assert _shape(results['hku_root']) == {'failed': True, 'changed': False, 'data_changed': False, 'data_type_changed': False,
                                           'diff': {'before': '', 'after': ''}}
    assert not any(key.upper().startswith('HKU:\\S-1-5-21-0') for key in state['registry'])
    # A missing key under one whose ACL refuses writing: OpenSubKey($Path, $true) gives $null (no such key, L277),
    # and RegCreateKeyEx needs KEY_CREATE_SUB_KEY on the refusing parent: the same CreateSubKey failure.
    deep = LOCKED + '\\Child\\Deep'
    assert results['locked_child']['msg'] == (f'failed to create registry key at {deep}: Exception calling "CreateSubKey" with "1" '
                                              'argument(s): "Access to the registry key '
                                              '\'HKEY_LOCAL_MACHINE\\SOFTWARE\\Sim\\Locked\\Child\\Deep\' is denied."')
    assert _shape(results['locked_child'])['changed'] is False and results['locked_child']['diff'] == {'before': '', 'after': ''}
    # Only Fresh (and its parent, listed as CreateSubKey makes it) was created by this run; nothing under Locked.
    assert set(state['registry']) == {KEY, LOCKED, 'HKLM:\\SOFTWARE\\Sim', 'HKLM:\\SOFTWARE\\Sim\\Fresh'}


def test_data_the_module_cannot_convert_fails_with_its_result_so_far(outcome: tuple[dict[str, dict[str, t.Any]], dict[str, t.Any]]) -> None:
    results, state = outcome
    # L422-424: FailJson before any registry call, after L39-43 set data_changed, data_type_changed and the empty diff.
    assert results['dword_too_large']['msg'] == 'data cannot be larger than 0xffffffff when type is dword'
    assert _shape(results['dword_too_large']) == {'failed': True, 'changed': False, 'data_changed': False, 'data_type_changed': False,
                                                  'diff': {'before': '', 'after': ''}}
    assert 'Big' not in state['registry'][KEY]
