# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ssm.proxy.proxy_settings: the settings modules over the plan's read, written in one execution."""

from __future__ import annotations

import json
import os
import pathlib
import stat

from ansible import constants as C
from ansible_collections.ssm.proxy.plugins.action import proxy_settings, ssm_agent_proxy_info
from ansible_collections.ssm.proxy.plugins.action.ssm_agent_proxy_info import MACHINE_CONNECTIONS_KEY, SERVICE_KEY
from ansible_collections.ssm.proxy.plugins.plugin_utils._backup import BACKUP_KEY

from .conftest import FakeRegistry, failure
from .test_ssm_agent_proxy_info import host

PROXY = "http://svc:Top-Secret@proxy.corp:3128"
AGENT = {"proxy": PROXY, "no_proxy": [".corp.example.com"]}
WINHTTP = {"proxy": {"http": "proxy.corp:3128", "https": "proxy.corp:3128"}, "bypass": ["*.corp.example.com"]}
WININET = {"proxy": {"http": "proxy.corp:3128", "https": "proxy.corp:3128"}, "bypass": ["*.corp.example.com"], "scope": "local_system"}
RUN = {"id": "20261201T000000-1", "owner": "tests", "started": "2026-12-01T00:00:00Z"}
TASK_VARS = {"inventory_hostname": "web1"}


def plan(make_action, registry: FakeRegistry, check_mode: bool = False) -> dict:
    desired = {"ssm_agent_proxy": AGENT, "wininet_proxy": WININET, "winhttp_proxy": WINHTTP}
    return make_action(ssm_agent_proxy_info.ActionModule, registry, {"desired": desired}, check_mode=check_mode).run(task_vars=TASK_VARS)


def apply(make_action, registry: FakeRegistry, check_mode: bool = False, **args) -> dict:
    options = {"ssm_agent_proxy": AGENT, "wininet_proxy": WININET, "winhttp_proxy": WINHTTP, "backup": True, "run": RUN, **args}
    return make_action(proxy_settings.ActionModule, registry, options, check_mode=check_mode, diff=True).run(task_vars=TASK_VARS)


def snapshot_file(token: str) -> pathlib.Path:
    return pathlib.Path(C.DEFAULT_LOCAL_TMP) / "ssm.proxy-reads" / f"{token}.json"


def test_over_the_plan_read_everything_is_one_execution(make_action) -> None:
    registry = host()
    planned = plan(make_action, registry)
    assert not planned["compliant"] and len(registry.calls) == 1
    kept = snapshot_file(planned["snapshot"])
    # The read stays on the controller, for its user only, and the token is all the result holds.
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    assert PROXY not in json.dumps(planned)

    result = apply(make_action, registry, snapshot=planned["snapshot"])
    assert [call["module"] for call in registry.calls[1:]] == ["ansible.windows.win_powershell"]
    assert "# ssm.proxy script: write_values" in registry.calls[1]["args"]["script"] and registry.calls[1]["no_log"]
    assert result["changed"] and result["restart_required"] and result["reused_read"] and result["executions"] == 1
    assert set(result["results"]) == {"ssm_agent_proxy", "wininet_proxy", "winhttp_proxy"}
    assert [diff["before_header"] for diff in result["diff"]][0].endswith("AmazonSSMAgent\\Environment") and len(result["diff"]) == 3
    assert "Top-Secret" not in json.dumps(result)
    assert any("Top-Secret" in line for line in registry.keys[SERVICE_KEY.lower()]["Environment"][1])
    # Backups first, one per component and run; the read is forgotten once the host changed.
    assert sorted(registry.keys[BACKUP_KEY.lower()]) == [f"{name}@{RUN['id']}" for name in ("ssm_agent_proxy", "winhttp_proxy", "wininet_proxy")]
    assert not kept.exists()
    # Nothing left to do: a fresh plan says so.
    assert plan(make_action, registry)["compliance"] == {"ssm_agent_proxy": True, "wininet_proxy": True, "winhttp_proxy": True}


