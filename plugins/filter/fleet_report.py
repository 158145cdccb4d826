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
  - With C(desired), a host is C(compliant) when its result has RV(ssm.proxy.ssm_agent_proxy_info#module:compliant)
    true and no restart is pending, else C(non_compliant). Without C(desired) there is nothing to comply with, so the host
    is C(no_target), and the report says what the agent uses and where it comes from.
  - Every row says whether the agent sends Systems Manager traffic direct (C(ssm_direct)), with or without C(desired);
    no C(https_proxy) (Go never uses C(http_proxy) for HTTPS), or a C(no_proxy) that covers C(*.amazonaws.com).
  - Findings of severity C(error) and C(warning) are problems; C(info) findings (such as C(shadowed), which the role
    itself causes by giving the agent its own proxy above WinINet and WinHTTP) are listed as notes and counted apart.
  - The Markdown has a table and, per host, the proxy the agent uses for HTTPS, its findings and a one-line summary
    (RV(hosts[].summary)) to paste into a ticket.
  - Values come already redacted from the module; nothing here can show a credential.
  - Each host row holds C(ssm_route) and C(s3_route), the module's RV(ssm.proxy.ssm_agent_proxy_info#module:routes) entry
    for those endpoints (C(proxy) empty for direct), or null when the module ran without C(region).
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
- name: Read what each agent uses
  ssm.proxy.ssm_agent_proxy_info:
  register: proxy_info

- name: Build the report on the controller
  ansible.builtin.set_fact:
    report: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'proxy_info'))) | ssm.proxy.fleet_report }}"
  run_once: true

- name: One line per host, to paste into a ticket
  ansible.builtin.debug:
    msg: "{{ report.hosts | map(attribute='summary') | list }}"
  run_once: true
"""

RETURN = r"""
_value:
  description:
    - C(summary) (counts; C(findings) counts problem codes, C(notes) informational ones, C(ssm_direct) the hosts that
      send Systems Manager traffic direct), C(hosts) (one row per host) and C(markdown).
    - Each row has C(host), C(status) (C(compliant), C(non_compliant), C(no_target), C(failed), C(unreachable)),
      C(ssm_direct), C(effective), C(effective_source), C(findings) (problems), C(notes) (info findings) and C(summary).
  type: dict
"""

import typing as t


def fleet_report(
    results: t.Any, title: str = "SSM Agent proxy report",
) -> dict[str, t.Any]:
    """Rows, counts and Markdown for a dict of host -> ssm_agent_proxy_info result."""
    # Imported when called: ansible-core loads every ssm.proxy filter file in each worker process that uses any of
    # them (Jinja2Loader.get_with_context scans them all), so what a filter file imports at its top, every such task pays.
    from ansible_collections.ssm.proxy.plugins.plugin_utils._fleet_report import fleet_report as implementation

    return implementation(results, title)


class FilterModule:
    """ssm.proxy filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"fleet_report": fleet_report}
