# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pre-flight of ssm.proxy.proxy_settings: the Systems Manager endpoints requested from the host, through the proxy.

Private to the ssm.proxy collection (internal use): no compatibility promises.

preflight.ps1 requests each endpoint through the proxy the agent is about to be given, the way the agent's Go client
would (CONNECT, Basic credentials only); an endpoint counts as reachable only when the endpoint itself answered. The
script reports every probe's outcome as data and throws only for bad parameters or a region it cannot find. Here that
report becomes a verdict: an endpoint out of reach that the caller requires stops the write, one it does not require
(S3, unless the connection is amazon.aws.aws_ssm) is a warning.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping

from ._proxy import redact
from ._step_failure import record_message

# The endpoints the agent itself needs (registration, commands, sessions), and S3 (command output, and every command
# of the amazon.aws.aws_ssm connection).
AGENT_SERVICES = ("ssm", "ec2messages", "ssmmessages")
SERVICES = (*AGENT_SERVICES, "s3")


class PreflightHost(t.Protocol):
    def preflight(self, parameters: dict[str, t.Any], username: str | None, password: str | None) -> dict[str, t.Any]: ...


def script_error(result: Mapping[str, t.Any]) -> str:
    """'' when the script ran to its end, else what stopped it: its error record's exception message, or the module's."""
    errors = result.get("error")
    if isinstance(errors, list) and errors:
        # The role's step_failure filter reads a throwing script's record the same way (win_powershell's Result.error).
        return record_message(errors[0])
    if result.get("failed"):
        return str(result.get("msg") or "win_powershell failed without a message")
    return ""


def run(host: PreflightHost, options: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """One execution of preflight.ps1 and its verdict: ``passed``, the report's ``region`` and ``endpoints``, which
    services are ``unreachable`` and which of them ``blocking``, or the ``error`` that stopped the script."""
    services = list(options.get("services") or SERVICES)
    required = list(options.get("required") if options.get("required") is not None else AGENT_SERVICES)
    parameters = {"Proxy": options["proxy"], "Region": options.get("region") or "", "Services": services,
                  "TimeoutSeconds": int(options.get("timeout") or 10)}
    result = host.preflight(parameters, options.get("username") or None, options.get("password"))
    error = script_error(result)
    report = result.get("result") if isinstance(result.get("result"), Mapping) else {}
    endpoints = [dict(endpoint) for endpoint in report.get("endpoints") or [] if isinstance(endpoint, Mapping)] if not error else []
    unreachable = [str(endpoint.get("service")) for endpoint in endpoints if not endpoint.get("reachable")]
    blocking = [service for service in unreachable if service in required]
    return {"passed": not error and not blocking, "error": error, "region": report.get("region", ""),
            "region_source": report.get("region_source", ""), "required": required, "endpoints": endpoints,
            "unreachable": unreachable, "blocking": blocking}


def _line(endpoint: Mapping[str, t.Any], required: t.Sequence[str]) -> str:
    """One endpoint as the report shows it: service, URL, outcome, and the proxy's or the endpoint's words."""
    detail = (f": {endpoint['error']}" if endpoint.get("error")
              else f" ({endpoint.get('status')} {endpoint.get('reason') or ''}".rstrip() + " from the endpoint)")
    scope = "" if endpoint.get("service") in required else " (warning only)"
    return f"{endpoint.get('service')} {endpoint.get('url')}{scope}: {str(endpoint.get('outcome')).replace('_', ' ')}{detail}"


def summary(verdict: Mapping[str, t.Any], proxy: str) -> str:
    """The verdict in the module's words (the role words its own, naming its variables); never a credential."""
    proxy = redact(proxy)
    if verdict["error"]:
        return f"Pre-flight failed: {verdict['error']}"
    region = f"region {verdict['region']} (from {'instance metadata' if verdict['region_source'] == 'imds' else 'preflight.region'})"
    unreachable = [endpoint for endpoint in verdict["endpoints"] if not endpoint.get("reachable")]
    lines = "; ".join(_line(endpoint, verdict["required"]) for endpoint in unreachable)
    if verdict["blocking"]:
        return f"Pre-flight failed, from the host through {proxy}, {region}: {lines}"
    unrequired = verdict["unreachable"]
    note = " (the agent itself does not need S3; commands over amazon.aws.aws_ssm travel through it)" if "s3" in unrequired else ""
    return (f"Pre-flight passed with warnings, from the host through {proxy}, {region}: {lines}. The settings were written: "
            f"{', '.join(unrequired)} {'is' if len(unrequired) == 1 else 'are'} not required{note}.")
