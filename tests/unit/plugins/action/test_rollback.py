# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""backup=true on the settings modules and ssm.proxy.rollback: the exact previous bytes come back."""

from __future__ import annotations

import json

from ansible_collections.ssm.proxy.plugins.action import rollback, ssm_agent_proxy, winhttp_proxy
from ansible_collections.ssm.proxy.plugins.plugin_utils._backup import BACKUP_KEY, COLLECTION_KEY

from .conftest import FakeRegistry, failure

SERVICE = ssm_agent_proxy.SERVICE_KEY
NATIVE = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections"
WOW64 = "HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections"
OLD_LINES = ["FOO=bar", "https_proxy=http://old:pw@old-proxy:1"]
DEFAULT_WINHTTP = list(bytes.fromhex("1800000000000000010000000000000000000000"))


def host() -> FakeRegistry:
    return FakeRegistry({
        SERVICE: {"Environment": ("REG_MULTI_SZ", list(OLD_LINES))},
        NATIVE: {"WinHttpSettings": ("REG_BINARY", list(DEFAULT_WINHTTP))},
        WOW64: {},
    })


def modules(reg: FakeRegistry) -> list[str]:
    return [call["module"].rsplit(".", 1)[-1] for call in reg.calls]


def test_backup_then_restore_gives_back_the_exact_values(make_action) -> None:
    reg = host()
    before = reg.snapshot()
    result = make_action(ssm_agent_proxy.ActionModule, reg, {"proxy": "http://new:3128", "backup": True}).run(task_vars={})
    assert result["backup"] == {"key": BACKUP_KEY, "name": "ssm_agent_proxy", "saved": True}
    # One read; the old lines hold a password, so the collection's key is restricted first (created, SYSTEM and
    # Administrators given FullControl, inheritance cut); then the backup and the change.
    assert modules(reg) == ["win_powershell", "win_regedit", "win_acl", "win_acl", "win_acl_inheritance", "win_regedit", "win_regedit"]
    assert [call["args"].get("user") for call in reg.calls[2:4]] == ["S-1-5-18", "S-1-5-32-544"]
    assert reg.calls[4]["args"] == {"path": COLLECTION_KEY, "state": "absent", "reorganize": False}
    assert reg.calls[5]["no_log"] is True and reg.calls[5]["args"]["name"] == "ssm_agent_proxy"
    assert "old:pw" not in json.dumps(result)
    saved = json.loads(reg.keys[BACKUP_KEY.lower()]["ssm_agent_proxy"][1])
    [item] = saved["values"]
    assert {key: item[key] for key in ("path", "name", "exists", "type", "data")} == {
        "path": SERVICE, "name": "Environment", "exists": True, "type": "REG_MULTI_SZ", "data": OLD_LINES}
    # What the module wrote, so that a rollback can tell a value changed since by someone else.
    assert item["written"]["data"] == reg.keys[SERVICE.lower()]["Environment"][1]

    result = make_action(winhttp_proxy.ActionModule, reg, {"proxy": "http=new:3128;https=new:3128", "backup": True}).run(task_vars={})
    assert result["changed"] and result["backup"]["saved"]

    reg.calls.clear()
    restored = make_action(rollback.ActionModule, reg, {}).run(task_vars={})
    assert restored["changed"] and restored["restored"] == ["ssm_agent_proxy", "winhttp_proxy"]
    # The backups, then what the saved values hold now (one read), then the writes, all with no_log, and the
    # removal of the backup key, which carries no data.
    assert modules(reg)[:2] == ["win_reg_stat", "win_powershell"] and all(call["no_log"] for call in reg.calls[2:-1])
    assert reg.calls[-1]["args"] == {"path": BACKUP_KEY, "state": "absent", "delete_key": True}
    after = reg.snapshot()
    after[BACKUP_KEY.lower()] = after.get(BACKUP_KEY.lower(), {})
    assert after.pop(BACKUP_KEY.lower()) == {}
    assert after.pop(COLLECTION_KEY.lower()) == {}
    assert after == before  # byte for byte, including the WOW64 value that did not exist


