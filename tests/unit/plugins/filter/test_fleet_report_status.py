# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleet_report: what was measured (no_target without wanted settings), direct traffic, problems against notes."""

from __future__ import annotations

import pytest

from ansible_collections.ssm.proxy.plugins.filter.core import fleet_report

PROXY = "http://proxy.example.com:3128"
SHADOWED = {"code": "shadowed", "severity": "info", "message": "Not used by the agent: the proxy in the WinHTTP default proxy; ..."}
DIRECT = {"code": "https_direct", "severity": "error", "message": "https_proxy is empty, ..."}


def info(https: str = PROXY, no_proxy: str = "169.254.169.254", source: str = "service_registry", **extra) -> dict:
    return {"effective": {"http_proxy": https, "https_proxy": https, "no_proxy": no_proxy},
            "effective_source": {"proxy": source if https else "none", "bypass": source},
            "restart_pending": False, "findings": [], "agent": {"version": "3.3.987.0"}, **extra}


def test_without_wanted_settings_no_host_is_compliant_and_direct_ones_are_flagged() -> None:
    report = fleet_report({"bare": info(https="", no_proxy="", source="none"), "set": info()})
    rows = {row["host"]: row for row in report["hosts"]}
    assert [rows["bare"]["status"], rows["set"]["status"]] == ["no_target", "no_target"]
    assert rows["bare"]["ssm_direct"] is True and rows["set"]["ssm_direct"] is False
    summary = report["summary"]
    assert (summary["compliant"], summary["non_compliant"], summary["no_target"], summary["ssm_direct"]) == (0, 0, 2, 1)
    assert "Systems Manager traffic goes direct" in rows["bare"]["summary"]
    assert rows["set"]["summary"] == (f"set: no_target; SSM Agent HTTPS proxy {PROXY} (from service_registry); no problem found; "
                                      "agent 3.3.987.0")


def test_intended_shadowing_is_a_note_not_a_problem() -> None:
    report = fleet_report({"done": info(compliant=True, compliance={"ssm_agent_proxy": True}, findings=[SHADOWED])})
    (row,) = report["hosts"]
    assert row["status"] == "compliant" and row["findings"] == [] and row["notes"] == [SHADOWED]
    assert report["summary"]["findings"] == {} and report["summary"]["notes"] == {"shadowed": 1}
    assert "no problem found" in row["summary"]


def test_problems_and_a_pending_restart_make_a_host_non_compliant() -> None:
    report = fleet_report({"netsh": info(https="", source="winhttp", compliant=True, findings=[DIRECT, SHADOWED], restart_pending=True)})
    (row,) = report["hosts"]
    assert row["status"] == "non_compliant" and row["findings"] == [DIRECT]
    assert report["summary"]["findings"] == {"https_direct": 1}
    assert row["summary"] == ("netsh: non_compliant; SSM Agent HTTPS proxy none (from none); Systems Manager traffic goes direct; "
                              "restart pending; findings: https_direct; agent 3.3.987.0")


@pytest.mark.parametrize(
    ("no_proxy", "direct"),
    [("*", True), (".amazonaws.com", True), ("amazonaws.com", True), ("*.amazonaws.com", True), ("10.0.0.0/8, AmazonAWS.com", True),
     ("s3.amazonaws.com", False), ("169.254.169.254,.corp.example.com", False), ("", False)],
)
def test_a_no_proxy_covering_the_endpoints_sends_them_direct(no_proxy: str, direct: bool) -> None:
    (row,) = fleet_report({"h": info(no_proxy=no_proxy)})["hosts"]
    assert row["ssm_direct"] is direct


def test_markdown_has_a_section_per_host_with_the_ticket_line() -> None:
    report = fleet_report({"netsh": info(https="", source="winhttp", findings=[DIRECT]), "gone": {"unreachable": True, "msg": "timed out"}})
    markdown = report["markdown"]
    assert "2 hosts: 0 compliant, 0 not compliant, 1 without wanted settings, 1 failed or unreachable; 1 send Systems Manager traffic direct." in markdown
    assert "## netsh" in markdown and "- HTTPS proxy the agent uses: none (direct) (from none)" in markdown
    assert "- error `https_direct`: https_proxy is empty, ..." in markdown
    for row in report["hosts"]:
        assert f"    {row['summary']}" in markdown
    assert "gone: unreachable (timed out)" in markdown
