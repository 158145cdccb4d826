# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The agent_proxy role's variables checked as a whole, before the role touches a host.

Internal use only: not part of the collection's public interface.

The modules check each of their own options; these checks are the ones that only make sense across role variables
(a user name without its password, pre-flight settings that matter only when the pre-flight runs), and the one that
no module can make: a variable the role does not know, which Ansible silently ignores.
"""

from __future__ import annotations

import re
import typing as t

from ansible.module_utils.parsing.convert_bool import boolean

ROLE = "ssm.proxy.agent_proxy"
COMPONENTS = ("agent", "wininet", "winhttp")
# A region name (eu-west-1) or empty, and endpoint prefixes (ssm, ec2messages): DNS labels, as preflight.ps1 builds
# https://<service>.<region>.amazonaws.com/ from them.
_REGION_RE = re.compile(r"([a-z0-9]([a-z0-9-]*[a-z0-9])?)?")
_SERVICE_RE = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
# difflib's default: close enough to be the likely intent (noproxy -> no_proxy scores 0.93).
_CLOSE_ENOUGH = 0.6
PREFIX = "ssm_proxy_"


def _text(value: t.Any) -> str:
    return "" if value is None else str(value)


def _credential_problems(variables: t.Mapping[str, t.Any]) -> list[str]:
    """A user without a password (and the reverse): the agent would send ``user:@`` or a password without a user."""
    url = _text(variables.get("ssm_proxy_url"))
    user = _text(variables.get("ssm_proxy_username"))
    has_password = len(_text(variables.get("ssm_proxy_password"))) > 0
    problems = []
    if "@" in url:
        problems.append("ssm_proxy_url carries user:password@ (not shown): remove it from the URL and set ssm_proxy_username "
                        "and ssm_proxy_password instead.")
    if has_password and not user:
        problems.append("ssm_proxy_password is set but ssm_proxy_username is empty: set ssm_proxy_username whenever "
                        "ssm_proxy_password is set, or remove the password.")
    if user and not has_password:
        problems.append(f"ssm_proxy_username '{user}' is set but ssm_proxy_password is empty: set ssm_proxy_password "
                        "(the agent would send the user with an empty password), or clear ssm_proxy_username for a proxy "
                        "without authentication.")
    return problems


def _preflight_problems(variables: t.Mapping[str, t.Any]) -> list[str]:
    """What preflight.ps1 would refuse, but only on the host and in words that name its parameters."""
    problems = []
    # Absent variables keep the role's defaults, which are valid.
    timeout = variables.get("ssm_proxy_preflight_timeout", 10)
    if not isinstance(timeout, int) or timeout < 1:
        problems.append(f"ssm_proxy_preflight_timeout must be at least 1 (got {timeout}): set the seconds each pre-flight "
                        "request may take.")
    elif timeout > 3600:
        # preflight.ps1 refuses more (each endpoint is requested once, and a connection plugin's command timeout is
        # far shorter); said here in the role variable's name, before the host is touched.
        problems.append(f"ssm_proxy_preflight_timeout must be at most 3600 seconds (got {timeout}): each endpoint is "
                        "requested once; set the seconds one request may take.")
    region = _text(variables.get("ssm_proxy_region"))
    if not _REGION_RE.fullmatch(region):
        problems.append(f"ssm_proxy_region must be a region name such as eu-west-1, or empty to ask instance metadata "
                        f"(got '{region}').")
    services = [_text(service) for service in variables.get("ssm_proxy_preflight_services") or []]
    bad = [service for service in services if not _SERVICE_RE.fullmatch(service)]
    if bad:
        problems.append(f"ssm_proxy_preflight_services must be endpoint names such as ssm or ec2messages (got "
                        f"{', '.join(repr(service) for service in bad)}).")
    return problems


def input_problems(variables: t.Mapping[str, t.Any]) -> list[str]:
    """Every mistake in the role's variables at once, each naming the variable and what to set.

    ``variables`` holds the role variables by name, booleans and integers already converted. The password is only
    tested for emptiness and never appears in a message.
    """
    present = variables.get("ssm_proxy_state", "present") == "present"
    problems = []
    if present and not _text(variables.get("ssm_proxy_url")):
        problems.append(f"{ROLE} needs ssm_proxy_url (e.g. http://proxy.example.com:3128) when ssm_proxy_state is present; "
                        "set it, or set ssm_proxy_state=absent to remove the proxy settings.")
    components = variables.get("ssm_proxy_components") or []
    if len(components) == 0:
        problems.append(f"ssm_proxy_components is empty: give at least one of {', '.join(COMPONENTS)} in ssm_proxy_components.")
    if present:
        problems.extend(_credential_problems(variables))
        if variables.get("ssm_proxy_preflight", True):
            problems.extend(_preflight_problems(variables))
    return problems


def unknown_variables(names: t.Iterable[str], known: t.Iterable[str], ignored: t.Iterable[str] = ()) -> list[str]:
    """Warnings for ``ssm_proxy_*`` names that are no role variable, each with the closest known name.

    Ansible hands a misspelt variable (``ssm_proxy_noproxy``) to nobody and says nothing: internal traffic then goes
    through the proxy. ``ignored`` are names the collection itself sets (registered results, playbook variables).
    """
    import difflib  # only when a name is checked: importing it is a cost every worker that loads this file would pay

    known_names = sorted(set(known))
    # Compared without the shared prefix, which would make every name look close to every other.
    by_suffix = {name.removeprefix(PREFIX): name for name in known_names}
    warnings = []
    for name in sorted(set(names) - set(known_names) - set(ignored)):
        close = difflib.get_close_matches(name.removeprefix(PREFIX), list(by_suffix), n=1, cutoff=_CLOSE_ENOUGH)
        hint = (f"did you mean {by_suffix[close[0]]}?" if close
                else f"the role's variables are listed by ansible-doc -t role {ROLE}.")
        warnings.append(f"{name} is not a variable of {ROLE} and is ignored; {hint}")
    return warnings


def proxy_url(url: str) -> str:
    """ssm_proxy_url with the scheme the agent assumes.

    Go's ParseProxySettings adds ``http://`` to a value without ``://`` (spec/agent-proxy.md section 2), as the
    modules do (_proxy.py, _split_scheme); the pre-flight script needs a full URL. Anything else malformed is left to
    the modules, which name what is wrong.
    """
    if url.startswith("//"):
        return "http:" + url
    if not url or "://" in url or url.startswith(":"):
        return url
    return "http://" + url


def desired_settings(variables: t.Mapping[str, t.Any], windows_bypass: t.Callable[[list[str]], list[str]]) -> dict[str, t.Any]:
    """What the role asks each settings module for, by module name (``None`` for a component not in ssm_proxy_components).

    The plan (ssm_agent_proxy_info ``desired``) and the Apply step both read this, so that "already compliant" and
    "what would be written" can never disagree. In Python rather than in role variables: each role variable a task
    reads is one more template ansible-core compiles, per host and task. ``windows_bypass`` turns the agent's Go
    no_proxy list into WinINet/WinHTTP entries (the filter ssm.proxy.windows_bypass, which warns about what Windows
    cannot express) and is called only when ssm_proxy_windows_bypass is not given.
    """
    present = variables.get("ssm_proxy_state", "present") == "present"
    components = list(variables.get("ssm_proxy_components", COMPONENTS) or [])
    # Text from `-e key=value` or a survey, as the argument spec converts it (the role's `bool` filter did the same).
    imds_bypass = boolean(variables.get("ssm_proxy_imds_bypass", True), strict=False)
    wininet_scope = variables.get("ssm_proxy_wininet_scope")
    winhttp_views = variables.get("ssm_proxy_winhttp_views")
    agent: dict[str, t.Any] = {"state": "absent"}
    wininet: dict[str, t.Any] = {"state": "absent", "scope": wininet_scope}
    winhttp: dict[str, t.Any] = {"state": "absent", "views": winhttp_views}
    if present:
        url = proxy_url(_text(variables.get("ssm_proxy_url")))
        no_proxy = variables.get("ssm_proxy_no_proxy", [])
        username = _text(variables.get("ssm_proxy_username"))
        agent = {"proxy": url, "no_proxy": no_proxy, "imds_bypass": imds_bypass}
        if username:
            agent.update(proxy_username=username, proxy_password=_text(variables.get("ssm_proxy_password")))
        # WinINet and WinHTTP store no credentials and want per-scheme servers (a bare host:port reaches the agent as
        # http only).
        bypass = variables.get("ssm_proxy_windows_bypass")
        windows = {"proxy": {"http": url, "https": url},
                   "bypass": bypass if bypass is not None else windows_bypass(no_proxy),
                   "imds_bypass": imds_bypass, "agent_warnings": "agent" not in components}
        wininet = {**windows, "auto_detect": False, "scope": wininet_scope}
        winhttp = {**windows, "views": winhttp_views}
    return {"ssm_agent_proxy": agent if "agent" in components else None,
            "wininet_proxy": wininet if "wininet" in components else None,
            "winhttp_proxy": winhttp if "winhttp" in components else None}
