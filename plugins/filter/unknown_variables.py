# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filter ssm.proxy.unknown_variables: warn about misspelt role variables."""

from __future__ import annotations

DOCUMENTATION = r"""
name: unknown_variables
author:
  - ssm.proxy maintainers (@ssm-proxy)
version_added: 0.1.0
short_description: Name variables a role does not know, with the closest known name
description:
  - Ansible ignores a variable nobody reads, so a misspelt role variable (C(ssm_proxy_noproxy) for C(ssm_proxy_no_proxy))
    changes nothing and says nothing. This filter returns, and shows as a warning, one message per name in the input
    that is neither in O(known) nor in O(ignored), with the closest known name (Python's C(difflib)).
  - The role C(ssm.proxy.agent_proxy) runs it over C(query('ansible.builtin.varnames', '^ssm_proxy_')).
positional: _input, known, ignored
options:
  _input:
    description: The variable names in use.
    type: list
    elements: string
    required: true
  known:
    description: The role's variables (its argument spec's options).
    type: list
    elements: string
    required: true
  ignored:
    description: Names that are set on purpose though no role variable (registered results, playbook variables).
    type: list
    elements: string
    default: []
"""

EXAMPLES = r"""
- name: Warn about misspelt ssm_proxy_* variables
  ansible.builtin.debug:
    msg: "{{ ['ssm_proxy_noproxy', 'ssm_proxy_url'] | ssm.proxy.unknown_variables(['ssm_proxy_url', 'ssm_proxy_no_proxy']) }}"
  # [WARNING]: ssm_proxy_noproxy is not a variable of ssm.proxy.agent_proxy and is ignored; did you mean ssm_proxy_no_proxy?
"""

RETURN = r"""
_value:
  description: One warning per unknown name.
  type: list
  elements: string
"""

import typing as t

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

display = Display()


def _names(option: str, value: t.Any) -> list[str]:
    if not isinstance(value, (list, tuple)):
        raise AnsibleFilterError(f"unknown_variables: {option} must be a list of variable names, got {type(value).__name__}")
    return [str(name) for name in value]


def unknown_variables(names: t.Any, known: t.Any, ignored: t.Any = ()) -> list[str]:
    """Warn once per unknown name (Display drops a repeated warning) and return the warnings."""
    # Imported when called: ansible-core loads every ssm.proxy filter file in each worker process that uses any of
    # them (Jinja2Loader.get_with_context scans them all), so what a filter file imports at its top, every such task pays.
    from ansible_collections.ssm.proxy.plugins.plugin_utils._role_inputs import unknown_variables as find_unknown

    warnings = find_unknown(_names("_input", names), _names("known", known), _names("ignored", list(ignored)))
    for warning in warnings:
        display.warning(warning)
    return warnings


class FilterModule:
    """ssm.proxy filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"unknown_variables": unknown_variables}