def test_check_mode_over_the_plan_read_sends_nothing(make_action) -> None:
    registry = host()
    before = registry.snapshot()
    planned = plan(make_action, registry, check_mode=True)
    result = apply(make_action, registry, check_mode=True, snapshot=planned["snapshot"])
    assert len(registry.calls) == 1 and registry.snapshot() == before
    assert result["changed"] and result["executions"] == 0 and len(result["diff"]) == 3
    # The same diffs as the run that writes.
    written = apply(make_action, registry, snapshot=planned["snapshot"])
    assert written["diff"] == result["diff"]


def test_without_a_snapshot_it_reads_once_itself(make_action) -> None:
    registry = host()
    result = apply(make_action, registry)
    assert [call["args"]["script"].splitlines()[1] for call in registry.calls] == ["# ssm.proxy script: read_state", "# ssm.proxy script: write_values"]
    assert result["reused_read"] is False and result["executions"] == 2
    # A token whose read is gone (another ansible-playbook process) is read again, not trusted.
    registry.calls.clear()
    assert apply(make_action, registry, snapshot="0" * 32)["executions"] == 1  # nothing left to write: the read only


def test_a_value_changed_since_the_read_is_not_overwritten(make_action) -> None:
    registry = host()
    planned = plan(make_action, registry)
    registry.keys[SERVICE_KEY.lower()]["Environment"] = ("REG_MULTI_SZ", ["AWS_REGION=eu-west-1"])  # written by someone else meanwhile
    before = registry.snapshot()
    message = failure(apply(make_action, registry, snapshot=planned["snapshot"]))
    assert f"{SERVICE_KEY}\\Environment changed since the host was read" in message and "nothing was changed" in message
    assert "on_change=reread" in message and "AWS_REGION" not in message
    assert registry.snapshot() == before
    # Asked to, it reads again and keeps the new line.
    result = apply(make_action, registry, snapshot=planned["snapshot"], on_change="reread")
    assert result["changed"] and result["reused_read"] is False
    assert registry.keys[SERVICE_KEY.lower()]["Environment"][1][0] == "AWS_REGION=eu-west-1"


def test_a_run_that_started_since_the_read_always_stops_it(make_action) -> None:
    registry = host()
    planned = plan(make_action, registry)
    other = json.dumps({"format": 2, "values": [], "run": {"id": "other", "owner": "AWX job 7", "started": "2026-12-01T00:00:01Z", "wants": ""}})
    registry.keys[BACKUP_KEY.lower()] = {"winhttp_proxy@other": ("REG_SZ", other)}
    for on_change in ("fail", "reread"):
        failure(apply(make_action, registry, snapshot=planned["snapshot"], on_change=on_change),
                match=r"winhttp_proxy@other marks another run .* Another run is changing this host")
    assert registry.keys[SERVICE_KEY.lower()].get("Environment") is None


def test_a_refused_write_names_what_went_through(make_action) -> None:
    registry = host()
    registry.denied.add((MACHINE_CONNECTIONS_KEY.lower(), "WinHttpSettings"))
    planned = plan(make_action, registry)
    message = failure(apply(make_action, registry, snapshot=planned["snapshot"]))
    assert f"Windows refused to write {MACHINE_CONNECTIONS_KEY}\\WinHttpSettings: Attempted to perform an unauthorized operation." in message
    assert "Written before it: ssm_agent_proxy, wininet_proxy (in part)." in message and "ssm.proxy.rollback" in message
    assert "Top-Secret" not in message
    assert f"winhttp_proxy@{RUN['id']}" in registry.keys[BACKUP_KEY.lower()]  # saved before the refused write


