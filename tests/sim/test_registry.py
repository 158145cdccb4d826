# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The simulated registry's key semantics (what win_reg_stat / win_regedit see)."""

from __future__ import annotations

import pytest

IE = 'HKU:\\.DEFAULT\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections'


def test_listed_key_implies_its_parents_case_insensitively(sim_registry):
    registry = sim_registry.Registry({IE: {'DefaultConnectionSettings': {'type': 'REG_BINARY', 'value': '46'}}})
    assert registry.key_exists('hku:\\s-1-5-18\\software\\MICROSOFT')
    assert registry.sub_keys('HKU:\\S-1-5-18\\Software') == ['Microsoft']
    assert not registry.key_exists('HKU:\\S-1-5-18\\Software\\Other')
    assert registry.get_value(IE.replace('.DEFAULT', 'S-1-5-18') + '\\\\', 'defaultconnectionsettings')[0] == 'DefaultConnectionSettings'


def test_create_lists_missing_parents_in_their_existing_case(sim_registry):
    data = {'HKLM:\\SOFTWARE\\Vendor\\App': {}}
    registry = sim_registry.Registry(data)
    registry.set_value('hklm:\\software\\vendor\\NEW\\Leaf', 'V', 'REG_DWORD', 1)
    # Every level below the always-present HKLM:\\SOFTWARE is listed, implied ones included.
    assert list(data) == ['HKLM:\\SOFTWARE\\Vendor\\App', 'HKLM:\\SOFTWARE\\Vendor', 'HKLM:\\SOFTWARE\\Vendor\\NEW',
                          'HKLM:\\SOFTWARE\\Vendor\\NEW\\Leaf']
    registry.delete_key_tree('HKLM:\\SOFTWARE\\Vendor\\NEW\\Leaf')
    assert data['HKLM:\\SOFTWARE\\Vendor\\NEW'] == {}


def test_deleting_a_key_keeps_an_implied_parent(sim_registry):
    data = {'HKLM:\\SOFTWARE\\A\\B': {}}
    registry = sim_registry.Registry(data)
    registry.delete_key_tree('HKLM:\\SOFTWARE\\A\\B')
    assert registry.key_exists('HKLM:\\SOFTWARE\\A') and not registry.key_exists('HKLM:\\SOFTWARE\\A\\B')


@pytest.mark.parametrize('path', ['HKU:\\S-1-5-21-1\\Software', 'HKLM:\\NewRoot'])
def test_no_new_keys_directly_under_hklm_or_hku(sim_registry, path):
    with pytest.raises(sim_registry.RegistryError, match='is denied'):
        sim_registry.Registry({}).create_key(path)


def test_value_names_keep_their_stored_spelling(sim_registry):
    data = {'HKLM:\\SOFTWARE\\A': {'Environment': {'type': 'REG_MULTI_SZ', 'value': []}}}
    sim_registry.Registry(data).set_value('HKLM:\\SOFTWARE\\A', 'ENVIRONMENT', 'REG_MULTI_SZ', ['x=1'])
    assert data['HKLM:\\SOFTWARE\\A'] == {'Environment': {'type': 'REG_MULTI_SZ', 'value': ['x=1']}}


@pytest.mark.parametrize('entry, message', [
    ({'type': 'REG_BINARY', 'value': 'xyz'}, 'not a hex string'),
    ({'type': 'REG_DWORD', 'value': '1'}, 'must be an integer'),
    ({'type': 'REG_MULTI_SZ', 'value': 'a'}, 'must be a list'),
    ({'type': 'REG_FOO', 'value': 1}, 'unknown value type'),
])
def test_malformed_state_entries_are_named(sim_registry, entry, message):
    with pytest.raises(sim_registry.StateFormatError, match=message):
        sim_registry.native_value(entry, 'HKLM:\\X value V')
