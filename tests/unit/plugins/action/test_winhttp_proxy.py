# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winhttp_proxy's read -> decide -> write against a fake host."""

from __future__ import annotations

import json

import pytest

from ansible_collections.ssm.proxy.plugins.action.winhttp_proxy import VALUE_NAME, VIEW_KEYS, ActionModule
from ansible_collections.ssm.proxy.plugins.plugin_utils._blobs import decode_winhttp_settings, encode_winhttp_settings, WinHttpProxySettings

from .conftest import FakeRegistry, failure

NATIVE, WOW64 = VIEW_KEYS["native"], VIEW_KEYS["wow64"]
PER_SCHEME = "http=proxy.example.com:3128;https=proxy.example.com:3128"
IMDS = "169.254.169.254;fd00:ec2::254;[fd00:ec2::254]"
DIRECT_0X18 = "1800000000000000010000000000000000000000"
DIRECT_0X28 = "2800000000000000010000000000000000000000"


def blob(settings: WinHttpProxySettings) -> list[int]:
    return list(encode_winhttp_settings(settings))


def netsh_blob(proxy: str, bypass: str, header: int) -> list[int]:
    """What netsh (0x28) or a default hive (0x18) holds for these settings."""
    return blob(WinHttpProxySettings(proxy=proxy, bypass=bypass, header=header, flags=3))


def registry(native: list[int] | None = None, wow64: list[int] | None = None) -> FakeRegistry:
    keys: dict[str, dict[str, tuple[str, object]]] = {NATIVE: {}, WOW64: {}}
    if native is not None:
        keys[NATIVE][VALUE_NAME] = ("REG_BINARY", native)
    if wow64 is not None:
        keys[WOW64][VALUE_NAME] = ("REG_BINARY", wow64)
    return FakeRegistry(keys)


def stored(reg: FakeRegistry, key: str) -> WinHttpProxySettings | None:
    found = reg.keys[key.lower()].get(VALUE_NAME)
    return None if found is None else decode_winhttp_settings(found[1])


def modules(reg: FakeRegistry) -> list[str]:
    return [call["module"].rsplit(".", 1)[1] for call in reg.calls]


def test_sets_both_views_as_netsh_then_is_idempotent(make_action) -> None:
    reg = registry(native=list(bytes.fromhex(DIRECT_0X18)))
    args = {"proxy": {"http": "proxy.example.com:3128", "https": "proxy.example.com:3128"}, "bypass": ["*.corp.example.com", "<local>"]}
    result = make_action(ActionModule, reg, args).run(task_vars={})
    assert result["changed"] is True and result["changed_views"] == ["native", "wow64"]
    expected = bytes.fromhex("28000000 00000000 03000000") + len(PER_SCHEME).to_bytes(4, "little") + PER_SCHEME.encode()
    bypass = f"*.corp.example.com;{IMDS};<local>"
    expected += len(bypass).to_bytes(4, "little") + bypass.encode()
    assert reg.keys[NATIVE.lower()][VALUE_NAME] == ("REG_BINARY", list(expected))
    assert reg.keys[WOW64.lower()][VALUE_NAME] == ("REG_BINARY", list(expected))
    assert modules(reg) == ["win_powershell", "win_regedit", "win_regedit"]
    assert result["before"] == {"native": {"enabled": False, "proxy": "", "bypass": "", "header": 0x18, "counter": 0, "flags": 1}, "wow64": None}
    assert result["after"]["wow64"]["proxy"] == PER_SCHEME and result["after"]["native"]["header"] == 0x28
    assert "warnings" not in result

    reg.calls.clear()
    again = make_action(ActionModule, reg, args).run(task_vars={})
    assert again["changed"] is False and again["changed_views"] == []
    assert modules(reg) == ["win_powershell"]


@pytest.mark.parametrize("header", [0x18, 0x28])
def test_netsh_written_value_with_either_header_is_converged(make_action, header) -> None:
    seeded = netsh_blob(PER_SCHEME, "<local>", header)
    reg = registry(native=seeded, wow64=seeded)
    args = {"proxy": PER_SCHEME, "bypass": ["<local>"], "imds_bypass": False}
    result = make_action(ActionModule, reg, args).run(task_vars={})
    assert result["changed"] is False
    assert reg.keys[NATIVE.lower()][VALUE_NAME][1] == seeded


def test_writes_only_the_view_that_differs(make_action) -> None:
    good = netsh_blob(PER_SCHEME, IMDS, 0x28)
    reg = registry(native=good, wow64=list(bytes.fromhex(DIRECT_0X28)))
    result = make_action(ActionModule, reg, {"proxy": PER_SCHEME}).run(task_vars={})
    assert result["changed_views"] == ["wow64"]
    assert modules(reg) == ["win_powershell", "win_regedit"]
    assert reg.calls[-1]["args"]["path"] == WOW64


def test_one_view_is_read_with_win_reg_stat(make_action) -> None:
    reg = registry()
    result = make_action(ActionModule, reg, {"proxy": PER_SCHEME, "views": ["wow64"]}).run(task_vars={})
    assert modules(reg) == ["win_reg_stat", "win_regedit"]
    assert list(result["before"]) == ["wow64"] and stored(reg, NATIVE) is None
    assert stored(reg, WOW64) == WinHttpProxySettings.named_proxy(PER_SCHEME, IMDS)