def test_a_snapshot_of_another_host_and_bad_options_are_refused(make_action) -> None:
    registry = host()
    planned = plan(make_action, registry)
    action = make_action(proxy_settings.ActionModule, registry, {"winhttp_proxy": WINHTTP, "snapshot": planned["snapshot"]})
    failure(action.run(task_vars={"inventory_hostname": "web2"}), match="returned for host 'web1', not 'web2'")
    failure(apply(make_action, registry, wininet_proxy={"proxy": "x", "bogus": 1}), match="^wininet_proxy: ")
    failure(make_action(proxy_settings.ActionModule, registry, {}).run(task_vars=TASK_VARS), match="at least one of")
    assert len(registry.calls) == 1


def test_the_kept_read_holds_no_saved_values(make_action) -> None:
    registry = host()
    saved = json.dumps({"format": 2, "values": [{"path": SERVICE_KEY, "name": "Environment", "exists": True, "type": "REG_MULTI_SZ",
                                                 "data": ["https_proxy=http://u:0ld-Secret@old:3128"]}],
                        "run": {"id": "dead", "owner": "o", "started": "2020-01-01T00:00:00Z", "wants": "w"}})
    registry.keys[BACKUP_KEY.lower()] = {"ssm_agent_proxy@dead": ("REG_SZ", saved)}
    planned = plan(make_action, registry)
    text = snapshot_file(planned["snapshot"]).read_text(encoding="utf-8")
    assert "0ld-Secret" not in text and "dead" in text
    assert os.stat(snapshot_file(planned["snapshot"])).st_uid == os.getuid()


PREFLIGHT = {"proxy": "http://proxy.corp:3128", "username": "svc", "password": "Top-Secret", "region": "eu-west-1"}


def test_the_preflight_runs_first_and_a_passing_one_lets_the_write_go(make_action) -> None:
    registry = host()
    result = apply(make_action, registry, preflight=PREFLIGHT)
    scripts = [next(line for line in call["args"]["script"].splitlines() if "ssm.proxy script:" in line) for call in registry.calls]
    assert scripts[0] == "# ssm.proxy script: preflight" and scripts[-1] == "# ssm.proxy script: write_values"
    first = registry.calls[0]
    # The credential goes as a PSCredential, with no_log; the default services, S3 included, are requested.
    assert first["no_log"] and first["args"]["sensitive_parameters"] == [{"name": "ProxyCredential", "username": "svc", "password": "Top-Secret"}]
    assert first["args"]["parameters"] == {"Proxy": "http://proxy.corp:3128", "Region": "eu-west-1",
                                           "Services": ["ssm", "ec2messages", "ssmmessages", "s3"], "TimeoutSeconds": 10}
    assert result["changed"] and result["preflight"]["passed"] and result["preflight"]["unreachable"] == []
    assert "warnings" not in result and "Top-Secret" not in json.dumps(result)


def test_a_required_endpoint_out_of_reach_writes_nothing_and_fails_with_the_report(make_action) -> None:
    registry = host()
    registry.unreachable = {"ssmmessages": "connect_refused"}
    before = registry.snapshot()
    result = apply(make_action, registry, preflight=PREFLIGHT)
    failure(result, match="Pre-flight failed, from the host through http://proxy.corp:3128, region eu-west-1 \\(from preflight.region\\): "
                          "ssmmessages https://ssmmessages.eu-west-1.amazonaws.com/: connect refused: the proxy refused CONNECT")
    assert result["msg"].endswith("Nothing was written.")
    assert registry.snapshot() == before and len(registry.calls) == 1
    assert result["preflight"]["blocking"] == ["ssmmessages"] and not result["preflight"]["passed"]
    assert not result["changed"] and "Top-Secret" not in json.dumps(result)


