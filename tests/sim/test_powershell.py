# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The win_powershell stand-in and the twins of the collection's PowerShell scripts.

Unit tests call the twins and the PowerShell emulation in ``_sim_twins`` directly; the integration
tests run scenarios/powershell.yml once through tests/sim/playbook, with the collection's real
read_state.ps1 as the script.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pathlib
import subprocess
import types
import typing as t

import pytest

SIM_DIR = pathlib.Path(__file__).resolve().parent
ROOT = SIM_DIR.parent.parent
RUNNER = SIM_DIR / 'playbook'
READ_STATE = ROOT / 'plugins' / 'plugin_utils' / 'powershell' / 'read_state.ps1'
VALUES_KEY = 'HKLM:\\SOFTWARE\\Sim\\Values'
LOG = 'C:\\ProgramData\\Amazon\\SSM\\Logs\\amazon-ssm-agent.log'
LOG_TEXT = 'line one\nline two – ünïcode\n'  # 28 characters, 32 bytes in UTF-8

STATE: dict[str, t.Any] = {
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
        'HKU:\\.DEFAULT\\Software\\Sim': {'Alias': {'type': 'REG_SZ', 'value': 'localsystem'}},
    },
    'files': {LOG: LOG_TEXT, 'C:\\Short.txt': 'short', 'C:\\Lines.txt': 'a\nb\nc\n'},
    'calls': [],
}

# read_state.ps1's $Ansible.Result for every value type (REG_DWORD signed, as .NET's GetValue returns it;
# byte arrays as one hex string, as the script's BitConverter conversion gives them).
VALUES_RESULT = {
    '': {'type': 'REG_SZ', 'value': 'default'},
    'Sz': {'type': 'REG_SZ', 'value': 'text'},
    'Expand': {'type': 'REG_EXPAND_SZ', 'value': '%SystemRoot%\\Temp'},
    'Bin': {'type': 'REG_BINARY', 'value': 'be01'},
    'Dword': {'type': 'REG_DWORD', 'value': -1},
    'Qword': {'type': 'REG_QWORD', 'value': 1},
    'Multi': {'type': 'REG_MULTI_SZ', 'value': ['a', 'b']},
    'Nothing': {'type': 'REG_NONE', 'value': ''},
}


def _state(sim_registry: types.ModuleType, data: dict[str, t.Any]) -> types.SimpleNamespace:
    """What a twin receives: the registry over the state's section and the whole document."""
    data = json.loads(json.dumps(data))
    return types.SimpleNamespace(registry=sim_registry.Registry(data.setdefault('registry', {})), data=data)


# --- The read_state twin ------------------------------------------------------------------------------------

