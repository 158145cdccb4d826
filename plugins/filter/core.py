# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ssm.proxy filters, all in one small file; each one's documentation is the YAML file of its name beside it.

ansible-core resolves a collection filter by loading every module of the collection's filter package and asking each
for its filters (Jinja2Loader.get_with_context in ansible/plugins/loader.py), again in each new template environment,
and the collection loader compiles a plugin from source in each process. It forks a worker per task and host, so
every role task that uses an ssm.proxy filter pays for compiling this file on every host. One file instead of one per
filter, and nothing in it but the names: each filter imports its implementation (plugins/plugin_utils) when called.
"""

from __future__ import annotations

import typing as t

_UTILS = "ansible_collections.ssm.proxy.plugins.plugin_utils."


def _lazy(module: str, name: str) -> t.Callable[..., t.Any]:
    """The filter ``name`` of plugin_utils ``module``, imported at its first call."""
    def call(*args: t.Any, **kwargs: t.Any) -> t.Any:
        from importlib import import_module

        return getattr(import_module(_UTILS + module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


agent_proxy_desired = _lazy("_filters", "agent_proxy_desired")
agent_proxy_input_problems = _lazy("_filters", "agent_proxy_input_problems")
agent_proxy_userdata = _lazy("_userdata", "agent_proxy_userdata")
effective_agent_proxy = _lazy("_filters", "effective_agent_proxy")
fleet_report = _lazy("_fleet_report", "fleet_report")
runcommand_proxy_preamble = _lazy("_preamble", "runcommand_proxy_preamble")
step_failure = _lazy("_step_failure", "step_failure")
unknown_variables = _lazy("_filters", "unknown_variables")
windows_bypass = _lazy("_filters", "windows_bypass")


class FilterModule:
    """ssm.proxy filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "agent_proxy_desired": agent_proxy_desired,
            "agent_proxy_input_problems": agent_proxy_input_problems,
            "agent_proxy_userdata": agent_proxy_userdata,
            "effective_agent_proxy": effective_agent_proxy,
            "fleet_report": fleet_report,
            "runcommand_proxy_preamble": runcommand_proxy_preamble,
            "step_failure": step_failure,
            "unknown_variables": unknown_variables,
            "windows_bypass": windows_bypass,
        }
