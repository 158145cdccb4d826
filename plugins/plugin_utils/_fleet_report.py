# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One report of many ssm_agent_proxy_info results: rows, counts and Markdown (the filter ssm.proxy.fleet_report).

Private to the ssm.proxy collection (internal use): no compatibility promises. In plugin_utils rather than in the
filter file, which ansible-core loads in every worker process that uses any ssm.proxy filter.
"""

from __future__ import annotations

import typing as t
from collections import Counter
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


# Severities that make a finding a problem; "info" findings (shadowed, local_macro_ignored, ...) are notes.
PROBLEM_SEVERITIES = ("error", "warning")


def _ssm_direct(effective: Mapping[str, t.Any]) -> bool:
    """Whether the agent's Systems Manager traffic (HTTPS to *.amazonaws.com) bypasses the proxy.

    Go's net/http uses only https_proxy for HTTPS (never http_proxy), and no_proxy "*" or a domain entry covering
    amazonaws.com (Go strips a leading "*." and ".") sends the endpoints direct (spec/agent-proxy.md section 3).
    """
    if not effective.get("https_proxy"):
        return True
    entries = [entry.strip().lower() for entry in str(effective.get("no_proxy") or "").split(",") if entry.strip()]
    return any(entry == "*" or entry.removeprefix("*").lstrip(".") == "amazonaws.com" for entry in entries)


def _status(result: Mapping[str, t.Any]) -> str:
    if "compliant" not in result:
        return "no_target"
    return "compliant" if result["compliant"] and not result.get("restart_pending") else "non_compliant"


def _host_summary(row: Mapping[str, t.Any]) -> str:
    """One line an operator can paste into a ticket: host, status, what the agent uses for HTTPS, problem codes."""
    if row["effective"] is None:
        return f"{row['host']}: {row['status']} ({row['message']})"
    source = (row["effective_source"] or {}).get("proxy") or "none"
    https = row["effective"].get("https_proxy") or "none"
    parts = [f"{row['host']}: {row['status']}", f"SSM Agent HTTPS proxy {https} (from {source})"]
    if row["ssm_direct"]:
        parts.append("Systems Manager traffic goes direct")
    if row.get("restart_pending"):
        parts.append("restart pending")
    codes = sorted({item["code"] for item in row["findings"]})
    parts.append(f"findings: {', '.join(codes)}" if codes else "no problem found")
    if row.get("agent_version"):
        parts.append(f"agent {row['agent_version']}")
    return "; ".join(parts)


def _row(host: str, result: t.Any) -> dict[str, t.Any]:
    if not isinstance(result, Mapping) or result.get("unreachable") or result.get("failed") or "effective" not in result:
        message = result.get("msg", "no result") if isinstance(result, Mapping) else "no result"
        row = {"host": host, "status": "unreachable" if isinstance(result, Mapping) and result.get("unreachable") else "failed",
               "message": str(message), "findings": [], "notes": [], "effective": None, "effective_source": None, "ssm_direct": None}
        return {**row, "summary": _host_summary(row)}
    findings = list(result.get("findings") or [])
    row = {
        "host": host,
        "status": _status(result),
        "ssm_direct": _ssm_direct(result["effective"]),
        "effective": result["effective"],
        "effective_source": result["effective_source"],
        "restart_pending": result.get("restart_pending"),
        "compliance": result.get("compliance"),
        "agent_version": (result.get("agent") or {}).get("version"),
        "ssm_route": _route(result, "ssm"),
        "s3_route": _route(result, "s3"),
        "findings": [item for item in findings if item.get("severity") in PROBLEM_SEVERITIES],
        "notes": [item for item in findings if item.get("severity") not in PROBLEM_SEVERITIES],
        "message": "",
    }
    return {**row, "summary": _host_summary(row)}


def _cell(text: t.Any) -> str:
    return str(text).replace("|", "/").replace("\n", " ")


def _host_section(row: Mapping[str, t.Any]) -> list[str]:
    effective, source = row["effective"] or {}, row["effective_source"] or {}
    lines = ["", f"## {row['host']}", ""]
    if row["effective"] is None:
        return lines + [f"- status: {row['status']}: {row['message']}", "", f"    {row['summary']}"]
    lines += [f"- status: {row['status']}",
              f"- HTTPS proxy the agent uses: {effective.get('https_proxy') or 'none (direct)'} (from {source.get('proxy') or 'none'}); "
              f"no_proxy: {effective.get('no_proxy') or 'none'} (from {source.get('bypass') or 'none'})"]
    lines += [f"- {item['severity']} `{item['code']}`: {item['message']}" for item in row["findings"]] or ["- no problem found"]
    lines += [f"- note `{item['code']}`: {item['message']}" for item in row["notes"]]
    return lines + ["", "Summary for a ticket:", "", f"    {row['summary']}"]


def _route(result: Mapping[str, t.Any], name: str) -> dict[str, t.Any] | None:
    """The host's route of one agent endpoint ({url, proxy, matched}; proxy '' = direct), None without ``region``."""
    for route in result.get("routes") or []:
        if route.get("name") == name:
            return {key: route.get(key) for key in ("url", "proxy", "matched")}
    return None


