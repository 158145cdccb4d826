# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filter ssm.proxy.fleet_report: one report of many ssm_agent_proxy_info results."""

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_report
author:
  - ssm.proxy maintainers (@ssm-proxy)
version_added: 0.1.0
short_description: Summarise ssm_agent_proxy_info results of a fleet as data and Markdown
description:
  - Takes a dict of host name to the registered result of M(ssm.proxy.ssm_agent_proxy_info) (a failed or unreachable
    result counts as such) and returns per-host rows, fleet counts and a Markdown rendering.
  - A host is compliant when its result has RV(ssm.proxy.ssm_agent_proxy_info#module:compliant) true (or, without
    C(desired), no C(error) finding) and no restart is pending.
  - Values come already redacted from the module; nothing here can show a credential.
positional: _input
options:
  _input:
    description: Host name to registered ssm_agent_proxy_info result.
    type: dict
    required: true
  title:
    description: The Markdown title.
    type: string
    default: SSM Agent proxy report
"""

EXAMPLES = r"""
- name: Build the report on the controller
  ansible.builtin.set_fact:
    report: "{{ dict(groups['windows'] | zip(groups['windows'] | map('extract', hostvars, 'proxy_info'))) | ssm.proxy.fleet_report }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: C(summary) (counts), C(hosts) (one row per host) and C(markdown).
  type: dict
"""

import typing as t
from collections import Counter
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def _row(host: str, result: t.Any) -> dict[str, t.Any]:
    if not isinstance(result, Mapping) or result.get("unreachable") or result.get("failed") or "effective" not in result:
        message = result.get("msg", "no result") if isinstance(result, Mapping) else "no result"
        return {"host": host, "status": "unreachable" if isinstance(result, Mapping) and result.get("unreachable") else "failed",
                "message": str(message), "findings": [], "effective": None, "effective_source": None}
    findings = list(result.get("findings") or [])
    compliant = result["compliant"] if "compliant" in result else not any(item.get("severity") == "error" for item in findings)
    if result.get("restart_pending"):
        compliant = False
    return {
        "host": host,
        "status": "compliant" if compliant else "non_compliant",
        "effective": result["effective"],
        "effective_source": result["effective_source"],
        "restart_pending": result.get("restart_pending"),
        "compliance": result.get("compliance"),
        "agent_version": (result.get("agent") or {}).get("version"),
        "findings": findings,
        "message": "",
    }


def _markdown(title: str, summary: dict[str, t.Any], rows: list[dict[str, t.Any]]) -> str:
    lines = [f"# {title}", "", f"{summary['hosts']} hosts: {summary['compliant']} compliant, {summary['non_compliant']} not compliant, "
             f"{summary['failed']} failed or unreachable.", ""]
    lines += ["| host | status | https_proxy | proxy from | bypass from | restart pending | findings |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        effective, source = row["effective"] or {}, row["effective_source"] or {}
        findings = ", ".join(sorted({item["code"] for item in row["findings"]})) or row["message"]
        lines.append(f"| {row['host']} | {row['status']} | {effective.get('https_proxy') or '(direct)' if effective else ''} | "
                     f"{source.get('proxy', '')} | {source.get('bypass', '')} | {row.get('restart_pending') or ''} | {findings.replace('|', '/')} |")
    if summary["findings"]:
        lines += ["", "| finding | hosts |", "|---|---|"] + [f"| {code} | {count} |" for code, count in summary["findings"].items()]
    return "\n".join(lines) + "\n"


def fleet_report(results: t.Any, title: str = "SSM Agent proxy report") -> dict[str, t.Any]:
    """Rows, counts and Markdown for a dict of host -> ssm_agent_proxy_info result."""
    if not isinstance(results, Mapping):
        raise AnsibleFilterError(f"fleet_report: expects a dict of host name to ssm_agent_proxy_info result, got {type(results).__name__}")
    rows = [_row(str(host), results[host]) for host in sorted(results)]
    statuses = Counter(row["status"] for row in rows)
    codes = Counter(code for row in rows for code in {item["code"] for item in row["findings"]})
    summary = {
        "hosts": len(rows),
        "compliant": statuses["compliant"],
        "non_compliant": statuses["non_compliant"],
        "failed": statuses["failed"] + statuses["unreachable"],
        "proxy_sources": dict(sorted(Counter((row["effective_source"] or {}).get("proxy", "unknown") for row in rows if row["effective"]).items())),
        "findings": dict(sorted(codes.items(), key=lambda item: (-item[1], item[0]))),
        # Hosts where accounts beyond SYSTEM and Administrators can read a stored proxy password (docs/security.md).
        "credentials_readable": codes["credentials_readable"],
    }
    return {"summary": summary, "hosts": rows, "markdown": _markdown(title, summary, rows)}


class FilterModule:
    """ssm.proxy filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"fleet_report": fleet_report}
