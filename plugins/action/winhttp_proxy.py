# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of ssm.proxy.winhttp_proxy: the WinHTTP default proxy in its ``WinHttpSettings`` values.

Reads every managed view in one execution, compares decoded settings (so a value netsh wrote with the
other header is already right), and writes through ansible.windows.win_regedit only the views that differ.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ..plugin_utils._action import SettingsAction
from ..plugin_utils._blobs import (
    BlobError,
    WinHttpProxySettings,
    binary_value,
    blob_to_reg_data,
    decode_winhttp_settings,
    encode_winhttp_settings,
)
from ..plugin_utils._host import HostError, RegistryKey, RegistryValue, WindowsHost
from ..plugin_utils._proxy import ProxyInputError, redact
from ..plugin_utils._winproxy import WINHTTP_MACROS, bypass_warnings, normalise_bypass_list, parse_windows_proxy, proxy_warnings

# WinHttpSetDefaultProxyConfiguration and netsh keep the setting here; 32-bit programs read the WOW6432Node
# copy (registry redirection), so both are managed by default.
VIEW_KEYS = {
    "native": "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections",
    "wow64": "HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections",
}
VALUE_NAME = "WinHttpSettings"
READER = "WinHTTP"

ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "proxy": {"type": "raw"},
    "bypass": {"type": "list", "elements": "str"},
    "imds_bypass": {"type": "bool", "default": True},
    "agent_warnings": {"type": "bool", "default": True},
    "views": {"type": "list", "elements": "str", "choices": list(VIEW_KEYS), "default": list(VIEW_KEYS)},
}


@dataclasses.dataclass(frozen=True)
class Plan:
    """What WinHTTP should use (proxy None: direct access), in which views, and the warnings found."""

    proxy: str | None
    bypass: str
    views: tuple[str, ...]
    warnings: list[str]


def build_plan(args: dict[str, t.Any]) -> Plan:
    """Turn validated options into the settings to write; raise ProxyInputError on bad input."""
    views = tuple(dict.fromkeys(args["views"]))
    if not views:
        raise ProxyInputError("views", "is empty; give native, wow64 or both")
    if args["state"] == "absent":
        if args.get("proxy") is not None or args.get("bypass") is not None:
            option = "proxy" if args.get("proxy") is not None else "bypass"
            raise ProxyInputError(option, "is only used with state=present; remove it to reset WinHTTP to direct access")
        return Plan(proxy=None, bypass="", views=views, warnings=[])
    if args.get("proxy") is None:
        raise ProxyInputError("proxy", "state=present needs proxy, e.g. proxy: {http: proxy.example.com:3128, https: proxy.example.com:3128}")
    proxy = parse_windows_proxy("proxy", args["proxy"])
    bypass = normalise_bypass_list("bypass", args.get("bypass") or [], args["imds_bypass"], WINHTTP_MACROS)
    warnings = proxy_warnings("proxy", proxy, READER) + bypass_warnings("bypass", bypass, READER) if args["agent_warnings"] else []
    if not args["imds_bypass"]:
        warnings.append(
            "imds_bypass=false: WinHTTP clients (and the SSM Agent when it takes its proxy from WinHTTP) send requests for "
            "the instance metadata service (169.254.169.254) to the proxy, where IMDSv2 credentials fail"
        )
    return Plan(proxy=proxy, bypass=";".join(bypass), views=views, warnings=warnings)


def read_views(host: WindowsHost, views: t.Sequence[str]) -> dict[str, RegistryKey]:
    """Read the views' keys in one execution: win_reg_stat for one key, read_state.ps1 for two."""
    if len(views) == 1:
        return {views[0]: host.read_key(VIEW_KEYS[views[0]])}
    state = host.read_state([VIEW_KEYS[view] for view in views])
    return {view: state.key(VIEW_KEYS[view]) for view in views}


def current_settings(view: str, key: RegistryKey) -> WinHttpProxySettings | None:
    """The decoded value of one view; None when absent (WinHTTP then uses direct access)."""
    value = key.get(VALUE_NAME) if key.exists else None
    if value is None:
        return None
    name = f"{VIEW_KEYS[view]}\\{VALUE_NAME}"
    return decode_winhttp_settings(binary_value(value.type, value.value, value_name=name), value_name=name)


def wanted_settings(plan: Plan, current: WinHttpProxySettings | None) -> WinHttpProxySettings | None:
    """The settings a view should hold; ``current`` itself when it already does (decoded comparison)."""
    if plan.proxy is None:
        # Like `netsh winhttp reset proxy`: a 20-byte direct blob; a missing value already means direct.
        return None if current is None else current.without_proxy()
    if current is None:
        return WinHttpProxySettings.named_proxy(plan.proxy, plan.bypass)
    return current.with_proxy(plan.proxy, plan.bypass)


def describe(settings: WinHttpProxySettings | None) -> dict[str, t.Any] | None:
    """Decoded settings for before/after, any credentials a foreign writer left in the strings redacted."""
    if settings is None:
        return None
    described = settings.as_dict()
    described["proxy"] = redact(described["proxy"])
    described["bypass"] = redact(described["bypass"])
    return described


def diff_text(settings: dict[str, dict[str, t.Any] | None]) -> str:
    """One line per view and field, for --diff."""
    lines = []
    for view, described in settings.items():
        if described is None:
            lines.append(f"{view}: (no value: direct access)")
            continue
        lines.append(f"{view}: {'proxy' if described['enabled'] else 'direct access'} (header 0x{described['header']:x})")
        if described["enabled"]:
            lines.append(f"{view}.proxy: {described['proxy']}")
            lines.append(f"{view}.bypass: {described['bypass']}")
    return "".join(f"{line}\n" for line in lines)


def apply(host: WindowsHost, plan: Plan, check_mode: bool) -> dict[str, t.Any]:
    """Read the views, decide per view, write the ones that differ; decode everything before any write."""
    keys = read_views(host, plan.views)
    try:
        before = {view: current_settings(view, keys[view]) for view in plan.views}
    except BlobError as error:
        raise HostError(str(error)) from None
    after = {view: wanted_settings(plan, before[view]) for view in plan.views}
    changed_views = [view for view in plan.views if after[view] is not before[view]]
    writes = {}
    for view in changed_views:
        settings = after[view]
        if settings is not None:
            writes[view] = RegistryValue("REG_BINARY", blob_to_reg_data(encode_winhttp_settings(settings)))
    if not check_mode:
        for view, value in writes.items():
            host.write_value(VIEW_KEYS[view], VALUE_NAME, value)
    before_out = {view: describe(settings) for view, settings in before.items()}
    after_out = {view: describe(settings) for view, settings in after.items()}
    return {
        "changed": bool(changed_views),
        "changed_views": changed_views,
        "before": before_out,
        "after": after_out,
        "diff": {
            "before_header": f"{VALUE_NAME} ({', '.join(plan.views)})",
            "after_header": f"{VALUE_NAME} ({', '.join(plan.views)})",
            "before": diff_text(before_out),
            "after": diff_text(after_out),
        },
        "warnings": list(plan.warnings),
    }


class ActionModule(SettingsAction):
    """Set or reset the WinHTTP default proxy in the native and 32-bit registry views."""

    ARGUMENT_SPEC = ARGUMENT_SPEC
    COMPONENT = "winhttp_proxy"
    build_plan = staticmethod(build_plan)
    apply = staticmethod(apply)
