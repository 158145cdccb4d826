# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The twin of write_values.ps1: the registry writes the role's Apply step and clean-up send in one execution.

The twin and the script share a contract with read_state.ps1: a value written is read back exactly as it was sent
(REG_DWORD/REG_QWORD signed, byte arrays as one hex string), and "unchanged since the read" is an exact comparison.
"""

from __future__ import annotations

import json
import pathlib
import re
import types
import typing as t

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / 'plugins' / 'plugin_utils' / 'powershell' / 'write_values.ps1'
KEY = 'HKLM:\\SOFTWARE\\Sim\\Values'
BACKUP_KEY = 'HKLM:\\SOFTWARE\\ssm.proxy\\Backup'
SERVICE_KEY = 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent'
STATE: dict[str, t.Any] = {
    'registry': {
        SERVICE_KEY: {'Environment': {'type': 'REG_MULTI_SZ', 'value': ['http_proxy=http://u:Secret@p:3128']}},
        BACKUP_KEY: {'ssm_agent_proxy@old': {'type': 'REG_SZ', 'value': '{}'}},
    },
    'calls': [],
}


def _state(sim_host: types.ModuleType, data: dict[str, t.Any], **changes: t.Any) -> t.Any:
    """A simulated host over a copy of ``data`` with top-level sections added or replaced."""
    data = json.loads(json.dumps(dict(data, **changes)))
    return sim_host.HostState('/nonexistent/state.json', data)


def write(sim_twins: types.ModuleType, state: t.Any, **parameters: t.Any) -> tuple[bool, t.Any]:
    return sim_twins.TWINS['write_values'](state, parameters, False)


def read(sim_twins: types.ModuleType, state: t.Any, path: str) -> dict[str, t.Any]:
    return sim_twins.TWINS['read_state'](state, {'RegistryKeys': [path]}, False)[1]['registry'][0]


def test_twin_declares_the_script_parameters(sim_twins: types.ModuleType) -> None:
    script = SCRIPT.read_text(encoding='utf-8')
    param_block = re.search(r'param \((.*?)\n\)', script, re.DOTALL).group(1)
    declared = {name: kind.lower() for kind, name in re.findall(r'\[(\w+(?:\[\])?)\]\$(\w+)', param_block)}
    twin = sim_twins.TWINS['write_values']
    assert declared == {name: kind for name, (kind, _default) in twin.parameters.items()}
    assert not twin.should_process and '[CmdletBinding()]' in script
    # The result keys and conflict reasons the twin returns are the script's.
    for word in ('conflicts', 'applied', 'language_mode', "reason = 'changed'", "reason = 'unreadable'", "reason = 'run'", 'index = $index'):
        assert word in script


@pytest.mark.parametrize('entry, stored', [
    ({'type': 'REG_SZ', 'value': 'Text'}, {'type': 'REG_SZ', 'value': 'Text'}),
    ({'type': 'REG_EXPAND_SZ', 'value': '%SystemRoot%'}, {'type': 'REG_EXPAND_SZ', 'value': '%SystemRoot%'}),
    ({'type': 'REG_MULTI_SZ', 'value': []}, {'type': 'REG_MULTI_SZ', 'value': []}),
    ({'type': 'REG_MULTI_SZ', 'value': ['a', 'B']}, {'type': 'REG_MULTI_SZ', 'value': ['a', 'B']}),
    ({'type': 'REG_DWORD', 'value': -1}, {'type': 'REG_DWORD', 'value': 4294967295}),
    ({'type': 'REG_QWORD', 'value': -2}, {'type': 'REG_QWORD', 'value': 18446744073709551614}),
    ({'type': 'REG_BINARY', 'value': '46000000'}, {'type': 'REG_BINARY', 'value': '46000000'}),
    ({'type': 'REG_BINARY', 'value': ''}, {'type': 'REG_BINARY', 'value': ''}),
])
def test_a_written_value_reads_back_as_sent(sim_twins: types.ModuleType, sim_host: types.ModuleType,
                                            entry: dict[str, t.Any], stored: dict[str, t.Any]) -> None:
    state = _state(sim_host, STATE)
    changed, result = write(sim_twins, state, Changes=[{'path': KEY, 'name': 'V', 'exists': True, **entry}])
    assert (changed, result) == (True, {'language_mode': 'FullLanguage', 'conflicts': [], 'applied': [True]})
    assert state.data['registry'][KEY]['V'] == stored
    assert read(sim_twins, state, KEY)['values']['V'] == entry


def test_a_change_only_in_letter_case_is_written(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    """win_regedit would skip it (Compare-Object ignores case); SetValue writes what it is given."""
    state = _state(sim_host, STATE)
    old = STATE['registry'][SERVICE_KEY]['Environment']
    new = {'path': SERVICE_KEY, 'name': 'environment', 'exists': True, 'type': 'REG_MULTI_SZ', 'value': ['http_proxy=http://u:secret@p:3128']}
    changed, _result = write(sim_twins, state, Changes=[new], Expect=[{'path': SERVICE_KEY, 'name': 'Environment', 'exists': True, **old}])
    assert changed
    # SetValue keeps the stored spelling of the value name.
    assert state.data['registry'][SERVICE_KEY]['Environment']['value'] == ['http_proxy=http://u:secret@p:3128']


@pytest.mark.parametrize('expected', [
    {'exists': True, 'type': 'REG_MULTI_SZ', 'value': ['http_proxy=http://u:secret@p:3128']},  # letter case differs
    {'exists': True, 'type': 'REG_SZ', 'value': 'http_proxy=http://u:Secret@p:3128'},  # type differs
    {'exists': False},
])
def test_nothing_is_written_when_an_expected_value_changed(sim_twins: types.ModuleType, sim_host: types.ModuleType,
                                                           expected: dict[str, t.Any]) -> None:
    state = _state(sim_host, STATE)
    before = repr(state.data['registry'])
    changed, result = write(sim_twins, state, Changes=[{'path': KEY, 'name': 'V', 'exists': True, 'type': 'REG_SZ', 'value': 'x'}],
                            Expect=[{'path': SERVICE_KEY, 'name': 'Environment', **expected}])
    assert changed is False and result['applied'] == []
    assert result['conflicts'] == [{'path': SERVICE_KEY, 'name': 'Environment', 'reason': 'changed', 'message': ''}]
    assert repr(state.data['registry']) == before


def test_a_run_that_started_since_the_read_stops_the_write(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    state = _state(sim_host, STATE)
    backup = {'path': BACKUP_KEY, 'name': 'ssm_agent_proxy@mine', 'exists': True, 'type': 'REG_SZ', 'value': '{}'}
    # Known (seen by the read, any letter case) and this call's own: no conflict.
    assert write(sim_twins, _state(sim_host, STATE), Changes=[backup], RunsKey=BACKUP_KEY, KnownRuns=['SSM_AGENT_PROXY@OLD'])[0]
    changed, result = write(sim_twins, state, Changes=[backup], RunsKey=BACKUP_KEY, KnownRuns=[])
    assert not changed
    assert result['conflicts'] == [{'path': BACKUP_KEY, 'name': 'ssm_agent_proxy@old', 'reason': 'run', 'message': ''}]
    assert 'ssm_agent_proxy@mine' not in state.data['registry'][BACKUP_KEY]


def test_an_unreadable_expected_key_is_a_conflict(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    state = _state(sim_host, STATE, faults={'registry_read_denied': [SERVICE_KEY]})
    _changed, result = write(sim_twins, state, Expect=[{'path': SERVICE_KEY, 'name': 'Environment', 'exists': False}])
    assert result['conflicts'] == [{'path': SERVICE_KEY, 'name': 'Environment', 'reason': 'unreadable',
                                    'message': 'Requested registry access is not allowed.'}]


def test_a_refused_write_stops_the_rest_and_says_which(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    state = _state(sim_host, STATE, faults={'registry_write_denied': [SERVICE_KEY + '\\Environment']})
    changes = [
        {'path': BACKUP_KEY, 'name': 'ssm_agent_proxy@r', 'exists': True, 'type': 'REG_SZ', 'value': '{}'},
        {'path': SERVICE_KEY, 'name': 'Environment', 'exists': True, 'type': 'REG_MULTI_SZ', 'value': []},
        {'path': KEY, 'name': 'Never', 'exists': True, 'type': 'REG_SZ', 'value': 'x'},
    ]
    with pytest.raises(sim_twins.ScriptFailed) as failure:
        write(sim_twins, state, Changes=changes)
    assert failure.value.changed is True
    assert failure.value.result['applied'] == [True]
    assert failure.value.result['error'] == {
        'index': 1, 'path': SERVICE_KEY, 'name': 'Environment',
        'message': 'Attempted to perform an unauthorized operation.'}
    assert 'ssm_agent_proxy@r' in state.data['registry'][BACKUP_KEY]
    assert state.data['registry'][SERVICE_KEY]['Environment'] == STATE['registry'][SERVICE_KEY]['Environment']
    assert KEY not in state.data['registry']


def test_a_key_that_refuses_writing_fails_the_first_change(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    state = _state(sim_host, STATE, faults={'registry_key_write_denied': [SERVICE_KEY]})
    with pytest.raises(sim_twins.ScriptFailed) as failure:
        write(sim_twins, state, Changes=[{'path': SERVICE_KEY, 'name': 'Environment', 'exists': False}])
    assert failure.value.changed is False
    assert failure.value.result['error']['message'] == 'Requested registry access is not allowed.'  # OpenSubKey(name, $true)
    with pytest.raises(sim_twins.ScriptFailed) as failure:
        write(sim_twins, state, Changes=[{'path': SERVICE_KEY, 'name': 'Environment', 'exists': True, 'type': 'REG_MULTI_SZ', 'value': []}])
    assert failure.value.result['error']['message'] == (  # CreateSubKey: RegCreateKeyEx refused
        "Access to the registry key 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent' is denied.")
    # A missing subkey: creating it needs KEY_CREATE_SUB_KEY on the refusing parent; Win32Error names the whole key (registrykey.cs L406).
    with pytest.raises(sim_twins.ScriptFailed) as failure:
        write(sim_twins, state, Changes=[{'path': SERVICE_KEY + '\\Sub\\Deep', 'name': 'X', 'exists': True, 'type': 'REG_SZ', 'value': 'y'}])
    assert failure.value.result['error']['message'] == (
        "Access to the registry key 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent\\Sub\\Deep' is denied.")
    assert not state.registry.key_exists(SERVICE_KEY + '\\Sub')


def test_a_refused_removal_is_not_reported_as_done(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    """DeleteValue(name, false) ignores RegDeleteValue's errors: the script looks again and fails."""
    state = _state(sim_host, STATE, faults={'registry_write_denied': [SERVICE_KEY + '\\Environment']})
    with pytest.raises(sim_twins.ScriptFailed) as failure:
        write(sim_twins, state, Changes=[{'path': SERVICE_KEY, 'name': 'Environment', 'exists': False}])
    assert failure.value.result['error']['message'] == 'Windows did not remove the value (RegDeleteValue was refused).'
    assert 'Environment' in state.data['registry'][SERVICE_KEY]