def test_existing_backup_is_kept(make_action) -> None:
    reg = host()
    make_action(ssm_agent_proxy.ActionModule, reg, {"proxy": "http://first:1", "backup": True}).run(task_vars={})
    first = reg.keys[BACKUP_KEY.lower()]["ssm_agent_proxy"]
    result = make_action(ssm_agent_proxy.ActionModule, reg, {"proxy": "http://second:1", "backup": True}).run(task_vars={})
    assert result["changed"] and result["backup"]["saved"] is False
    assert reg.keys[BACKUP_KEY.lower()]["ssm_agent_proxy"] == first


def test_no_change_writes_no_backup(make_action) -> None:
    reg = host()
    make_action(ssm_agent_proxy.ActionModule, reg, {"proxy": "http://new:3128"}).run(task_vars={})
    reg.calls.clear()
    result = make_action(ssm_agent_proxy.ActionModule, reg, {"proxy": "http://new:3128", "backup": True}).run(task_vars={})
    assert not result["changed"] and modules(reg) == ["win_powershell"] and BACKUP_KEY.lower() not in reg.keys


def test_check_mode_saves_nothing(make_action) -> None:
    reg = host()
    before = reg.snapshot()
    result = make_action(ssm_agent_proxy.ActionModule, reg, {"proxy": "http://new:3128", "backup": True}, check_mode=True).run(task_vars={})
    assert result["changed"] and result["backup"]["saved"] is False and reg.snapshot() == before


def test_discard_forgets_without_restoring(make_action) -> None:
    reg = host()
    make_action(ssm_agent_proxy.ActionModule, reg, {"proxy": "http://new:3128", "backup": True}).run(task_vars={})
    reg.calls.clear()
    result = make_action(rollback.ActionModule, reg, {"state": "discarded"}).run(task_vars={})
    assert result["changed"] and not result["restored"]
    assert modules(reg) == ["win_regedit"] and reg.calls[0]["args"] == {"path": BACKUP_KEY, "state": "absent", "delete_key": True}
    assert reg.keys[SERVICE.lower()]["Environment"][1][-1] == "no_proxy=169.254.169.254,fd00:ec2::254"
    assert BACKUP_KEY.lower() not in reg.keys
    again = make_action(rollback.ActionModule, reg, {"state": "discarded"}).run(task_vars={})
    assert not again["changed"]


def test_discarding_some_components_keeps_the_others(make_action) -> None:
    reg = host()
    make_action(ssm_agent_proxy.ActionModule, reg, {"proxy": "http://new:3128", "backup": True}).run(task_vars={})
    make_action(winhttp_proxy.ActionModule, reg, {"proxy": "http=new:3128;https=new:3128", "backup": True}).run(task_vars={})
    result = make_action(rollback.ActionModule, reg, {"state": "discarded", "components": ["winhttp_proxy"]}).run(task_vars={})
    assert result["discarded"] == ["winhttp_proxy"]
    assert list(reg.keys[BACKUP_KEY.lower()]) == ["ssm_agent_proxy"]


def test_nothing_to_roll_back(make_action) -> None:
    reg = host()
    result = make_action(rollback.ActionModule, reg, {}).run(task_vars={})
    assert not result["changed"] and modules(reg) == ["win_reg_stat"]


def test_foreign_backup_value_is_refused_before_any_write(make_action) -> None:
    reg = host()
    reg.keys[BACKUP_KEY.lower()] = {"ssm_agent_proxy": ("REG_SZ", "not json")}
    failure(make_action(rollback.ActionModule, reg, {}).run(task_vars={}), match="not a backup this collection can read")
    assert modules(reg) == ["win_reg_stat"]


def test_rollback_takes_no_backup_option(make_action) -> None:
    failure(make_action(rollback.ActionModule, host(), {"backup": True}).run(task_vars={}), match="backup")


def test_a_value_that_cannot_be_restored_is_named_and_its_backup_kept(make_action) -> None:
    reg = host()
    make_action(ssm_agent_proxy.ActionModule, reg, {"proxy": "http://new:3128", "backup": True}).run(task_vars={})
    make_action(winhttp_proxy.ActionModule, reg, {"proxy": "http=new:3128;https=new:3128", "backup": True}).run(task_vars={})
    reg.denied.add((SERVICE.lower(), "Environment"))
    message = failure(make_action(rollback.ActionModule, reg, {}).run(task_vars={}))
    assert f"could not restore {SERVICE}\\Environment (" in message
    assert '"SetValue" with "3" argument(s): "Attempted to perform an unauthorized operation."' in message
    assert "Restored: winhttp_proxy" in message and f"stay in {BACKUP_KEY}" in message
    assert "old:pw" not in message and "pw@" not in message  # names, never data
    # The restored component's backup is gone; the other stays for a later rollback.
    assert set(reg.keys[BACKUP_KEY.lower()]) == {"ssm_agent_proxy"}