def test_read_state_registry(sim_twins: types.ModuleType, sim_registry: types.ModuleType) -> None:
    keys = ['hklm:\\software\\sim\\values\\', 'HKU:\\S-1-5-18\\Software\\Sim', 'HKLM:\\SOFTWARE\\Nope',
            'HKLM:\\SOFTWARE\\Sim', 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Sim']
    changed, result = sim_twins.TWINS['read_state'](_state(sim_registry, STATE), {'RegistryKeys': keys}, False)
    assert changed is False
    assert result == {
        'language_mode': 'FullLanguage',
        'registry': [
            {'path': keys[0], 'exists': True, 'values': VALUES_RESULT, 'error': None},
            {'path': keys[1], 'exists': True, 'values': {'Alias': {'type': 'REG_SZ', 'value': 'localsystem'}}, 'error': None},
            {'path': keys[2], 'exists': False, 'values': {}, 'error': None},
            {'path': keys[3], 'exists': True, 'values': {}, 'error': None},  # implied by its child
            {'path': keys[4], 'exists': False, 'values': {}, 'error': None},  # not HIVE:\ - no hive to open
        ],
        'files': [],
        'acl': [],
    }


def test_read_state_value_filter_denied_keys_and_other_kinds(sim_twins: types.ModuleType, sim_registry: types.ModuleType) -> None:
    data = json.loads(json.dumps(STATE))
    data['registry'][VALUES_KEY]['Link'] = {'type': 'REG_LINK', 'value': '5c00'}
    data['faults'] = {'registry_read_denied': ['HKU:\\.DEFAULT\\Software\\Sim']}
    run = sim_twins.TWINS['read_state']
    # The filter's key matches case-insensitively, its names too (-eq, -contains).
    parameters = {'RegistryKeys': [VALUES_KEY, 'HKU:\\S-1-5-18\\Software\\Sim'], 'ValueFilter': {VALUES_KEY.upper(): ['sz', 'LINK', 'Absent']}}
    _changed, result = run(_state(sim_registry, data), parameters, False)
    assert result['registry'][0]['values'] == {'Sz': {'type': 'REG_SZ', 'value': 'text'}, 'Link': {'type': 'REG_LINK', 'value': '5c00'}}
    # A key the account may not read exists, with the .NET error and no values; never "absent".
    assert result['registry'][1] == {'path': 'HKU:\\S-1-5-18\\Software\\Sim', 'exists': True, 'values': {},
                                     'error': 'Requested registry access is not allowed.'}
    with pytest.raises(sim_twins.ScriptError, match='Hashtable'):
        run(_state(sim_registry, STATE), {'ValueFilter': 'Sz'}, False)


def test_read_state_in_constrained_language_reads_nothing(sim_twins: types.ModuleType, sim_registry: types.ModuleType) -> None:
    data = json.loads(json.dumps(STATE))
    data['powershell'] = {'language_mode': 'ConstrainedLanguage'}
    assert sim_twins.TWINS['read_state'](_state(sim_registry, data), {'RegistryKeys': [VALUES_KEY], 'Files': [LOG]}, False) == (
        False, {'language_mode': 'ConstrainedLanguage', 'registry': [], 'files': [], 'acl': []})


@pytest.mark.parametrize('tail_bytes, size, truncated, start, content', [
    (65536, 32, False, 0, LOG_TEXT),
    # A cut tail holds only the lines that start within it: never half a line or half a character.
    (4, 32, True, 32, ''),
    (9, 32, True, 32, ''),
    (23, 32, True, 9, 'line two – ünïcode\n'),  # the cut falls on a line start
    (24, 32, True, 9, 'line two – ünïcode\n'),
    (0, 32, True, 32, ''),
])
def test_read_state_file_tail(sim_twins: types.ModuleType, sim_registry: types.ModuleType, tail_bytes: int, size: int,
                              truncated: bool, start: int, content: str) -> None:
    assert len(LOG_TEXT.encode('utf-8')) == 32
    _changed, result = sim_twins.TWINS['read_state'](
        _state(sim_registry, STATE), {'Files': [LOG.upper().replace('\\', '/'), 'C:\\Missing.txt'], 'TailBytes': tail_bytes}, True)
    assert result['registry'] == []
    assert result['files'] == [
        {'path': LOG.upper().replace('\\', '/'), 'exists': True, 'size': size, 'truncated': truncated, 'start': start,
         'content': content, 'error': None},
        {'path': 'C:\\Missing.txt', 'exists': False, 'size': 0, 'truncated': False, 'start': 0, 'content': '', 'error': None},
    ]


def test_read_state_negative_tail_is_a_caught_error(sim_twins: types.ModuleType, sim_registry: types.ModuleType) -> None:
    _changed, result = sim_twins.TWINS['read_state'](_state(sim_registry, STATE), {'Files': ['C:\\Short.txt'], 'TailBytes': -1}, False)
    assert result['files'][0]['error'].startswith('Exception calling ".ctor"')
    assert result['files'][0]['truncated'] is True and result['files'][0]['content'] == ''


def test_read_state_binds_parameters_as_powershell(sim_twins: types.ModuleType, sim_registry: types.ModuleType) -> None:
    state = _state(sim_registry, STATE)
    run = sim_twins.TWINS['read_state']
    # Case-insensitive names, unambiguous prefixes, [string[]] from one string, [int] from a string.
    _changed, result = run(state, {'registrykeys': VALUES_KEY, 'Fil': 'C:\\Lines.txt', 'tailbytes': ' 4 '}, False)
    assert result['registry'][0]['path'] == VALUES_KEY
    assert result['files'][0]['content'] == 'b\nc\n'
    _changed, result = run(state, {'TailBytes': 3.5, 'Files': ['C:\\Lines.txt'], 'WhatIf': True, 'Verbose': True}, False)
    assert result['files'][0]['content'] == 'b\nc\n'  # 3.5 rounds to even: 4 (3 would give 'c\n')
    for given, message in [
        ({'Bogus': 1}, "A parameter cannot be found that matches parameter name 'Bogus'."),
        ({'TailBytes': 'lots'}, 'Cannot process argument transformation on parameter \'TailBytes\'. Cannot convert value "lots" '
                                'to type "System.Int32". Error: "Input string was not in a correct format."'),
        ({'TailBytes': 2 ** 31}, 'Error: "Value was either too large or too small for an Int32."'),
    ]:
        with pytest.raises(sim_twins.ScriptError) as caught:
            run(state, given, False)
        assert message in caught.value.message
        assert caught.value.changed is True  # the script never ran: $Ansible.Changed keeps its default


def test_read_state_fault(sim_twins: types.ModuleType, sim_registry: types.ModuleType) -> None:
    state = _state(sim_registry, dict(STATE, faults={'read_state': 'Access is denied.'}))
    with pytest.raises(sim_twins.ScriptError) as caught:
        sim_twins.TWINS['read_state'](state, {'RegistryKeys': [VALUES_KEY]}, False)
    assert caught.value.changed is False and caught.value.result == {}
    record = caught.value.record(2)
    assert record['exception'] == {'message': 'Access is denied.', 'type': 'System.Management.Automation.RuntimeException',
                                   'help_link': None, 'source': None, 'hresult': -2146233087, 'inner_exception': None}
    assert record['output'].startswith('Access is denied.\n')
    assert record['category_info']['category'] == 'OperationStopped'


def test_read_state_malformed_state(sim_twins: types.ModuleType, sim_registry: types.ModuleType) -> None:
    state = _state(sim_registry, {'registry': {VALUES_KEY: {'X': {'type': 'REG_BINARY', 'value': 'xyz'}}}})
    with pytest.raises(sim_twins.MalformedState, match='not a hex string'):
        sim_twins.TWINS['read_state'](state, {'RegistryKeys': [VALUES_KEY]}, False)


# --- The PowerShell emulation ------------------------------------------------------------------------------

def test_marker_and_label(sim_twins: types.ModuleType) -> None:
    script = READ_STATE.read_text(encoding='utf-8')
    assert sim_twins.script_name(script) == 'read_state'
    assert sim_twins.script_label(script) == f'<script: read_state sha256:{hashlib.sha256(script.encode()).hexdigest()[:8]}>'
    assert sim_twins.script_name('Write-Output 1') is None
    assert sim_twins.script_label('x').startswith('<script: (no marker) sha256:')


@pytest.mark.parametrize('script, expected', [
    (READ_STATE.read_text(encoding='utf-8'), True),
    ('[CmdletBinding(SupportsShouldProcess)]\nparam ()', True),
    ('<# help #>\nusing namespace System.IO\n[cmdletbinding(ConfirmImpact = "High", supportsshouldprocess = $TRUE)]\n'
     '[OutputType([string])]\nPARAM ()', True),
    ('[CmdletBinding(SupportsShouldProcess = $false)]\nparam ()', False),
    ('[CmdletBinding(SupportsShouldProcess = 1)]\nparam ()', False),  # the real AST test wants $true
    ('[CmdletBinding()]\nparam ()', False),
    ('# [CmdletBinding(SupportsShouldProcess)]\nparam ()', False),
    ('$x = 1\n[CmdletBinding(SupportsShouldProcess)]\nparam ()', False),  # not the script's param block
    ('Write-Output 1', False),
])
def test_supports_should_process(sim_twins: types.ModuleType, script: str, expected: bool) -> None:
    assert sim_twins.supports_should_process(script) is expected


def test_twin_declarations_match_the_scripts(sim_twins: types.ModuleType) -> None:
    """Every script of the collection has a twin, and the twin declares its param block and check mode."""
    scripts = {path.stem: path.read_text(encoding='utf-8') for path in (ROOT / 'plugins' / 'plugin_utils' / 'powershell').glob('*.ps1')}
    assert set(scripts) <= set(sim_twins.TWINS), 'a collection script has no twin in _sim_twins.py'
    for name, script in scripts.items():
        assert sim_twins.script_name(script) == name
        twin = sim_twins.TWINS[name]
        assert twin.should_process is sim_twins.supports_should_process(script)
        for parameter in twin.parameters:
            assert f'${parameter}' in script


def test_convert_output_depth(sim_twins: types.ModuleType) -> None:
    nested = {'a': [{'b': {'c': ['x', 'y']}}], 'n': 1, 's': 's', 'none': None, 'flag': True}
    assert sim_twins.convert_output(nested, 5) == nested
    assert sim_twins.convert_output(nested, 3) == {'a': [{'b': {'c': 'x y'}}], 'n': 1, 's': 's', 'none': None, 'flag': True}
    assert sim_twins.convert_output(nested, 1) == {'a': ['System.Collections.Hashtable'], 'n': 1, 's': 's', 'none': None, 'flag': True}
    assert sim_twins.convert_output(nested, -1) == 'System.Collections.Hashtable'
    assert sim_twins.convert_output([1, [2, 3], None, False], -1) == '1 System.Object[]  False'
    assert sim_twins.convert_output([], -1) == ''


# --- Through the runner ------------------------------------------------------------------------------------

@dataclasses.dataclass
class Run:
    results: dict[str, dict[str, t.Any]]
    states: dict[str, dict[str, t.Any]]


@pytest.fixture(scope='module')
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Run scenarios/powershell.yml once against a host and a host with an injected fault."""
    work = tmp_path_factory.mktemp('powershell')
    states = {'powershell': STATE, 'faulty': dict(STATE, faults={'read_state': 'Access is denied.'})}
    inventory: dict[str, t.Any] = {'all': {'children': {}}}
    for host, state in states.items():
        (work / f'{host}.json').write_text(json.dumps(state, indent=1), encoding='utf-8')
        inventory['all']['children'][host] = {'hosts': {f'{host}-host': {'sim_state': str(work / f'{host}.json')}}}
    (work / 'inventory.json').write_text(json.dumps(inventory), encoding='utf-8')
    (work / 'results').mkdir()
    env = dict(os.environ, ANSIBLE_NOCOLOR='1')
    process = subprocess.run(
        [str(RUNNER), '-i', str(work / 'inventory.json'), str(SIM_DIR / 'scenarios' / 'powershell.yml'),
         '-e', json.dumps({'results_dir': str(work / 'results'), 'collection_root': str(ROOT)})],
        cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert process.returncode == 0, process.stdout + process.stderr
    return Run(
        results={host: json.loads((work / 'results' / f'{host}-host.json').read_text(encoding='utf-8')) for host in states},
        states={host: json.loads((work / f'{host}.json').read_text(encoding='utf-8')) for host in states},
    )


def _calls(run: Run, host: str = 'powershell') -> list[dict[str, t.Any]]:
    return run.states[host]['calls']


EXPECTED_READ = {
    'language_mode': 'FullLanguage',
    'registry': [
        {'path': 'hklm:\\software\\sim\\values', 'exists': True, 'values': VALUES_RESULT, 'error': None},
        {'path': 'HKU:\\S-1-5-18\\Software\\Sim', 'exists': True, 'values': {'Alias': {'type': 'REG_SZ', 'value': 'localsystem'}},
         'error': None},
        {'path': 'HKLM:\\SOFTWARE\\Nope', 'exists': False, 'values': {}, 'error': None},
        {'path': 'HKLM:\\SOFTWARE\\Sim', 'exists': True, 'values': {}, 'error': None},
        {'path': 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Sim', 'exists': False, 'values': {}, 'error': None},
    ],
    'files': [
        # TailBytes 13 cuts into the last line: only lines that start within the tail are returned.
        {'path': 'c:/programdata/amazon/ssm/logs/AMAZON-SSM-AGENT.LOG', 'exists': True, 'size': 32, 'truncated': True,
         'start': 32, 'content': '', 'error': None},
        {'path': 'C:\\Short.txt', 'exists': True, 'size': 5, 'truncated': False, 'start': 0, 'content': 'short', 'error': None},
        {'path': 'C:\\Missing.txt', 'exists': False, 'size': 0, 'truncated': False, 'start': 0, 'content': '', 'error': None},
    ],
    'acl': [],
}
EMPTY_STREAMS = {'output': [], 'error': [], 'host_out': '', 'host_err': '', 'warning': [], 'verbose': [], 'debug': [], 'information': []}


@pytest.mark.integration
def test_read_state_through_the_runner(run: Run) -> None:
    result = run.results['powershell']['read']
    assert result['changed'] is False and not result.get('failed')
    assert result['result'] == EXPECTED_READ
    assert {key: result[key] for key in EMPTY_STREAMS} == EMPTY_STREAMS


@pytest.mark.integration
def test_read_state_runs_in_check_mode(run: Run) -> None:
    result = run.results['powershell']['read_check']
    assert result['changed'] is False and 'msg' not in result
    assert result['result'] == EXPECTED_READ
    assert _calls(run)[1]['check_mode'] is True


@pytest.mark.integration
def test_too_small_depth_breaks_the_nested_result(run: Run) -> None:
    key = run.results['powershell']['read_default_depth']['result']['registry'][0]
    assert key['exists'] is True and key['values'] == 'System.Collections.Hashtable'
    values = run.results['powershell']['read_depth_4']['result']['registry'][0]['values']
    assert values['Multi'] == {'type': 'REG_MULTI_SZ', 'value': 'a b'}
    assert values['Bin'] == {'type': 'REG_BINARY', 'value': 'be01'}
    assert values['Sz'] == {'type': 'REG_SZ', 'value': 'text'}


@pytest.mark.integration
def test_unknown_scripts_fail(run: Run) -> None:
    results = run.results['powershell']
    assert results['no_marker']['failed'] is True
    assert "the simulated host runs only the collection's own scripts; no twin for a script without" in results['no_marker']['msg']
    assert "no twin for script 'no_such_script'" in results['unknown_name']['msg']
    skipped = results['skipped_in_check']
    assert skipped['changed'] is True and skipped['msg'] == 'skipped, running in check mode' and not skipped.get('failed')


@pytest.mark.integration
def test_parameter_binding_failures(run: Run) -> None:
    for name, message in [('bad_parameter', "A parameter cannot be found that matches parameter name 'Bogus'."),
                          ('bad_int', 'Cannot convert value "lots" to type "System.Int32"')]:
        result = run.results['powershell'][name]
        assert result['failed'] is True and result['changed'] is True and result['result'] == {}
        assert message in result['error'][0]['exception']['message']
    assert "parameter name 'Secret'" in run.results['powershell']['sensitive']['error'][0]['exception']['message']


@pytest.mark.integration
def test_calls_record_the_script_name(run: Run) -> None:
    calls = _calls(run)
    assert all(call['module'] == 'ansible.windows.win_powershell' for call in calls)
    script = READ_STATE.read_text(encoding='utf-8').rstrip('\n')  # the file lookup strips the last newline
    label = f'<script: read_state sha256:{hashlib.sha256(script.encode()).hexdigest()[:8]}>'
    assert calls[0]['args'] == {'script': label, 'depth': 8, 'parameters': {
        'RegistryKeys': [entry['path'] for entry in EXPECTED_READ['registry']],
        'files': [entry['path'] for entry in EXPECTED_READ['files']], 'TailBytes': 13}}
    assert calls[4]['args']['script'].startswith('<script: (no marker) sha256:')
    assert calls[5]['args']['script'].startswith('<script: no_such_script sha256:')
    sensitive = next(call for call in calls if 'sensitive_parameters' in call['args'])
    assert sensitive['args']['sensitive_parameters'] == [
        {'name': 'Secret', 'value': '********'}, {'name': 'Cred', 'username': 'admin', 'password': '********'}]
    assert 'hunter2' not in json.dumps(run.states['powershell']) and 'S3cret!' not in json.dumps(run.states['powershell'])


@pytest.mark.integration
def test_paths_creates_and_executable(run: Run) -> None:
    results = run.results['powershell']
    from_path = results['from_path']
    assert from_path['result']['files'][0]['content'] == 'short'
    from_path_call = next(call for call in _calls(run) if call['args'].get('parameters') == {'Files': ['C:\\Short.txt']})
    # The stand-in's action plugin read the controller file and sent it as `script`.
    assert from_path_call['args']['script'].startswith('<script: read_state sha256:') and 'path' not in from_path_call['args']
    assert results['remote_path_missing']['msg'] == "Could not find or access 'C:\\Scripts\\x.ps1' on Windows host"
    assert results['creates'] == dict(results['creates'], changed=False, msg='skipped, since C:\\ProgramData\\Amazon exists')
    assert results['executable']['msg'] == 'win_powershell option executable is not simulated by the sim host'


@pytest.mark.integration
def test_fault_fails_like_powershell(run: Run) -> None:
    fault = run.results['faulty']['fault']
    assert fault['failed'] is True and fault['changed'] is False and fault['result'] == {}
    assert fault['error'][0]['exception']['message'] == 'Access is denied.'
    assert fault['error'][0]['output'].startswith('Access is denied.')


# --- read_state's AclPaths: the registry_acl / file_acl model ---------------------------------------------------

ACL_STATE = {
    'registry': {'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent': {}, 'HKLM:\\SOFTWARE\\ssm.proxy\\Backup': {}},
    'registry_acl': {'HKLM:\\SOFTWARE\\ssm.proxy': {'protected': True, 'readers': ['NT AUTHORITY\\SYSTEM', 'BUILTIN\\Administrators']},
                     'hklm:\\system\\currentcontrolset\\services\\amazonssmagent': {'protected': False, 'readers': ['S-1-5-21-1-2-3-1001']}},
    'files': {'C:\\ProgramData\\Amazon\\SSM\\Logs\\amazon-ssm-agent.log': ''},
}


def test_read_state_acl_inherits_windows_defaults_until_a_protected_key(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    paths = ['HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent', 'HKLM:\\SOFTWARE\\ssm.proxy\\Backup', 'HKLM:\\SOFTWARE\\Nope',
             'C:\\ProgramData\\Amazon\\SSM', 'C:\\Nowhere']
    state = sim_host.HostState('/nonexistent/state.json', json.loads(json.dumps(ACL_STATE)))
    _changed, result = sim_twins.TWINS['read_state'](state, {'AclPaths': paths}, False)
    service, backup, missing, folder, no_folder = result['acl']
    # The key's own (untranslatable) SID first, then what HKLM\SYSTEM passes on: Users and ALL APPLICATION PACKAGES too.
    assert service['protected'] is False and [reader['sid'] for reader in service['readers']] == [
        'S-1-5-21-1-2-3-1001', 'S-1-5-18', 'S-1-5-32-544', 'S-1-5-32-545', 'S-1-15-2-1']
    assert service['readers'][0]['name'] is None and service['readers'][3]['name'] == 'BUILTIN\\Users'
    # Backup is not protected itself but inherits only from its protected parent.
    assert backup['protected'] is False and [reader['sid'] for reader in backup['readers']] == ['S-1-5-18', 'S-1-5-32-544']
    assert missing == {'path': paths[2], 'exists': False, 'protected': False, 'readers': [], 'error': None}
    # The agent's data folder as HardenDataFolder leaves it.
    assert folder['exists'] and folder['protected'] and {reader['sid'] for reader in folder['readers']} == {'S-1-5-18', 'S-1-5-32-544'}
    assert no_folder['exists'] is False