def test_a_bad_path_in_a_change_is_a_reported_failure(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    with pytest.raises(sim_twins.ScriptFailed) as failure:
        write(sim_twins, _state(sim_host, STATE), Changes=[{'path': 'SOFTWARE\\Sim', 'name': 'V', 'exists': False}])
    assert failure.value.result['error']['message'] == "'SOFTWARE\\Sim' is not a registry key path such as HKLM:\\SOFTWARE\\ssm.proxy."


def test_removals_and_an_emptied_key(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    state = _state(sim_host, STATE)
    changes = [{'path': BACKUP_KEY, 'name': name, 'exists': False} for name in ('ssm_agent_proxy@old', 'wininet_proxy@old')]
    changed, result = write(sim_twins, state, Changes=changes, RemoveIfEmpty=[BACKUP_KEY])
    assert changed and result['applied'] == [True, False]
    assert BACKUP_KEY not in state.data['registry']
    # A key that still holds a value stays; removing what is not there changes nothing.
    state = _state(sim_host, STATE)
    assert write(sim_twins, state, Changes=changes[1:], RemoveIfEmpty=[BACKUP_KEY]) == (
        False, {'language_mode': 'FullLanguage', 'conflicts': [], 'applied': [False]})
    assert BACKUP_KEY in state.data['registry']


def test_constrained_language_writes_nothing(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    state = _state(sim_host, STATE, powershell={'language_mode': 'ConstrainedLanguage'})
    assert write(sim_twins, state, Changes=[{'path': KEY, 'name': 'V', 'exists': True, 'type': 'REG_SZ', 'value': 'x'}]) == (
        False, {'language_mode': 'ConstrainedLanguage', 'conflicts': [], 'applied': []})
    assert KEY not in state.data['registry']
