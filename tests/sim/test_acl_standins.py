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


def test_acl_standins(tmp_path: pathlib.Path) -> None:
    state = tmp_path / 'h.json'
    state.write_text(json.dumps({'registry': {KEY + '\\Copy': {}, KEY + '\\Own': {}}, 'calls': []}), encoding='utf-8')
    (tmp_path / 'inv.json').write_text(json.dumps({'all': {'hosts': {'h': {'sim_state': str(state)}}}}), encoding='utf-8')
    (tmp_path / 'play.json').write_text(json.dumps([{'hosts': 'all', 'gather_facts': False, 'tasks': TASKS}]), encoding='utf-8')
    result = subprocess.run([str(RUNNER), '-i', str(tmp_path / 'inv.json'), str(tmp_path / 'play.json')],
                            capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    acl = json.loads(state.read_text(encoding='utf-8'))['registry_acl']
    assert acl[KEY + '\\Copy'] == {'protected': True, 'readers': [
        'NT AUTHORITY\\SYSTEM', 'BUILTIN\\Administrators', 'BUILTIN\\Users', 'APPLICATION PACKAGE AUTHORITY\\ALL APPLICATION PACKAGES']}
    assert acl[KEY + '\\Own'] == {'protected': True, 'readers': ['NT AUTHORITY\\SYSTEM']}
