# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of ssm.proxy.ssm_agent_proxy: the agent's proxy in its service ``Environment`` value.

Reads the service key once, decides on the controller, and writes the value at most once, through
ansible.windows.win_reg_stat and ansible.windows.win_regedit.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ..plugin_utils._action import SettingsAction
from ..plugin_utils._environment import PROXY_VARIABLES, read_variables, redact_lines, set_variables
from ..plugin_utils._host import HostError, RegistryValue, WindowsHost, write_exact
from ..plugin_utils._proxy import ProxyInputError, normalise_bypass_list, parse_proxy_url, proxy_warnings, redact, value_warnings

# The SCM merges this REG_MULTI_SZ into the AmazonSSMAgent service's environment at every start.
SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"
ENVIRONMENT_VALUE = "Environment"

ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "proxy": {"type": "str"},
    "http_proxy": {"type": "str"},
    "https_proxy": {"type": "str"},
    "no_proxy": {"type": "list", "elements": "str"},
    "imds_bypass": {"type": "bool", "default": True},
    "proxy_username": {"type": "str"},
    "proxy_password": {"type": "str", "no_log": True},
}
PRESENT_ONLY = ("proxy", "http_proxy", "https_proxy", "no_proxy", "proxy_username", "proxy_password")


@dataclasses.dataclass(frozen=True)
class Plan:
    """The three variables to write (None removes one) and the warnings found while building them."""

    variables: dict[str, str | None]
    warnings: list[str]


def build_plan(args: dict[str, t.Any]) -> Plan:
    """Turn validated options into the variables the agent should read; raise ProxyInputError on bad input."""
    if args["state"] == "absent":
        given = [name for name in PRESENT_ONLY if args.get(name) is not None]
        if given:
            raise ProxyInputError(given[0], "is only used with state=present; remove it to reset the agent's proxy")
        return Plan(variables={name: None for name in PROXY_VARIABLES}, warnings=[])

    if not any(args.get(name) for name in ("proxy", "http_proxy", "https_proxy")):
        raise ProxyInputError("proxy", "state=present needs proxy (or http_proxy/https_proxy), e.g. proxy: http://proxy.example.com:3128")
    if args.get("proxy_password") is not None and args.get("proxy_username") is None:
        raise ProxyInputError("proxy_password", "is set without proxy_username; set both, or neither")

    username, password = args.get("proxy_username"), args.get("proxy_password")
    urls = {}
    for option, variable in (("http_proxy", "http_proxy"), ("https_proxy", "https_proxy")):
        source = option if args.get(option) else "proxy"
        if args.get(source):
            urls[variable] = (source, parse_proxy_url(source, args[source], username, password))

    warnings: list[str] = []
    if "https_proxy" not in urls:
        warnings.append(
            "https_proxy is not set: Go uses only https_proxy for HTTPS, so all Systems Manager traffic "
            "(ssm, ec2messages, ssmmessages, S3) goes direct; set proxy or https_proxy"
        )
    for source, url in dict(urls.values()).items():
        warnings.extend(proxy_warnings(source, url))

    bypass = normalise_bypass_list("no_proxy", args.get("no_proxy") or [], args["imds_bypass"])
    if "*" in bypass:
        warnings.append("no_proxy contains '*': the agent bypasses the proxy for every host")
    if not args["imds_bypass"]:
        warnings.append(
            "imds_bypass=false: requests to the instance metadata service (169.254.169.254) go through the proxy, "
            "where IMDSv2 credentials fail unless the proxy forwards them"
        )

    variables = {
        "http_proxy": urls["http_proxy"][1].url() if "http_proxy" in urls else None,
        "https_proxy": urls["https_proxy"][1].url() if "https_proxy" in urls else None,
        "no_proxy": ",".join(bypass) if bypass else None,
    }
    for name, value in variables.items():
        if value is not None:
            warnings.extend(value_warnings(name, value))
    return Plan(variables=variables, warnings=list(dict.fromkeys(warnings)))


def current_lines(value: RegistryValue | None, warnings: list[str]) -> list[str]:
    """The Environment lines on the host; refuse types the SCM cannot read as lines."""
    if value is None:
        return []
    if value.type == "REG_MULTI_SZ":
        return list(value.value or [])
    if value.type in ("REG_SZ", "REG_EXPAND_SZ"):
        warnings.append(f"{SERVICE_KEY}\\{ENVIRONMENT_VALUE} is {value.type}; the Service Control Manager reads REG_MULTI_SZ, it is rewritten as such")
        return [value.value] if value.value else []
    raise HostError(
        f"{SERVICE_KEY}\\{ENVIRONMENT_VALUE} is {value.type}, not REG_MULTI_SZ; "
        "remove or fix the value by hand, the collection will not overwrite data it cannot read"
    )


def apply(host: WindowsHost, plan: Plan, check_mode: bool) -> dict[str, t.Any]:
    """Read the service key, merge the plan into its Environment lines and write them when they differ."""
    key = host.read_key(SERVICE_KEY)
    if not key.exists:
        raise HostError(
            f"{SERVICE_KEY} does not exist: the Amazon SSM Agent is not installed on this host. Install the agent first; "
            "instances served only by EC2Config (Windows Server 2012 R2 and older AMIs from before November 2016) "
            "take their proxy from EC2Config's own settings, not from this value"
        )
    warnings = list(plan.warnings)
    existing = key.get(ENVIRONMENT_VALUE)
    before = current_lines(existing, warnings)
    after = set_variables(before, plan.variables)
    changed = after != before or (existing is not None and existing.type != "REG_MULTI_SZ" and bool(after))
    sensitive = any(redact(line) != line for line in after + before)
    if changed and not check_mode:
        # write_exact: a change only in letter case (a password) must reach the registry, which a plain
        # win_regedit call would skip (it compares REG_MULTI_SZ data case-insensitively).
        wanted = RegistryValue("REG_MULTI_SZ", after) if after else None
        write_exact(host, SERVICE_KEY, ENVIRONMENT_VALUE, wanted, existing, sensitive=sensitive)
    return {
        "changed": changed,
        "restart_required": changed,
        "before": {name: _redacted(value) for name, value in read_variables(before).items()},
        "after": {name: _redacted(value) for name, value in read_variables(after).items()},
        "diff": {
            "before_header": f"{SERVICE_KEY}\\{ENVIRONMENT_VALUE}",
            "after_header": f"{SERVICE_KEY}\\{ENVIRONMENT_VALUE}",
            "before": "".join(f"{line}\n" for line in redact_lines(before)),
            "after": "".join(f"{line}\n" for line in redact_lines(after)),
        },
        "warnings": warnings,
    }


def _redacted(value: str | None) -> str | None:
    return None if value is None else redact(value)


class ActionModule(SettingsAction):
    """Set or reset the SSM Agent's http_proxy, https_proxy and no_proxy service environment."""

    ARGUMENT_SPEC = ARGUMENT_SPEC
    COMPONENT = "ssm_agent_proxy"
    build_plan = staticmethod(build_plan)
    apply = staticmethod(apply)
