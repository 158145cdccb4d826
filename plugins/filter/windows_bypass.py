# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filter ssm.proxy.windows_bypass: a Go no_proxy list as WinINet / WinHTTP bypass entries."""

from __future__ import annotations

DOCUMENTATION = r"""
name: windows_bypass
author:
  - ssm.proxy maintainers (@ssm-proxy)
version_added: 0.1.0
short_description: Translate the agent's no_proxy list into Windows bypass entries
description:
  - The SSM Agent matches C(no_proxy) the Go way (a domain matches its subdomains, CIDRs work); WinINet and WinHTTP match
    C(*) patterns and exact names. This filter writes the same hosts the way Windows matches them, so that one list
    configures all three stacks.
  - C(example.com) becomes C(example.com) and C(*.example.com); C(.example.com) becomes C(*.example.com); C(10.0.0.0/8)
    becomes C(10.*), and a CIDR between octet boundaries expands exactly (C(172.16.0.0/12) gives C(172.16.*) to C(172.31.*)).
  - The instance metadata addresses are left out; the modules add them with their C(imds_bypass) option.
  - IPv6 networks cannot be written as Windows wildcards and are left out with a warning.
positional: _input
options:
  _input:
    description: The Go C(no_proxy) entries.
    type: list
    elements: string
    required: true
"""

EXAMPLES = r"""
- name: Configure WinHTTP with the agent's bypass list
  ssm.proxy.winhttp_proxy:
    proxy: {http: proxy.example.com:3128, https: proxy.example.com:3128}
    bypass: "{{ ['.corp.example.com', '10.0.0.0/8'] | ssm.proxy.windows_bypass }}"
  # bypass: ['*.corp.example.com', '10.*']
"""

RETURN = r"""
_value:
  description: The Windows bypass entries.
  type: list
  elements: string
"""

import typing as t

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

display = Display()


def windows_bypass(entries: t.Any) -> list[str]:
    """Windows bypass entries for a Go no_proxy list (a list, or a comma-separated string)."""
    # Imported when called: ansible-core loads every ssm.proxy filter file in each worker process that uses any of
    # them (Jinja2Loader.get_with_context scans them all), so what a filter file imports at its top, every such task pays.
    from ansible_collections.ssm.proxy.plugins.plugin_utils._winproxy import windows_bypass_from_go

    if isinstance(entries, str):
        entries = entries.split(",")
    if not isinstance(entries, (list, tuple)):
        raise AnsibleFilterError(f"windows_bypass: expects a list of no_proxy entries, got {type(entries).__name__}")
    result, warnings = windows_bypass_from_go([str(entry) for entry in entries])
    for warning in warnings:
        display.warning(warning)
    return result


class FilterModule:
    """ssm.proxy filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"windows_bypass": windows_bypass}
