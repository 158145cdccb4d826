# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    """The agent_warnings option of the WinINet and WinHTTP modules."""

    DOCUMENTATION = r"""
options:
  agent_warnings:
    description:
      - Warn about values the SSM Agent misreads when it takes its proxy from these settings (a bare C(host:port) reaches
        it as C(http_proxy) only; C(10.*) wildcards never match in its C(no_proxy)).
      - Turn off when the agent has its own proxy in its service C(Environment) (M(ssm.proxy.ssm_agent_proxy)), which
        takes precedence over these settings; the C(ssm.proxy.agent_proxy) role does.
    type: bool
    default: true
"""
