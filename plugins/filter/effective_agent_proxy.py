# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filter ssm.proxy.effective_agent_proxy: the agent's proxy algorithm for what-if questions, without a host."""

from __future__ import annotations

DOCUMENTATION = r"""
name: effective_agent_proxy
author:
  - ssm.proxy maintainers (@ssm-proxy)
version_added: 0.1.0
short_description: What proxy the SSM Agent would use, given its five sources
description:
  - Runs the same port of the agent's startup algorithm as M(ssm.proxy.ssm_agent_proxy_info) on sources given as data,
    to answer "what if" questions offline, before changing any host.
  - Returns the same C(effective), C(effective_source), C(sources) and C(findings) as the module.
positional: _input
options:
  _input:
    description:
      - The sources. Every key is optional.
      - C(service_registry), C(system_environment), C(localsystem_environment) are a dict of variables or a list of
        C(name=value) lines (as in the REG_MULTI_SZ value).
      - C(wininet) is a dict with C(proxy_enabled), C(proxy), C(bypass), C(auto_detect), C(auto_config_url_enabled),
        C(auto_config_url); C(winhttp) a dict with C(proxy) and C(bypass).
      - C(agent_log) is the text of the agent's log, to fill C(running) and C(restart_pending).
      - C(endpoints) is a list of URLs (C(http://), C(https://), C(ws://), C(wss://)); the result then holds C(routes).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Would a WinHTTP proxy set by netsh reach the agent's HTTPS traffic?
  ansible.builtin.debug:
    msg: "{{ {'winhttp': {'proxy': 'proxy.example.com:3128', 'bypass': '<local>'}} | ssm.proxy.effective_agent_proxy }}"
  # effective.https_proxy is '' and findings hold https_direct: write http=...;https=... instead

- name: Does S3 go through the proxy, and instance metadata direct?
  ansible.builtin.debug:
    msg: >-
      {{ ({'service_registry': ['https_proxy=http://proxy.example.com:3128', 'no_proxy=169.254.169.254'],
           'endpoints': ['https://s3.eu-west-1.amazonaws.com', 'http://169.254.169.254/latest/api/token']}
          | ssm.proxy.effective_agent_proxy).routes }}
  # [{url: https://s3..., proxy: http://proxy.example.com:3128, matched: null}, {url: http://169..., proxy: '', matched: 169.254.169.254}]

- name: Which source wins when the service Environment and IE both hold a proxy?
  ansible.builtin.debug:
    msg: >-
      {{ {'service_registry': ['https_proxy=http://a.example.com:3128'],
          'wininet': {'proxy_enabled': true, 'proxy': 'b.example.com:8080', 'bypass': '*.corp;<local>'}}
         | ssm.proxy.effective_agent_proxy }}
"""

RETURN = r"""
_value:
  description:
    - C(effective), C(effective_source), C(sources), C(running), C(restart_pending) and C(findings), as returned by
      M(ssm.proxy.ssm_agent_proxy_info).
    - With C(endpoints), C(routes) too, in the same order, one C({url, proxy, matched}) per URL; C(proxy) is the proxy URL Go's
      C(http.ProxyFromEnvironment) picks (password redacted) or C('') for direct, C(matched) the C(no_proxy) entry that made
      it direct, or null (direct because of no proxy for that scheme, or localhost and loopback, which Go never proxies).
      A C(ws(s)://) URL is routed as C(http(s)://), as the agent's websocket client asks for it.
  type: dict
"""

import typing as t
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

KNOWN_KEYS = frozenset(("service_registry", "system_environment", "localsystem_environment", "wininet", "winhttp", "agent_log", "endpoints"))


def effective_agent_proxy(sources: t.Any) -> dict[str, t.Any]:
    """The agent's effective proxy, its sources and findings, for sources given as data."""
    # Imported when called: ansible-core loads every ssm.proxy filter file in each worker process that uses any of
    # them (Jinja2Loader.get_with_context scans them all), so what a filter file imports at its top, every such task pays.
    from ansible_collections.ssm.proxy.plugins.plugin_utils._diagnosis import diagnose
    from ansible_collections.ssm.proxy.plugins.plugin_utils._proxy import ProxyInputError
    from ansible_collections.ssm.proxy.plugins.plugin_utils._routes import validate_endpoints

    if not isinstance(sources, Mapping):
        raise AnsibleFilterError(f"effective_agent_proxy: the input must be a dict of sources, got {type(sources).__name__}")
    unknown = sorted(set(sources) - KNOWN_KEYS)
    if unknown:
        raise AnsibleFilterError(f"effective_agent_proxy: unknown source(s) {', '.join(unknown)}; use {', '.join(sorted(KNOWN_KEYS))}")
    for name in ("wininet", "winhttp"):
        if sources.get(name) is not None and not isinstance(sources[name], Mapping):
            raise AnsibleFilterError(f"effective_agent_proxy: {name} must be a dict, got {type(sources[name]).__name__}")
    raw = {name: value for name, value in sources.items() if name not in ("agent_log", "endpoints")}
    if "endpoints" not in sources:
        return diagnose(raw, log_text=sources.get("agent_log"))
    try:
        endpoints = validate_endpoints("effective_agent_proxy: endpoints", sources["endpoints"])
    except ProxyInputError as error:
        raise AnsibleFilterError(str(error)) from None
    result = diagnose(raw, log_text=sources.get("agent_log"), endpoints=[(None, url) for url in endpoints])
    result["routes"] = [{key: route[key] for key in ("url", "proxy", "matched")} for route in result["routes"]]
    return result


class FilterModule:
    """ssm.proxy filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"effective_agent_proxy": effective_agent_proxy}
