# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report says what it measured: no_target without wanted settings, direct traffic, intended shadowing as a note."""

from __future__ import annotations

import json
import pathlib

import pytest

from .conftest import ROOT, output

pytestmark = pytest.mark.integration

PROXY = "http://proxy.example.com:3128"
CONFIGURE = ROOT / "playbooks" / "configure.yml"
REPORT = ROOT / "playbooks" / "report.yml"


def report(fleet, directory: pathlib.Path, *extra: str) -> dict:
    result = fleet.run(REPORT, "-e", f"ssm_proxy_report_dir={directory}", *extra)
    assert result.returncode == 0, output(result)
    return json.loads((directory / "report.json").read_text(encoding="utf-8"))


def test_report_without_and_with_wanted_settings(sim_fleet, tmp_path: pathlib.Path) -> None:
    fleet = sim_fleet({"configured": "server2022", "bare": "server2022"})
    configured = fleet.run(CONFIGURE, "-e", f"ssm_proxy_url={PROXY}", "--limit", "configured")
    assert configured.returncode == 0, output(configured)

    measured = report(fleet, tmp_path / "measured")
    rows = {row["host"]: row for row in measured["hosts"]}
    assert {host: row["status"] for host, row in rows.items()} == {"configured": "no_target", "bare": "no_target"}
    assert rows["bare"]["ssm_direct"] is True and rows["configured"]["ssm_direct"] is False
    assert measured["summary"]["compliant"] == 0 and measured["summary"]["ssm_direct"] == 1
    # The role's own layout: the agent's proxy above the same proxy in WinINet and WinHTTP.
    assert "shadowed" in {note["code"] for note in rows["configured"]["notes"]}
    assert rows["configured"]["findings"] == []
    markdown = (tmp_path / "measured" / "report.md").read_text(encoding="utf-8")
    assert f"- HTTPS proxy the agent uses: {PROXY} (from service_registry)" in markdown
    assert "    bare: no_target; SSM Agent HTTPS proxy none (from none); Systems Manager traffic goes direct" in markdown

    wanted = report(fleet, tmp_path / "wanted", "-e", f"ssm_proxy_url={PROXY}")
    rows = {row["host"]: row for row in wanted["hosts"]}
    assert rows["configured"]["status"] == "compliant" and rows["bare"]["status"] == "non_compliant"
    assert "shadowed" not in wanted["summary"]["findings"]
