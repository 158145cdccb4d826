# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wininet_proxy's read -> decide -> write against a fake host."""

from __future__ import annotations

import json

import pytest

from ansible_collections.ssm.proxy.plugins.action.wininet_proxy import (
    DEFAULT_CONNECTION,
    MACHINE_SETTINGS_KEY,
    POLICY_KEY,
    POLICY_VALUE,
    SAVED_LEGACY,
    ActionModule,
)
from ansible_collections.ssm.proxy.plugins.plugin_utils._blobs import decode_wininet_settings

from .conftest import FakeRegistry, failure

LS_SETTINGS = "HKU:\\S-1-5-18\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings"
LS_CONNECTIONS = LS_SETTINGS + "\\Connections"
USER_SID = "S-1-5-21-1004336348-1177238915-682003330-1001"
USER_SETTINGS = f"HKU:\\{USER_SID}\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings"
PER_SCHEME = "http=proxy.example.com:3128;https=proxy.example.com:3128"
IMDS = "169.254.169.254;fd00:ec2::254;[fd00:ec2::254]"
ARGS = {"proxy": {"http": "proxy.example.com:3128", "https": "proxy.example.com:3128"}}

# Vectors from the registry-blobs spec: I3 (nothing ticked, counter 10) and I4 (SavedLegacySettings,
# 127.0.0.1:80 + <local> + auto-detect).
I3 = "460000000a000000010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
I4 = "46000000510000000b0000000c0000003132372e302e302e313a3830070000003c6c6f63616c3e000000000000000000000000000000000000000000000000000000000000000000000000"
# A 0x46 blob with a detection cache: flags 9 (auto-detect), a last-known-good WPAD URL, a FILETIME, 12 zero
# bytes and one SOCKADDR_STORAGE entry (128 bytes).
WPAD_URL = b"http://wpad/wpad.dat"
CACHE = (
    (5).to_bytes(4, "little") + len(WPAD_URL).to_bytes(4, "little") + WPAD_URL + bytes.fromhex("00c0b3e1d1aad901")
    + bytes(12) + (1).to_bytes(4, "little") + bytes.fromhex("0200") + bytes(range(126))
)
CACHED = bytes.fromhex("46000000 07000000 09000000") + bytes(12) + CACHE


def ints(hex_text: str) -> list[int]:
    return list(bytes.fromhex(hex_text))


def local_system(dcs: list[int] | None = None, legacy: list[int] | None = None, plain: dict | None = None, policy: int | None = None) -> FakeRegistry:
    connections = {}
    if dcs is not None:
        connections[DEFAULT_CONNECTION] = ("REG_BINARY", dcs)
    if legacy is not None:
        connections[SAVED_LEGACY] = ("REG_BINARY", legacy)
    keys = {LS_SETTINGS: dict(plain or {}), LS_CONNECTIONS: connections}
    if policy is not None:
        keys[POLICY_KEY] = {POLICY_VALUE: ("REG_DWORD", policy)}
    return FakeRegistry(keys)


def value(reg: FakeRegistry, key: str, name: str):
    found = reg.keys.get(key.lower(), {}).get(name)
    return None if found is None else found[1]


def modules(reg: FakeRegistry) -> list[str]:
    return [call["module"].rsplit(".", 1)[1] for call in reg.calls]


def test_sets_local_system_blob_and_plain_values_then_is_idempotent(make_action) -> None:
    reg = local_system(dcs=ints(I3))
    result = make_action(ActionModule, reg, {**ARGS, "bypass": ["*.corp.example.com", "<local>"]}).run(task_vars={})
    assert result["changed"] is True
    written = decode_wininet_settings(value(reg, LS_CONNECTIONS, DEFAULT_CONNECTION))
    bypass = f"*.corp.example.com;{IMDS};<local>"
    assert (written.flags, written.proxy, written.bypass, written.auto_config_url) == (3, PER_SCHEME, bypass, "")
    assert written.counter == 11 and written.version == 0x46
    assert bytes(value(reg, LS_CONNECTIONS, DEFAULT_CONNECTION))[-32:] == bytes(32)
    assert value(reg, LS_SETTINGS, "ProxyEnable") == 1 and reg.keys[LS_SETTINGS.lower()]["ProxyEnable"][0] == "REG_DWORD"
    assert value(reg, LS_SETTINGS, "ProxyServer") == PER_SCHEME
    assert value(reg, LS_SETTINGS, "ProxyOverride") == bypass
    assert value(reg, LS_SETTINGS, "AutoConfigURL") is None
    assert modules(reg) == ["win_powershell"] + ["win_regedit"] * 4
    assert result["before"]["local_system"]["default_connection_settings"]["counter"] == 10
    assert result["after"]["local_system"]["legacy_values"]["ProxyEnable"] == 1
    assert "warnings" not in result

    reg.calls.clear()
    again = make_action(ActionModule, reg, {**ARGS, "bypass": ["*.corp.example.com", "<local>"]}).run(task_vars={})
    assert again["changed"] is False and modules(reg) == ["win_powershell"]