def test_check_mode_reads_once_and_writes_nothing(make_action) -> None:
    reg = registry(native=list(bytes.fromhex(DIRECT_0X18)))
    before = reg.snapshot()
    result = make_action(ActionModule, reg, {"proxy": PER_SCHEME}, check_mode=True, diff=True).run(task_vars={})
    assert result["changed"] is True and reg.snapshot() == before
    assert modules(reg) == ["win_powershell"]
    assert "native: direct access (header 0x18)" in result["diff"]["before"]
    assert f"native.proxy: {PER_SCHEME}\n" in result["diff"]["after"] and "wow64: (no value: direct access)" in result["diff"]["before"]


def test_absent_writes_the_netsh_reset_blob_and_leaves_missing_values(make_action) -> None:
    reg = registry(native=netsh_blob(PER_SCHEME, "<local>", 0x18))
    result = make_action(ActionModule, reg, {"state": "absent"}).run(task_vars={})
    assert result["changed_views"] == ["native"]
    assert reg.keys[NATIVE.lower()][VALUE_NAME][1] == list(bytes.fromhex(DIRECT_0X28))
    assert VALUE_NAME not in reg.keys[WOW64.lower()]
    again = make_action(ActionModule, reg, {"state": "absent"}).run(task_vars={})
    assert again["changed"] is False


def test_absent_keeps_a_direct_value_with_stale_strings(make_action) -> None:
    stale = blob(WinHttpProxySettings(proxy="old:1", header=0x18, flags=1))
    reg = registry(native=stale, wow64=stale)
    assert make_action(ActionModule, reg, {"state": "absent"}).run(task_vars={})["changed"] is False


def test_bare_host_port_warns_and_is_stored_as_given(make_action) -> None:
    reg = registry()
    result = make_action(ActionModule, reg, {"proxy": "http://proxy.example.com:3128", "views": ["native"]}).run(task_vars={})
    assert stored(reg, NATIVE).proxy == "proxy.example.com:3128"  # type: ignore[union-attr]
    assert any("http_proxy only" in warning and "https: 'proxy.example.com:3128'" in warning for warning in result["warnings"])


def test_http_only_per_scheme_warns(make_action) -> None:
    result = make_action(ActionModule, registry(), {"proxy": {"http": "p:1"}}).run(task_vars={})
    assert any("no https= server" in warning for warning in result["warnings"])


def test_corrupt_value_on_the_host_fails_before_any_write(make_action) -> None:
    reg = registry(native=list(bytes.fromhex(DIRECT_0X28)), wow64=[0x99, 0, 0, 0])
    before = reg.snapshot()
    failure(make_action(ActionModule, reg, {"proxy": PER_SCHEME}).run(task_vars={}), match="WOW6432Node.*WinHttpSettings: the header is 0x99")
    assert reg.snapshot() == before and modules(reg) == ["win_powershell"]


def test_wrong_value_type_is_refused(make_action) -> None:
    reg = FakeRegistry({NATIVE: {VALUE_NAME: ("REG_SZ", "proxy:1")}})
    failure(make_action(ActionModule, reg, {"proxy": PER_SCHEME, "views": ["native"]}).run(task_vars={}), match="REG_SZ, but Windows stores it as REG_BINARY")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"proxy": "http://svc:hunter2@proxy:3128"}, "proxy: 'http://svc:********@proxy:3128' has credentials, but WinHTTP and WinINet store none"),
        ({"proxy": "https://proxy:3128"}, "uses https://"),
        ({"proxy": "proxy:0"}, "has port '0'"),
        ({"proxy": {"gopher": "p:1"}}, "'gopher' is not a proxy scheme"),
        ({"proxy": "http=a:1;http=b:2"}, "more than one http="),
        ({"proxy": "a:1;b:2"}, "more than one server without a scheme"),
        ({"proxy": ""}, "proxy: is empty"),
        ({"proxy": PER_SCHEME, "bypass": ["10.0.0.0/8"]}, "bypass: '10.0.0.0/8' is a CIDR or a path, which Windows bypass lists never match; use '10.*'"),
        ({"proxy": PER_SCHEME, "bypass": ["<-loopback>"]}, "WinHTTP knows only <local>"),
        ({"proxy": PER_SCHEME, "bypass": ["a;b"]}, "one host or pattern per list item"),
        ({"proxy": PER_SCHEME, "bypass": ["h\u00f6st"]}, "non-ASCII"),
        ({"state": "absent", "proxy": PER_SCHEME}, "proxy: is only used with state=present"),
        ({}, "state=present needs proxy"),
        ({"proxy": PER_SCHEME, "views": ["both"]}, "views"),
        ({"proxy": PER_SCHEME, "views": []}, "views: is empty"),
    ],
)
def test_bad_input_fails_before_touching_the_host(make_action, args, fragment) -> None:
    reg = registry(native=list(bytes.fromhex(DIRECT_0X18)))
    before = reg.snapshot()
    error = failure(make_action(ActionModule, reg, args).run(task_vars={}))
    assert fragment in error
    assert "hunter2" not in error
    assert reg.calls == [] and reg.snapshot() == before


def test_foreign_credentials_on_the_host_are_redacted(make_action) -> None:
    reg = registry(native=netsh_blob("http://u:hunter2@old:1", "", 0x28))
    result = make_action(ActionModule, reg, {"proxy": PER_SCHEME, "views": ["native"]}, diff=True).run(task_vars={})
    assert "hunter2" not in json.dumps(result)
    assert result["before"]["native"]["proxy"] == "http://u:********@old:1"