def _markdown(title: str, summary: dict[str, t.Any], rows: list[dict[str, t.Any]]) -> str:
    lines = [f"# {title}", "", f"{summary['hosts']} hosts: {summary['compliant']} compliant, {summary['non_compliant']} not compliant, "
             f"{summary['no_target']} without wanted settings, {summary['failed']} failed or unreachable; "
             f"{summary['ssm_direct']} send Systems Manager traffic direct.", ""]
    lines += ["| host | status | https_proxy | proxy from | bypass from | SSM direct | restart pending | findings | notes |",
              "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        effective, source = row["effective"] or {}, row["effective_source"] or {}
        findings = ", ".join(sorted({item["code"] for item in row["findings"]})) or row["message"]
        notes = ", ".join(sorted({item["code"] for item in row["notes"]}))
        https = (effective.get("https_proxy") or "(direct)") if effective else ""
        direct = "" if row["ssm_direct"] is None else ("yes" if row["ssm_direct"] else "no")
        lines.append(f"| {row['host']} | {row['status']} | {_cell(https)} | {source.get('proxy', '')} | {source.get('bypass', '')} | "
                     f"{direct} | {row.get('restart_pending') or ''} | {_cell(findings)} | {notes} |")
    if summary["findings"]:
        lines += ["", "| finding | hosts |", "|---|---|"] + [f"| {code} | {count} |" for code, count in summary["findings"].items()]
    for row in rows:
        lines += _host_section(row)
    return "\n".join(lines) + "\n"


def _counts(rows: list[dict[str, t.Any]], key: str) -> dict[str, int]:
    codes = Counter(code for row in rows for code in {item["code"] for item in row[key]})
    return dict(sorted(codes.items(), key=lambda item: (-item[1], item[0])))


def fleet_report(results: t.Any, title: str = "SSM Agent proxy report") -> dict[str, t.Any]:
    """Rows, counts and Markdown for a dict of host -> ssm_agent_proxy_info result."""
    if not isinstance(results, Mapping):
        raise AnsibleFilterError(f"fleet_report: expects a dict of host name to ssm_agent_proxy_info result, got {type(results).__name__}")
    rows = [_row(str(host), results[host]) for host in sorted(results)]
    statuses = Counter(row["status"] for row in rows)
    summary = {
        "hosts": len(rows),
        "compliant": statuses["compliant"],
        "non_compliant": statuses["non_compliant"],
        "no_target": statuses["no_target"],
        "failed": statuses["failed"] + statuses["unreachable"],
        "ssm_direct": sum(1 for row in rows if row["ssm_direct"]),
        "proxy_sources": dict(sorted(Counter((row["effective_source"] or {}).get("proxy", "unknown") for row in rows if row["effective"]).items())),
        "findings": _counts(rows, "findings"),
        "notes": _counts(rows, "notes"),
        # Hosts where accounts beyond SYSTEM and Administrators can read a stored proxy password (docs/security.md).
        "credentials_readable": sum(1 for row in rows if any(item["code"] == "credentials_readable" for item in row["findings"] + row["notes"])),
    }
    return {"summary": summary, "hosts": rows, "markdown": _markdown(title, summary, rows)}
