# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's per-host routes of ssm and s3, from ssm_agent_proxy_info's routes."""

from __future__ import annotations

from ansible_collections.ssm.proxy.plugins.filter.core import fleet_report
from ansible_collections.ssm.proxy.plugins.plugin_utils._diagnosis import diagnose
from ansible_collections.ssm.proxy.plugins.plugin_utils._routes import requested_endpoints


def info(lines: list[str], region: str | None) -> dict:
    return diagnose({"service_registry": lines}, endpoints=requested_endpoints(region, None))


def test_rows_show_the_ssm_and_s3_route() -> None:
    proxied = info(["https_proxy=http://p:3128", "no_proxy=169.254.169.254,s3.eu-west-1.amazonaws.com"], "eu-west-1")
    rows = {row["host"]: row for row in fleet_report({"a": proxied, "b": info([], None)})["hosts"]}
    assert rows["a"]["ssm_route"] == {"url": "https://ssm.eu-west-1.amazonaws.com", "proxy": "http://p:3128", "matched": None}
    assert rows["a"]["s3_route"] == {"url": "https://s3.eu-west-1.amazonaws.com", "proxy": "", "matched": "s3.eu-west-1.amazonaws.com"}
    assert rows["b"]["ssm_route"] is None and rows["b"]["s3_route"] is None