def test_an_empty_multistring_is_restored_as_exactly_that(make_action) -> None:
    reg = FakeRegistry({SERVICE: {"Environment": ("REG_MULTI_SZ", [])}})
    make_action(ssm_agent_proxy.ActionModule, reg, {"proxy": "http://new:3128", "backup": True}).run(task_vars={})
    assert reg.keys[SERVICE.lower()]["Environment"][1] != []
    make_action(rollback.ActionModule, reg, {}).run(task_vars={})
    # `data: []` would write nothing on a real host: the value is removed and created without data.
    assert reg.keys[SERVICE.lower()]["Environment"] == ("REG_MULTI_SZ", [])
    writes = [call["args"] for call in reg.calls if call["module"].endswith("win_regedit") and call["args"].get("name") == "Environment"]
    assert [args["state"] for args in writes[-2:]] == ["absent", "present"] and "data" not in writes[-1]


def test_a_change_only_in_letter_case_is_written(make_action) -> None:
    reg = FakeRegistry({SERVICE: {"Environment": ("REG_MULTI_SZ", ["https_proxy=http://u:Secret@p:1"])}})
    result = make_action(ssm_agent_proxy.ActionModule, reg, {"https_proxy": "http://p:1", "proxy_username": "u",
                                                             "proxy_password": "secret"}).run(task_vars={})
    assert result["changed"]
    assert reg.keys[SERVICE.lower()]["Environment"][1][0] == "https_proxy=http://u:secret@p:1"


RUN_A = {"id": "run-a", "owner": "AWX job 1", "started": "2026-12-01T20:00:00Z", "wants": "present http://a:1"}
RUN_B = {"id": "run-b", "owner": "ops with ansible-playbook", "started": "2026-12-01T20:00:05Z", "wants": "present http://b:1"}


def test_backups_are_per_run_and_a_younger_run_changes_nothing(make_action, monkeypatch) -> None:
    reg = host()
    result = make_action(ssm_agent_proxy.ActionModule, reg, {"proxy": "http://a:1", "backup": True, "run": {**RUN_A, "stale_after": 10 ** 9}}
                         ).run(task_vars={})
    assert result["backup"]["name"] == "ssm_agent_proxy@run-a"
    environment = reg.keys[SERVICE.lower()]["Environment"]
    message = failure(make_action(ssm_agent_proxy.ActionModule, reg,
                                  {"proxy": "http://b:1", "backup": True, "run": {**RUN_B, "stale_after": 10 ** 9}}).run(task_vars={}))
    assert "another run run-a (AWX job 1, started 2026-12-01T20:00:00Z" in message and "wanting present http://a:1" in message
    assert "nothing was changed" in message
    assert reg.keys[SERVICE.lower()]["Environment"] == environment and set(reg.keys[BACKUP_KEY.lower()]) == {"ssm_agent_proxy@run-a"}


def test_a_stale_run_no_longer_blocks_and_rollback_never_undoes_a_newer_change(make_action) -> None:
    reg = host()
    make_action(ssm_agent_proxy.ActionModule, reg, {"proxy": "http://a:1", "backup": True, "run": {**RUN_A, "stale_after": 1}}).run(task_vars={})
    # run-a died long ago: run-b goes on, with a backup of its own.
    result = make_action(ssm_agent_proxy.ActionModule, reg, {"proxy": "http://b:1", "backup": True, "run": {**RUN_B, "stale_after": 1}}
                         ).run(task_vars={})
    assert result["changed"] and set(reg.keys[BACKUP_KEY.lower()]) == {"ssm_agent_proxy@run-a", "ssm_agent_proxy@run-b"}
    after_b = reg.keys[SERVICE.lower()]["Environment"]
    # Rolling back run-a by hand leaves run-b's value alone, names it, and touches only run-a's backup.
    restored = make_action(rollback.ActionModule, reg, {"run_id": "run-a"}).run(task_vars={})
    assert restored["left_alone"] == [f"{SERVICE}\\Environment"] and restored["rewritten"] == []
    assert "left alone" in restored["warnings"][0]
    assert reg.keys[SERVICE.lower()]["Environment"] == after_b
    assert set(reg.keys[BACKUP_KEY.lower()]) == {"ssm_agent_proxy@run-b"}
    # run-b's own rollback puts back what was there before run-b, and removes the (now empty) backup key in one go.
    reg.calls.clear()
    make_action(rollback.ActionModule, reg, {"run_id": "run-b"}).run(task_vars={})
    assert any("http://a:1" in line for line in reg.keys[SERVICE.lower()]["Environment"][1])
    assert BACKUP_KEY.lower() not in reg.keys


