# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The win_acl and win_acl_inheritance stand-ins through the runner, on the registry_acl model (issue 16)."""

from __future__ import annotations

import json
import pathlib
import subprocess

import pytest

RUNNER = pathlib.Path(__file__).resolve().parent / 'playbook'
KEY = 'HKLM:\\SOFTWARE\\Sim'

pytestmark = pytest.mark.integration

TASKS = [
    # reorganize=true copies the inherited rules: every local user keeps Read.
    {'name': 'copy', 'ansible.windows.win_acl_inheritance': {'path': KEY + '\\Copy', 'state': 'absent', 'reorganize': True}},
    # The documented order for a key only administrators read: explicit rules first, then inheritance off without copying.
    {'name': 'grant', 'ansible.windows.win_acl': {'path': KEY + '\\Own', 'user': 'S-1-5-18', 'rights': 'FullControl', 'type': 'allow',
                                                  'inherit': 'ContainerInherit, ObjectInherit'}},
    {'name': 'grant again', 'ansible.windows.win_acl': {'path': KEY + '\\Own', 'user': 'SYSTEM', 'rights': 'FullControl', 'type': 'allow'},
     'register': 'again'},
    {'name': 'cut', 'ansible.windows.win_acl_inheritance': {'path': KEY + '\\Own', 'reorganize': False}, 'register': 'cut'},
    {'name': 'check', 'ansible.builtin.assert': {'that': ['again is not changed', "again.msg == 'the specified rule already exists'", 'cut is changed']}},
    {'name': 'bad rights', 'ansible.windows.win_acl': {'path': KEY, 'user': 'Users', 'rights': 'ReadEverything', 'type': 'allow'},
     'register': 'bad', 'ignore_errors': True},
    {'name': 'missing', 'ansible.windows.win_acl_inheritance': {'path': KEY + '\\Nope'}, 'register': 'missing', 'ignore_errors': True},
    {'name': 'messages', 'ansible.builtin.assert': {'that': [
        "'Unable to match the identifier name ReadEverything' in bad.msg", "missing.msg == KEY_NOPE ~ ' does not exist'"]},
     'vars': {'KEY_NOPE': KEY + '\\Nope'}},
]


def run_tasks(tmp_path: pathlib.Path, document: dict, tasks: list) -> dict:
    """Run ``tasks`` on one simulated host holding ``document``; its registry_acl afterwards."""
    state = tmp_path / 'h.json'
    state.write_text(json.dumps({**document, 'calls': []}), encoding='utf-8')
    (tmp_path / 'inv.json').write_text(json.dumps({'all': {'hosts': {'h': {'sim_state': str(state)}}}}), encoding='utf-8')
    (tmp_path / 'play.json').write_text(json.dumps([{'hosts': 'all', 'gather_facts': False, 'tasks': tasks}]), encoding='utf-8')
    result = subprocess.run([str(RUNNER), '-i', str(tmp_path / 'inv.json'), str(tmp_path / 'play.json')],
                            capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(state.read_text(encoding='utf-8'))['registry_acl']


def test_acl_standins(tmp_path: pathlib.Path) -> None:
    acl = run_tasks(tmp_path, {'registry': {KEY + '\\Copy': {}, KEY + '\\Own': {}}}, TASKS)
    assert acl[KEY + '\\Copy'] == {'protected': True, 'readers': [
        'NT AUTHORITY\\SYSTEM', 'BUILTIN\\Administrators', 'BUILTIN\\Users', 'APPLICATION PACKAGE AUTHORITY\\ALL APPLICATION PACKAGES']}
    assert acl[KEY + '\\Own'] == {'protected': True, 'readers': ['NT AUTHORITY\\SYSTEM']}


DENIED_TASKS = [
    # Already there / already as asked: nothing to change, so nothing is refused (win_acl.ps1 and
    # win_acl_inheritance.ps1 call Set-Acl only for a change).
    {'name': 'present already', 'ansible.windows.win_acl': {'path': KEY + '\\Guarded', 'user': 'S-1-5-18', 'rights': 'FullControl', 'type': 'allow'},
     'register': 'present_already'},
    {'name': 'grant', 'ansible.windows.win_acl': {'path': KEY + '\\Guarded', 'user': 'S-1-5-32-544', 'rights': 'FullControl', 'type': 'allow'},
     'register': 'grant', 'ignore_errors': True},
    {'name': 'remove', 'ansible.windows.win_acl': {'path': KEY + '\\Guarded', 'user': 'S-1-5-18', 'rights': 'FullControl', 'type': 'allow',
                                                   'state': 'absent'}, 'register': 'remove', 'ignore_errors': True},
    {'name': 'cut in check mode', 'ansible.windows.win_acl_inheritance': {'path': KEY + '\\Guarded', 'reorganize': False},
     'check_mode': True, 'register': 'cut_check'},
    {'name': 'cut', 'ansible.windows.win_acl_inheritance': {'path': KEY + '\\Guarded', 'reorganize': False}, 'register': 'cut', 'ignore_errors': True},
    {'name': 'elsewhere', 'ansible.windows.win_acl_inheritance': {'path': KEY + '\\Open', 'reorganize': False}, 'register': 'elsewhere'},
    {'name': 'check', 'ansible.builtin.assert': {'that': [
        'present_already is not changed and present_already is not failed',
        "grant is failed and grant is not changed and grant.msg == 'an exception occurred when adding the specified rule - "
        "Cannot write to the registry key.'",
        "remove is failed and remove.msg == 'an exception occurred when removing the specified rule - "
        "Requested registry access is not allowed.'",
        'cut_check is changed and cut_check is not failed',
        "cut is failed and cut.msg == 'Unhandled exception while executing module: Requested registry access is not allowed.'",
        'elsewhere is changed']}},
]


def test_a_key_whose_acl_cannot_be_changed(tmp_path: pathlib.Path) -> None:
    """faults.acl_write_denied: the ACL can be read, every change of it is refused as win_acl(.ps1) words it, nothing changes."""
    guarded = {'protected': False, 'readers': ['NT AUTHORITY\\SYSTEM']}
    acl = run_tasks(tmp_path, {'registry': {KEY + '\\Guarded': {}, KEY + '\\Open': {}}, 'registry_acl': {KEY + '\\Guarded': guarded},
                               'faults': {'acl_write_denied': ['hklm:\\software\\sim\\GUARDED\\']}}, DENIED_TASKS)
    assert acl[KEY + '\\Guarded'] == guarded and acl[KEY + '\\Open']['protected'] is True