def test_detection_cache_is_kept_byte_for_byte_and_the_counter_bumped(make_action) -> None:
    reg = local_system(dcs=list(CACHED))
    make_action(ActionModule, reg, ARGS).run(task_vars={})
    written = bytes(value(reg, LS_CONNECTIONS, DEFAULT_CONNECTION))
    assert written.endswith(CACHE)
    decoded = decode_wininet_settings(written)
    assert decoded.counter == 8 and decoded.flags == 3  # auto-detect (0x8) turned off, as auto_detect defaults to false


def test_missing_blob_is_written_even_for_direct_access(make_action) -> None:
    # Without DefaultConnectionSettings WinINet detects settings automatically: "absent" must write a direct blob.
    reg = local_system()
    result = make_action(ActionModule, reg, {"state": "absent"}).run(task_vars={})
    assert result["changed"] is True
    assert value(reg, LS_CONNECTIONS, DEFAULT_CONNECTION) == ints("460000000000000001000000" + "00" * 12 + "00" * 32)
    assert value(reg, LS_SETTINGS, "ProxyEnable") is None  # missing reads as 0: not written
    assert make_action(ActionModule, reg, {"state": "absent"}).run(task_vars={})["changed"] is False


def test_absent_clears_proxy_and_mirrors_and_updates_saved_legacy(make_action) -> None:
    reg = local_system(dcs=ints(I4), legacy=ints(I4), plain={"ProxyEnable": ("REG_DWORD", 1), "ProxyServer": ("REG_SZ", "127.0.0.1:80"),
                                                             "ProxyOverride": ("REG_SZ", "<local>"), "Other": ("REG_SZ", "kept")})
    result = make_action(ActionModule, reg, {"state": "absent"}, diff=True).run(task_vars={})
    assert result["changed"] is True
    for name in (DEFAULT_CONNECTION, SAVED_LEGACY):
        decoded = decode_wininet_settings(value(reg, LS_CONNECTIONS, name))
        assert (decoded.flags, decoded.proxy, decoded.bypass, decoded.counter) == (1, "", "", 0x52)
    assert value(reg, LS_SETTINGS, "ProxyEnable") == 0
    assert value(reg, LS_SETTINGS, "ProxyServer") is None and value(reg, LS_SETTINGS, "ProxyOverride") is None
    assert value(reg, LS_SETTINGS, "Other") == "kept"
    assert "local_system.proxy: 127.0.0.1:80" in result["diff"]["before"] and "local_system.ProxyServer: (absent)" in result["diff"]["after"]


def test_windows_saved_settings_are_recognised_as_converged(make_action) -> None:
    # I4 as the Internet Options dialog saved it: proxy 127.0.0.1:80, <local>, auto-detect on.
    plain = {"ProxyEnable": ("REG_DWORD", 1), "ProxyServer": ("REG_SZ", "127.0.0.1:80"), "ProxyOverride": ("REG_SZ", "<local>")}
    reg = local_system(dcs=ints(I4), legacy=ints(I4), plain=plain)
    before = reg.snapshot()
    args = {"proxy": "127.0.0.1:80", "bypass": ["<local>"], "imds_bypass": False, "auto_detect": True}
    result = make_action(ActionModule, reg, args).run(task_vars={})
    assert result["changed"] is False and reg.snapshot() == before


def test_auto_config_url_sets_flag_and_mirror(make_action) -> None:
    reg = local_system(dcs=ints(I3))
    result = make_action(ActionModule, reg, {"auto_config_url": "http://wpad.example.com/proxy.pac"}).run(task_vars={})
    decoded = decode_wininet_settings(value(reg, LS_CONNECTIONS, DEFAULT_CONNECTION))
    assert decoded.flags == 5 and decoded.auto_config_url == "http://wpad.example.com/proxy.pac" and decoded.proxy == ""
    assert value(reg, LS_SETTINGS, "AutoConfigURL") == "http://wpad.example.com/proxy.pac"
    assert value(reg, LS_SETTINGS, "ProxyEnable") is None
    assert any("ignores automatic detection and configuration scripts" in warning for warning in result["warnings"])


def test_check_mode_reads_once_and_writes_nothing(make_action) -> None:
    reg = local_system(dcs=ints(I3))
    before = reg.snapshot()
    result = make_action(ActionModule, reg, ARGS, check_mode=True, diff=True).run(task_vars={})
    assert result["changed"] is True and reg.snapshot() == before and modules(reg) == ["win_powershell"]
    assert f"local_system.proxy: {PER_SCHEME}\n" in result["diff"]["after"]


