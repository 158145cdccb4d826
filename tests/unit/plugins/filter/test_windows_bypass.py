# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Go no_proxy lists written as Windows bypass entries."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.ssm.proxy.plugins.filter.core import FilterModule, windows_bypass
from ansible_collections.ssm.proxy.plugins.plugin_utils._winproxy import windows_bypass_from_go


@pytest.mark.parametrize(
    ("go", "windows"),
    [
        (["corp.example.com"], ["corp.example.com", "*.corp.example.com"]),
        ([".corp.example.com", "*.corp.example.com"], ["*.corp.example.com"]),
        (["10.0.0.0/8", "192.168.0.0/16", "10.1.2.0/24"], ["10.*", "192.168.*", "10.1.2.*"]),
        (["172.16.0.0/12"], [f"172.{n}.*" for n in range(16, 32)]),
        (["10.1.2.3/32", "10.1.2.3"], ["10.1.2.3"]),
        (["169.254.169.254", "fd00:ec2::254", "[fd00:ec2::254]"], []),
        (["fd00::1"], ["[fd00::1]"]),
        (["*"], ["*"]),
        (["internal.example.com:8443"], ["internal.example.com:8443"]),
        ("a.example.com,B.example.com", ["a.example.com", "*.a.example.com", "b.example.com", "*.b.example.com"]),
    ],
)
def test_translation(go, windows) -> None:
    assert windows_bypass(go) == windows


def test_untranslatable_entries_warn() -> None:
    entries, warnings = windows_bypass_from_go(["fd00::/8", "nonsense/99", "a.example.com"])
    assert entries == ["a.example.com", "*.a.example.com"]
    assert len(warnings) == 2 and "fd00::/8" in warnings[0] and "nonsense/99" in warnings[1]


def test_every_ipv4_network_is_expressible() -> None:
    entries, warnings = windows_bypass_from_go(["128.0.0.0/1"])
    assert len(entries) == 128 and entries[0] == "128.*" and not warnings


def test_bad_input_and_registration() -> None:
    with pytest.raises(AnsibleFilterError, match="expects a list"):
        windows_bypass(42)
    assert FilterModule().filters()["windows_bypass"] is windows_bypass