def test_an_endpoint_that_is_not_required_is_a_warning(make_action) -> None:
    registry = host()
    registry.unreachable = {"s3": "connect_refused"}
    result = apply(make_action, registry, preflight=PREFLIGHT)
    assert result["changed"] and result["preflight"]["passed"] and result["preflight"]["unreachable"] == ["s3"]
    assert result["warnings"][0].startswith("Pre-flight passed with warnings, from the host through http://proxy.corp:3128")
    assert "s3 https://s3.eu-west-1.amazonaws.com/ (warning only): connect refused" in result["warnings"][0]
    # Required, it blocks.
    registry = host()
    registry.unreachable = {"s3": "connect_refused"}
    required = apply(make_action, registry, preflight={**PREFLIGHT, "required": ["ssm", "s3"]})
    failure(required, match="Pre-flight failed")
    assert required["preflight"]["blocking"] == ["s3"]


def test_a_script_that_throws_writes_nothing_and_says_why(make_action) -> None:
    registry = host()
    registry.preflight_error = "Region '' could not be read from instance metadata: the request timed out."
    before = registry.snapshot()
    result = apply(make_action, registry, preflight={**PREFLIGHT, "region": ""})
    failure(result, match="^Pre-flight failed: Region '' could not be read from instance metadata: the request timed out. Nothing was written.$")
    assert result["preflight"]["error"].startswith("Region ''") and registry.snapshot() == before


def test_check_mode_probes_nothing(make_action) -> None:
    registry = host()
    planned = plan(make_action, registry, check_mode=True)
    result = apply(make_action, registry, check_mode=True, snapshot=planned["snapshot"], preflight=PREFLIGHT)
    assert len(registry.calls) == 1 and result["executions"] == 0 and "preflight" not in result


def test_the_preflight_proxy_is_required_and_its_password_never_shown(make_action) -> None:
    registry = host()
    failure(apply(make_action, registry, preflight={"region": "eu-west-1"}), match="proxy")
    registry.preflight_error = "bad"
    result = apply(make_action, registry, preflight={**PREFLIGHT, "proxy": "http://svc:Top-Secret@proxy.corp:3128"})
    assert "Top-Secret" not in json.dumps(result)


ACL_CALLS = [("ansible.windows.win_acl", "S-1-5-18"), ("ansible.windows.win_acl", "S-1-5-32-544"), ("ansible.windows.win_acl_inheritance", None)]


def acl_calls(registry: FakeRegistry) -> list[tuple[str, str | None]]:
    return [(call["module"], call["args"].get("user")) for call in registry.calls if "win_acl" in call["module"]]


def test_restrict_acl_restricts_the_service_key_after_the_writes_in_the_same_task(make_action) -> None:
    registry = host()
    planned = plan(make_action, registry)
    result = apply(make_action, registry, snapshot=planned["snapshot"], restrict_acl=True)
    # The writes first (a write that fails leaves the ACL alone), then SYSTEM and Administrators, then inheritance off.
    assert [call["module"] for call in registry.calls[1:]][0] == "ansible.windows.win_powershell" and acl_calls(registry) == ACL_CALLS
    inheritance = registry.calls[-1]["args"]
    assert inheritance == {"path": SERVICE_KEY, "state": "absent", "reorganize": False}
    assert result["acl"] == {"path": SERVICE_KEY, "changed": True, "granted": ["S-1-5-18", "S-1-5-32-544"], "protected": True}
    assert result["changed"] and result["executions"] == 4
    acl_diff = result["diff"][-1]
    assert acl_diff["before_header"] == f"{SERVICE_KEY} (ACL)" and "inherits from HKLM\\SYSTEM: yes" in acl_diff["before"]
    assert "S-1-5-32-545" in acl_diff["before"] and "S-1-5-32-545" not in acl_diff["after"]
    # The next plan's read sees the key restricted: nothing is sent for it again.
    planned = plan(make_action, registry)
    assert planned["acl"]["service_key"]["restricted"], planned["acl"]
    registry.calls.clear()
    again = apply(make_action, registry, restrict_acl=True)
    assert acl_calls(registry) == [] and again["acl"]["changed"] is False and not again["changed"]