def test_machine_scope_writes_settings_then_policy_and_warns(make_action) -> None:
    reg = FakeRegistry({MACHINE_SETTINGS_KEY: {}, MACHINE_SETTINGS_KEY + "\\Connections": {DEFAULT_CONNECTION: ("REG_BINARY", ints(I3))}})
    result = make_action(ActionModule, reg, {**ARGS, "scope": "machine"}).run(task_vars={})
    writes = [(call["args"]["path"], call["args"]["name"]) for call in reg.calls[1:]]
    assert writes[-1] == (POLICY_KEY, POLICY_VALUE) and len(writes) == 5
    assert reg.calls[-1]["args"]["type"] == "dword" and reg.calls[-1]["args"]["data"] == 0
    assert result["after"]["machine"]["proxy_settings_per_user"] == 0 and result["before"]["machine"]["proxy_settings_per_user"] is None
    assert any("ssm-user" in warning and "amazon.aws.aws_ssm" in warning for warning in result["warnings"])
    assert make_action(ActionModule, reg, {**ARGS, "scope": "machine"}).run(task_vars={})["changed"] is False

    reg.calls.clear()
    reset = make_action(ActionModule, reg, {"state": "absent", "scope": "machine"}).run(task_vars={})
    assert reset["changed"] is True
    first = reg.calls[1]["args"]
    assert (first["path"], first["name"], first["state"]) == (POLICY_KEY, POLICY_VALUE, "absent")
    assert value(reg, POLICY_KEY, POLICY_VALUE) is None
    assert "warnings" not in reset


def test_per_user_scope_warns_when_machine_policy_is_in_force(make_action) -> None:
    reg = local_system(dcs=ints(I3), policy=0)
    result = make_action(ActionModule, reg, ARGS).run(task_vars={})
    assert any("ProxySettingsPerUser is 0" in warning for warning in result["warnings"])


def test_user_sids_are_set_and_unloaded_profiles_refused(make_action) -> None:
    reg = FakeRegistry({USER_SETTINGS: {}, USER_SETTINGS + "\\Connections": {}})
    result = make_action(ActionModule, reg, {**ARGS, "scope": [USER_SID, USER_SID]}).run(task_vars={})
    assert list(result["after"]) == [USER_SID]
    assert decode_wininet_settings(value(reg, USER_SETTINGS + "\\Connections", DEFAULT_CONNECTION)).proxy == PER_SCHEME
    assert not any("http_proxy only" in warning for warning in result.get("warnings", []))

    missing = "S-1-5-21-1-2-3-1009"
    reg = FakeRegistry({USER_SETTINGS: {}})
    before = reg.snapshot()
    failure(make_action(ActionModule, reg, {**ARGS, "scope": [USER_SID, missing]}).run(task_vars={}),
            match=f"profile of {missing} is not loaded.*nothing was written")
    assert reg.snapshot() == before and modules(reg) == ["win_powershell"]


def test_corrupt_saved_legacy_settings_fails_before_any_write(make_action) -> None:
    reg = local_system(dcs=ints(I3), legacy=ints(I3)[:40])
    before = reg.snapshot()
    failure(make_action(ActionModule, reg, ARGS).run(task_vars={}), match="SavedLegacySettings: the blob is truncated.*Nothing was written")
    assert reg.snapshot() == before


def test_bare_proxy_warns_for_local_system(make_action) -> None:
    result = make_action(ActionModule, local_system(dcs=ints(I3)), {"proxy": "proxy.example.com:3128"}).run(task_vars={})
    assert any("http_proxy only" in warning for warning in result["warnings"])


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"proxy": "http://svc:hunter2@proxy:3128"}, "has credentials, but WinHTTP and WinINet store none"),
        ({"proxy": "p:1", "scope": "S-1-5"}, "scope: 'S-1-5' is not local_system, machine or a SID"),
        ({"proxy": "p:1", "scope": ["S-1-5-21-1", "bob"]}, "scope: 'bob' is not"),
        ({"proxy": "p:1", "scope": []}, "scope: must be local_system, machine or a list of user SIDs"),
        ({"bypass": ["<local>"], "auto_detect": True}, "bypass: is used only with proxy"),
        ({}, "state=present needs proxy, auto_config_url or auto_detect=true"),
        ({"auto_config_url": "ftp://wpad/proxy.pac"}, "auto_config_url: 'ftp://wpad/proxy.pac' is not an http:// or https:// URL"),
        ({"auto_config_url": "http://u:hunter2@wpad/p.pac"}, "auto_config_url: 'http://u:********@wpad/p.pac' has credentials"),
        ({"state": "absent", "auto_config_url": "http://wpad/p.pac"}, "auto_config_url: is only used with state=present"),
        ({"proxy": "p:1", "bypass": ["192.168.0.0/16"]}, "use '192.168.*'"),
        ({"proxy": "p:1", "bypass": ["bad host"]}, "whitespace"),
    ],
)
def test_bad_input_fails_before_touching_the_host(make_action, args, fragment) -> None:
    reg = local_system(dcs=ints(I3))
    before = reg.snapshot()
    error = failure(make_action(ActionModule, reg, args).run(task_vars={}))
    assert fragment in error and "hunter2" not in error
    assert reg.calls == [] and reg.snapshot() == before


def test_foreign_credentials_on_the_host_are_redacted(make_action) -> None:
    plain = {"ProxyServer": ("REG_SZ", "http://u:hunter2@old:1")}
    reg = local_system(dcs=ints(I3), plain=plain)
    result = make_action(ActionModule, reg, ARGS, diff=True).run(task_vars={})
    assert "hunter2" not in json.dumps(result)
