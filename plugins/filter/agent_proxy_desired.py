# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filter ssm.proxy.agent_proxy_desired: what the agent_proxy role asks each settings module for."""

from __future__ import annotations

DOCUMENTATION = r"""
name: agent_proxy_desired
author:
  - ssm.proxy maintainers (@ssm-proxy)
version_added: 0.2.0
short_description: The settings the agent_proxy role asks each module for, from its variables
description:
  - Used by the role C(ssm.proxy.agent_proxy) for the plan's O(ssm.proxy.ssm_agent_proxy_info#module:desired) and for the
    write, so that both ask for the same thing. Returns the options of M(ssm.proxy.ssm_agent_proxy),
    M(ssm.proxy.wininet_proxy) and M(ssm.proxy.winhttp_proxy) by module name, C(none) for a component not in
    C(ssm_proxy_components).
  - C(ssm_proxy_url) gets the scheme the agent assumes (C(http://)) when it has none. WinINet and WinHTTP get the URL for
    both schemes and no credentials; their bypass list is C(ssm_proxy_windows_bypass), or, when that is not set,
    C(ssm_proxy_no_proxy) translated as the filter P(ssm.proxy.windows_bypass#filter) does (with its warnings).
positional: _input
options:
  _input:
    description: The role variables by name (C(ssm_proxy_state), C(ssm_proxy_url), ...); absent ones take the role's defaults.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Show what the role would ask the modules for
  ansible.builtin.debug:
    msg: "{{ {'ssm_proxy_url': 'proxy.example.com:3128', 'ssm_proxy_no_proxy': ['.corp.example.com'],
              'ssm_proxy_components': ['agent', 'winhttp'], 'ssm_proxy_winhttp_views': ['native']} | ssm.proxy.agent_proxy_desired }}"
  # ssm_agent_proxy: {proxy: http://proxy.example.com:3128, no_proxy: [.corp.example.com], imds_bypass: true}
  # wininet_proxy: null
  # winhttp_proxy: {proxy: {http: ..., https: ...}, bypass: ['*.corp.example.com'], views: [native], ...}
"""

RETURN = r"""
_value:
  description: The options for each settings module, by module name.
  type: dict
"""

import typing as t

from ansible.errors import AnsibleFilterError


def agent_proxy_desired(variables: t.Any) -> dict[str, t.Any]:
    """What the role asks each settings module for (see plugin_utils/_role_inputs.py, desired_settings)."""
    # Imported when called: ansible-core loads every ssm.proxy filter file in each worker process that uses any of
    # them (Jinja2Loader.get_with_context scans them all), so what a filter file imports at its top, every such task pays.
    from ansible_collections.ssm.proxy.plugins.filter.windows_bypass import windows_bypass
    from ansible_collections.ssm.proxy.plugins.plugin_utils._role_inputs import desired_settings

    if not isinstance(variables, dict):
        raise AnsibleFilterError(f"agent_proxy_desired: expects the role variables as a dict, got {type(variables).__name__}")
    return desired_settings(variables, windows_bypass)


class FilterModule:
    """ssm.proxy filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"agent_proxy_desired": agent_proxy_desired}