def test_restrict_acl_alone_costs_the_acl_modules_only_and_check_mode_one_read(make_action) -> None:
    registry = host()
    alone = {"ssm_agent_proxy": None, "wininet_proxy": None, "winhttp_proxy": None, "restrict_acl": True}
    # Check mode: one read tells whether the key is restricted; nothing is changed, and the diff is the one a run shows.
    checked = apply(make_action, registry, check_mode=True, **alone)
    assert [call["module"] for call in registry.calls] == ["ansible.windows.win_powershell"] and registry.acls == {}
    assert checked["changed"] and checked["acl"]["changed"] and checked["acl"]["granted"] == [] and checked["executions"] == 1
    registry.calls.clear()
    # No component: no read (win_acl and win_acl_inheritance decide themselves) and no pre-flight (no proxy changes).
    result = apply(make_action, registry, preflight=PREFLIGHT, **alone)
    assert acl_calls(registry) == ACL_CALLS and len(registry.calls) == 3 and "preflight" not in result
    assert result["changed"] and result["results"] == {} and not result["restart_required"] and result["diff"][0]["before"] == "(not read)\n"
    assert checked["diff"][0]["after"] == result["diff"][0]["after"]
    registry.calls.clear()
    again = apply(make_action, registry, **alone)
    assert len(registry.calls) == 3 and not again["changed"] and again["acl"] == {**result["acl"], "changed": False, "granted": [], "protected": False}


def test_a_refused_restriction_fails_the_task_naming_what_was_written(make_action) -> None:
    registry = host()
    registry.acl_denied = True
    planned = plan(make_action, registry)
    result = apply(make_action, registry, snapshot=planned["snapshot"], restrict_acl=True)
    message = failure(result, match=f"^{SERVICE_KEY.replace(chr(92), chr(92) * 2)} could not be restricted to SYSTEM and Administrators: "
                                    "ansible.windows.win_acl failed on the host")
    assert message.endswith("Written before it: ssm_agent_proxy, wininet_proxy, winhttp_proxy.")
    assert result["acl"]["failed"] and result["acl"]["granted"] == [] and not result["acl"]["protected"]
    # What the role undoes and restarts over is still there: the writes and their backups.
    assert result["restart_required"] and result["backup"]["saved"] and "Top-Secret" not in json.dumps(result)


def test_a_write_that_fails_leaves_the_acl_alone(make_action) -> None:
    registry = host()
    planned = plan(make_action, registry)
    registry.keys[SERVICE_KEY.lower()]["Environment"] = ("REG_MULTI_SZ", ["AWS_REGION=eu-west-1"])
    failure(apply(make_action, registry, snapshot=planned["snapshot"], restrict_acl=True), match="changed since the host was read")
    assert acl_calls(registry) == [] and registry.acls == {}


def test_the_acl_diff_keeps_the_readers_of_explicit_rules(make_action) -> None:
    """A key that no longer inherits but names another reader itself: the grants are added, that reader stays."""
    registry = host()
    registry.acls[SERVICE_KEY.lower()] = {"protected": True, "readers": ["S-1-5-32-545"], "explicit": ["S-1-5-32-545"]}
    result = apply(make_action, registry, ssm_agent_proxy=None, wininet_proxy=None, winhttp_proxy=None, restrict_acl=True,
                   check_mode=True)
    assert result["acl"]["changed"] and result["diff"][0]["before"] == "inherits from HKLM\\SYSTEM: no\nreaders: S-1-5-32-545\n"
    assert result["diff"][0]["after"] == "inherits from HKLM\\SYSTEM: no\nreaders: NT AUTHORITY\\SYSTEM, BUILTIN\\Administrators, S-1-5-32-545\n"
    written = apply(make_action, registry, ssm_agent_proxy=None, wininet_proxy=None, winhttp_proxy=None, restrict_acl=True)
    assert written["acl"] == {"path": SERVICE_KEY, "changed": True, "granted": ["S-1-5-18", "S-1-5-32-544"], "protected": False}