def test_discarding_several_runs_takes_one_execution_and_leaves_the_others(make_action) -> None:
    """The role forgets its own run's backups and those stale runs left in one execution (run_id as a list)."""
    reg = host()
    for run in (RUN_A, RUN_B, {**RUN_B, "id": "run-c"}):
        make_action(ssm_agent_proxy.ActionModule, reg, {"proxy": f"http://{run['id']}:1", "backup": True, "run": {**run, "stale_after": 1}}
                    ).run(task_vars={})
    reg.calls.clear()
    result = make_action(rollback.ActionModule, reg, {"state": "discarded", "run_id": ["run-a", "run-c"]}).run(task_vars={})
    assert result["changed"] and result["discarded"] == ["ssm_agent_proxy"] and len(reg.calls) == 1
    assert set(reg.keys[BACKUP_KEY.lower()]) == {"ssm_agent_proxy@run-b"}
    # A single id is a list of one, as before.
    make_action(rollback.ActionModule, reg, {"state": "discarded", "run_id": "run-b"}).run(task_vars={})
    assert BACKUP_KEY.lower() not in reg.keys


def test_a_write_that_failed_is_not_taken_for_someone_elses_change(make_action) -> None:
    """The backup records what the module meant to write; a value the write never reached still holds the saved one."""
    reg = host()
    reg.denied.add((SERVICE.lower(), "Environment"))
    failure(make_action(ssm_agent_proxy.ActionModule, reg, {"proxy": "http://a:1", "backup": True, "run": RUN_A}).run(task_vars={}))
    reg.denied.clear()
    restored = make_action(rollback.ActionModule, reg, {"run_id": "run-a"}).run(task_vars={})
    assert restored["left_alone"] == [] and restored["restored"] == ["ssm_agent_proxy"] and restored["rewritten"] == []


def test_backup_without_a_password_leaves_the_key_alone(make_action) -> None:
    reg = FakeRegistry({SERVICE: {"Environment": ("REG_MULTI_SZ", ["FOO=bar"])}, NATIVE: {}, WOW64: {}})
    make_action(ssm_agent_proxy.ActionModule, reg, {"proxy": "http://new:3128", "backup": True}).run(task_vars={})
    assert modules(reg) == ["win_powershell", "win_regedit", "win_regedit"]  # one read, the backup, the change


def test_an_already_restricted_key_costs_nothing(make_action) -> None:
    reg = host()
    reg.keys[COLLECTION_KEY.lower()] = {}
    reg.acls[COLLECTION_KEY.lower()] = {"protected": True, "readers": ["S-1-5-18", "S-1-5-32-544"]}
    make_action(ssm_agent_proxy.ActionModule, reg, {"proxy": "http://new:3128", "backup": True}).run(task_vars={})
    assert modules(reg) == ["win_powershell", "win_regedit", "win_regedit"]


def test_a_key_that_cannot_be_restricted_gets_no_credential(make_action) -> None:
    reg = host()
    reg.acl_denied = True
    before = reg.snapshot()
    error = failure(make_action(ssm_agent_proxy.ActionModule, reg, {"proxy": "http://new:3128", "backup": True}).run(task_vars={}),
                    match=r"HKLM:\\SOFTWARE\\ssm\.proxy could not be restricted to SYSTEM and Administrators")
    assert "no backup holding a credential was written" in error and "old:pw" not in error
    after = reg.snapshot()
    assert after.pop(COLLECTION_KEY.lower()) == {}  # the empty key it created, nothing else
    assert after == before and BACKUP_KEY.lower() not in after
