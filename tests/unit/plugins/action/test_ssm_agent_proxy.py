# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ssm_agent_proxy's read -> decide -> write against a fake host."""

from __future__ import annotations

import json

import pytest

from ansible_collections.ssm.proxy.plugins.action.ssm_agent_proxy import ENVIRONMENT_VALUE, SERVICE_KEY, ActionModule

from .conftest import FakeRegistry, failure

PROXY = "http://proxy.example.com:3128"
IMDS = "169.254.169.254,fd00:ec2::254"


def registry(lines: list[str] | None = None, value_type: str = "REG_MULTI_SZ") -> FakeRegistry:
    values = {} if lines is None else {ENVIRONMENT_VALUE: (value_type, lines)}
    return FakeRegistry({SERVICE_KEY: values})


def environment(reg: FakeRegistry) -> list[str] | None:
    found = reg.keys[SERVICE_KEY.lower()].get(ENVIRONMENT_VALUE)
    return None if found is None else found[1]


def test_sets_three_lines_keeps_others_then_is_idempotent(make_action) -> None:
    reg = registry(["FOO=bar"])
    result = make_action(ActionModule, reg, {"proxy": PROXY, "no_proxy": [".corp.example.com"]}).run(task_vars={})
    assert result["changed"] is True and result["restart_required"] is True
    assert environment(reg) == ["FOO=bar", f"http_proxy={PROXY}", f"https_proxy={PROXY}", f"no_proxy=.corp.example.com,{IMDS}"]
    assert result["before"] == {"http_proxy": None, "https_proxy": None, "no_proxy": None}
    assert result["after"]["https_proxy"] == PROXY
    assert [call["module"] for call in reg.calls] == ["ansible.windows.win_reg_stat", "ansible.windows.win_regedit"]

    reg.calls.clear()
    again = make_action(ActionModule, reg, {"proxy": PROXY, "no_proxy": [".corp.example.com"]}).run(task_vars={})
    assert again["changed"] is False and again["restart_required"] is False
    assert [call["module"] for call in reg.calls] == ["ansible.windows.win_reg_stat"]


def test_check_mode_reads_once_and_writes_nothing(make_action) -> None:
    reg = registry(["FOO=bar"])
    before = reg.snapshot()
    result = make_action(ActionModule, reg, {"proxy": PROXY}, check_mode=True, diff=True).run(task_vars={})
    assert result["changed"] is True
    assert reg.snapshot() == before
    assert [call["module"] for call in reg.calls] == ["ansible.windows.win_reg_stat"]
    assert result["diff"]["after"] == f"FOO=bar\nhttp_proxy={PROXY}\nhttps_proxy={PROXY}\nno_proxy={IMDS}\n"


def test_password_is_written_but_never_returned(make_action) -> None:
    reg = registry(["OTHER=http://x:hunter2@elsewhere:1"])
    args = {"proxy": PROXY, "proxy_username": "svc", "proxy_password": "S3cr=t@!"}
    result = make_action(ActionModule, reg, args, diff=True).run(task_vars={})
    written = environment(reg)
    assert written is not None and "https_proxy=http://svc:S3cr%3Dt%40%21@proxy.example.com:3128" in written
    text = json.dumps(result)
    assert "S3cr" not in text and "hunter2" not in text
    assert result["after"]["http_proxy"] == "http://svc:********@proxy.example.com:3128"
    write = reg.calls[-1]
    assert write["module"] == "ansible.windows.win_regedit" and write["no_log"] is True


def test_write_without_credentials_is_not_no_log(make_action) -> None:
    reg = registry([])
    make_action(ActionModule, reg, {"proxy": PROXY}).run(task_vars={})
    assert reg.calls[-1]["no_log"] is False


def test_absent_removes_only_proxy_lines(make_action) -> None:
    reg = registry(["http_proxy=x", "FOO=bar", "NO_PROXY=y"])
    result = make_action(ActionModule, reg, {"state": "absent"}).run(task_vars={})
    assert result["changed"] is True
    assert environment(reg) == ["FOO=bar"]


def test_absent_removes_the_value_when_nothing_is_left(make_action) -> None:
    reg = registry(["http_proxy=x", "https_proxy=y"])
    make_action(ActionModule, reg, {"state": "absent"}).run(task_vars={})
    assert environment(reg) is None
    assert reg.calls[-1]["args"] == {"path": SERVICE_KEY, "name": ENVIRONMENT_VALUE, "state": "absent"}


def test_absent_without_value_is_unchanged(make_action) -> None:
    reg = registry(None)
    result = make_action(ActionModule, reg, {"state": "absent"}).run(task_vars={})
    assert result["changed"] is False and len(reg.calls) == 1


