# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filter ssm.proxy.agent_proxy_input_problems: the agent_proxy role's variables checked as a whole."""

from __future__ import annotations

DOCUMENTATION = r"""
name: agent_proxy_input_problems
author:
  - ssm.proxy maintainers (@ssm-proxy)
version_added: 0.1.0
short_description: Mistakes across the agent_proxy role's variables
description:
  - Used by the role C(ssm.proxy.agent_proxy) before it touches a host. Returns one message per mistake, each naming the
    role variable and what to set; an empty list when the variables are consistent.
  - Checks what no single module can; an empty C(ssm_proxy_url) with C(ssm_proxy_state=present), no component, a
    user name without its password or the reverse, credentials inside the URL, and, when the pre-flight runs, its
    timeout, region and endpoint names.
  - The password is only tested for emptiness and never appears in a message.
positional: _input
options:
  _input:
    description: The role variables by name (C(ssm_proxy_url), ...), booleans and integers already converted.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Show what the role would refuse
  ansible.builtin.debug:
    msg: "{{ problems }}"
  vars:
    problems: "{{ {'ssm_proxy_url': 'http://proxy.example.com:3128', 'ssm_proxy_username': 'svc-ssm',
                   'ssm_proxy_components': ['agent']} | ssm.proxy.agent_proxy_input_problems }}"
  # problems: ["ssm_proxy_username 'svc-ssm' is set but ssm_proxy_password is empty: set ssm_proxy_password ..."]
"""

RETURN = r"""
_value:
  description: One message per mistake.
  type: list
  elements: string
"""

import typing as t

from ansible.errors import AnsibleFilterError


def agent_proxy_input_problems(variables: t.Any) -> list[str]:
    """The role's consistency checks (see plugin_utils/_role_inputs.py)."""
    # Imported when called: ansible-core loads every ssm.proxy filter file in each worker process that uses any of
    # them (Jinja2Loader.get_with_context scans them all), so what a filter file imports at its top, every such task pays.
    from ansible_collections.ssm.proxy.plugins.plugin_utils._role_inputs import input_problems

    if not isinstance(variables, dict):
        raise AnsibleFilterError(f"agent_proxy_input_problems: expects a dict of role variables, got {type(variables).__name__}")
    return input_problems(variables)


class FilterModule:
    """ssm.proxy filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"agent_proxy_input_problems": agent_proxy_input_problems}