def test_missing_service_fails_and_writes_nothing(make_action) -> None:
    reg = FakeRegistry({})
    failure(make_action(ActionModule, reg, {"proxy": PROXY}).run(task_vars={}), match="Amazon SSM Agent is not installed.*EC2Config")
    assert reg.keys == {} and len(reg.calls) == 1


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"proxy": "socks5://p:1"}, "proxy: scheme 'socks5'"),
        ({"proxy": PROXY, "no_proxy": ["10.*"]}, "no_proxy: '10.*' is an IE-style wildcard that Go never matches; use the CIDR 10.0.0.0/8"),
        ({"state": "absent", "proxy": PROXY}, "proxy: is only used with state=present"),
        ({}, "state=present needs proxy"),
        ({"proxy": PROXY, "proxy_password": "x"}, "proxy_password: is set without proxy_username"),
        ({"proxy": "http://u:p@h:1", "proxy_username": "u", "proxy_password": "p"}, "use one or the other"),
        ({"https_proxy": "http://h:0"}, "https_proxy: 'http://h:0' has port '0'"),
        ({"proxy": PROXY, "bogus": 1}, "bogus"),
        ({"proxy": PROXY, "state": "gone"}, "state"),
    ],
)
def test_bad_input_fails_before_touching_the_host(make_action, args, fragment) -> None:
    reg = registry(["FOO=bar"])
    before = reg.snapshot()
    error = failure(make_action(ActionModule, reg, args).run(task_vars={}))
    assert fragment in error
    assert reg.calls == [] and reg.snapshot() == before


def test_warnings_for_http_only_and_https_scheme(make_action) -> None:
    reg = registry([])
    result = make_action(ActionModule, reg, {"http_proxy": PROXY, "imds_bypass": False}).run(task_vars={})
    joined = " ".join(result["warnings"])
    assert "goes direct" in joined and "imds_bypass=false" in joined
    assert environment(reg) == [f"http_proxy={PROXY}"]
    result = make_action(ActionModule, registry([]), {"proxy": "https://p:443"}).run(task_vars={})
    assert any("https://" in warning for warning in result["warnings"])


def test_reg_sz_value_is_rewritten_as_multi_sz(make_action) -> None:
    reg = registry("FOO=bar", value_type="REG_SZ")  # type: ignore[arg-type]
    result = make_action(ActionModule, reg, {"proxy": PROXY}).run(task_vars={})
    assert result["changed"] is True
    assert reg.keys[SERVICE_KEY.lower()][ENVIRONMENT_VALUE][0] == "REG_MULTI_SZ"
    assert environment(reg)[0] == "FOO=bar"  # type: ignore[index]


def test_unreadable_value_type_is_refused(make_action) -> None:
    reg = registry([1, 2], value_type="REG_BINARY")  # type: ignore[list-item]
    failure(make_action(ActionModule, reg, {"proxy": PROXY}).run(task_vars={}), match="is REG_BINARY, not REG_MULTI_SZ")
    assert len(reg.calls) == 1


def test_module_host_reads_several_keys_and_a_file_tail_in_one_execution(make_action) -> None:
    from ansible_collections.ssm.proxy.plugins.plugin_utils._host import ModuleHost

    log = "C:\\ProgramData\\Amazon\\SSM\\Logs\\amazon-ssm-agent.log"
    reg = FakeRegistry({SERVICE_KEY: {ENVIRONMENT_VALUE: ("REG_MULTI_SZ", ["A=1"])}}, files={log: "x" * 10 + "tail"})
    host = ModuleHost(make_action(ActionModule, reg, {}), {})
    state = host.read_state([SERVICE_KEY, "HKLM:\\SOFTWARE\\Missing"], [log, "C:\\nope.log"], tail_bytes=4)
    assert host.executions == 1 and [call["module"] for call in reg.calls] == ["ansible.windows.win_powershell"]
    assert reg.calls[0]["args"]["depth"] >= 6
    assert state.key(SERVICE_KEY.upper()).get("environment").value == ["A=1"]
    assert not state.key("HKLM:\\SOFTWARE\\Missing").exists
    assert state.file(log).content == "tail" and not state.file("C:\\nope.log").exists


def test_script_failure_text_and_unsigned_dwords() -> None:
    from ansible_collections.ssm.proxy.plugins.plugin_utils._host import _failure_message, host_state_from_result

    failed = {"failed": True, "error": [{"output": "x", "exception": {"message": "Access is denied."}}]}
    assert _failure_message(failed) == "Access is denied."
    assert _failure_message({"failed": True, "msg": "boom"}) == "boom"
    state = host_state_from_result({"registry": [{"path": "HKLM:\\X", "exists": True, "values": {
        "D": {"type": "REG_DWORD", "value": -1}, "Q": {"type": "REG_QWORD", "value": -2}, "S": {"type": "REG_SZ", "value": "-1"}}}]})
    key = state.key("HKLM:\\X")
    assert (key.get("D").value, key.get("Q").value, key.get("S").value) == (4294967295, 2 ** 64 - 2, "-1")
