# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of ssm.proxy.wininet_proxy: WinINet (Internet Explorer) settings of LocalSystem, the machine or users.

Reads every key involved in one execution, decodes ``DefaultConnectionSettings`` (and ``SavedLegacySettings``),
decides on the controller, and writes through ansible.windows.win_regedit only the values that differ,
keeping the blob and its legacy mirrors (``ProxyEnable``, ``ProxyServer``, ``ProxyOverride``, ``AutoConfigURL``)
consistent.
"""

from __future__ import annotations

import dataclasses
import re
import typing as t
import urllib.parse

from ..plugin_utils._action import SettingsAction
from ..plugin_utils._blobs import (
    BlobError,
    WinInetConnectionSettings,
    binary_value,
    blob_to_reg_data,
    decode_wininet_settings,
    encode_wininet_settings,
)
from ..plugin_utils._host import HostError, HostState, RegistryKey, RegistryValue, WindowsHost
from ..plugin_utils._proxy import ProxyInputError, redact
from ..plugin_utils._winproxy import WININET_MACROS, bypass_warnings, normalise_bypass_list, parse_windows_proxy, proxy_warnings

# With this policy value at 0, WinINet ignores every user's settings and uses HKLM's (KB 819961 /
# the "Make proxy settings per-machine" Group Policy); absent or 1 means per user.
POLICY_KEY = "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\\Internet Settings"
POLICY_VALUE = "ProxySettingsPerUser"
MACHINE_SETTINGS_KEY = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings"
USER_SETTINGS_SUBKEY = "Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings"
# LocalSystem's hive (the same hive as HKU\.DEFAULT); the agent and Run Command run as LocalSystem.
LOCAL_SYSTEM_SID = "S-1-5-18"
DEFAULT_CONNECTION = "DefaultConnectionSettings"
SAVED_LEGACY = "SavedLegacySettings"
# A SID: S-1-<identifier authority>-<sub-authority>..., at most 15 sub-authorities (SID_MAX_SUB_AUTHORITIES).
SID_RE = re.compile(r"^S-1-\d{1,15}(?:-\d{1,10}){1,15}$", re.IGNORECASE)
READER = "LocalSystem's Internet settings"

ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "proxy": {"type": "raw"},
    "bypass": {"type": "list", "elements": "str"},
    "imds_bypass": {"type": "bool", "default": True},
    "agent_warnings": {"type": "bool", "default": True},
    "auto_detect": {"type": "bool", "default": False},
    "auto_config_url": {"type": "str"},
    "scope": {"type": "raw", "default": "local_system"},
}
PRESENT_ONLY = ("proxy", "bypass", "auto_config_url")


@dataclasses.dataclass(frozen=True)
class Target:
    """One set of WinINet settings: a user's hive (LocalSystem included) or the machine's."""

    label: str
    settings_key: str

    @property
    def connections_key(self) -> str:
        return f"{self.settings_key}\\Connections"

    @property
    def is_machine(self) -> bool:
        return self.label == "machine"


@dataclasses.dataclass(frozen=True)
class Plan:
    """The settings every target should hold, and the warnings found while building them."""

    targets: tuple[Target, ...]
    state: str
    proxy: str
    bypass: str
    auto_config_url: str
    auto_detect: bool
    warnings: list[str]

    @property
    def machine(self) -> bool:
        return any(target.is_machine for target in self.targets)

    def settings(self, current: WinInetConnectionSettings) -> WinInetConnectionSettings:
        """``current`` with the managed fields set; ``current`` itself when they already are."""
        return current.with_settings(
            proxy=self.proxy, bypass=self.bypass, auto_config_url=self.auto_config_url,
            manual_proxy=bool(self.proxy), auto_config=bool(self.auto_config_url), auto_detect=self.auto_detect,
        )


def user_target(sid: str) -> Target:
    label = "local_system" if sid == LOCAL_SYSTEM_SID else sid
    return Target(label=label, settings_key=f"HKU:\\{sid}\\{USER_SETTINGS_SUBKEY}")


def parse_scope(value: t.Any) -> tuple[Target, ...]:
    """``local_system``, ``machine``, a SID or a list of SIDs, as the targets to manage."""
    if value == "machine":
        return (Target(label="machine", settings_key=MACHINE_SETTINGS_KEY),)
    if value == "local_system":
        return (user_target(LOCAL_SYSTEM_SID),)
    sids = [value] if isinstance(value, str) else value
    if not isinstance(sids, list) or not sids:
        raise ProxyInputError("scope", f"must be local_system, machine or a list of user SIDs, got {value!r}")
    targets: list[Target] = []
    for sid in sids:
        if not isinstance(sid, str) or not SID_RE.match(sid):
            raise ProxyInputError(
                "scope",
                f"{sid!r} is not local_system, machine or a SID such as S-1-5-21-1004336348-1177238915-682003330-1001 "
                "(find one with: (New-Object System.Security.Principal.NTAccount 'user').Translate([System.Security.Principal.SecurityIdentifier]).Value)",
            )
        target = user_target("S" + sid[1:])
        if target not in targets:
            targets.append(target)
    return tuple(targets)


def parse_auto_config_url(value: t.Any) -> str:
    """A PAC URL WinINet can fetch: http(s)://host[:port]/path, ASCII, without credentials."""
    if not isinstance(value, str) or not value:
        raise ProxyInputError("auto_config_url", "is empty; give the URL of the .pac script, e.g. http://wpad.example.com/proxy.pac")
    if not value.isascii() or any(ord(char) <= 0x20 or ord(char) == 0x7F for char in value):
        raise ProxyInputError("auto_config_url", f"'{redact(value)}' contains whitespace, a control or a non-ASCII character; percent-encode it")
    parts = urllib.parse.urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ProxyInputError("auto_config_url", f"'{redact(value)}' is not an http:// or https:// URL; write it as http://wpad.example.com/proxy.pac")
    if parts.username is not None:
        raise ProxyInputError("auto_config_url", f"'{redact(value)}' has credentials; WinINet fetches the script without them, remove 'user:password@'")
    return value


def build_plan(args: dict[str, t.Any]) -> Plan:
    """Turn validated options into the settings to write; raise ProxyInputError on bad input."""
    targets = parse_scope(args["scope"])
    # The agent reads LocalSystem's settings (or the machine's under the policy); its own Environment value beats them.
    agent_reads = args["agent_warnings"] and any(target.is_machine or target.label == "local_system" for target in targets)
    warnings: list[str] = []
    if args["state"] == "present" and any(target.is_machine for target in targets):
        warnings.append(
            "scope=machine sets ProxySettingsPerUser=0: every user's WinINet settings are replaced by these, including ssm-user, "
            "as whom the amazon.aws.aws_ssm connection downloads its commands from S3; keep S3 reachable through the proxy "
            "(or bypassed), or the connection is cut off"
        )
    if args["state"] == "absent":
        given = [name for name in PRESENT_ONLY if args.get(name) is not None]
        if given:
            raise ProxyInputError(given[0], "is only used with state=present; remove it to reset the proxy to direct access")
        return Plan(targets=targets, state="absent", proxy="", bypass="", auto_config_url="", auto_detect=args["auto_detect"], warnings=warnings)

    if args.get("proxy") is None and args.get("auto_config_url") is None and not args["auto_detect"]:
        raise ProxyInputError(
            "proxy", "state=present needs proxy, auto_config_url or auto_detect=true, e.g. proxy: {http: proxy.example.com:3128, https: proxy.example.com:3128}"
        )
    if args.get("bypass") is not None and args.get("proxy") is None:
        raise ProxyInputError("bypass", "is used only with proxy (the bypass list belongs to the manual proxy); add proxy or remove bypass")
    proxy = bypass = ""
    if args.get("proxy") is not None:
        proxy = parse_windows_proxy("proxy", args["proxy"])
        entries = normalise_bypass_list("bypass", args.get("bypass") or [], args["imds_bypass"], WININET_MACROS)
        bypass = ";".join(entries)
        if agent_reads:
            warnings.extend(proxy_warnings("proxy", proxy, READER))
            warnings.extend(bypass_warnings("bypass", entries, READER))
        if not args["imds_bypass"]:
            warnings.append(
                "imds_bypass=false: PowerShell and other WinINet clients send requests for the instance metadata service "
                "(169.254.169.254) to the proxy, where IMDSv2 credentials fail"
            )
    auto_config_url = "" if args.get("auto_config_url") is None else parse_auto_config_url(args["auto_config_url"])
    if agent_reads and (auto_config_url or args["auto_detect"]):
        warnings.append(
            "the SSM Agent ignores automatic detection and configuration scripts in LocalSystem's Internet settings "
            "(it logs that they are not supported) and uses only a manual proxy; PowerShell (.NET) does use them"
        )
    return Plan(targets=targets, state="present", proxy=proxy, bypass=bypass, auto_config_url=auto_config_url,
                auto_detect=args["auto_detect"], warnings=warnings)


# --- reading ---------------------------------------------------------------------------------------------


def read_host(host: WindowsHost, plan: Plan) -> HostState:
    """The policy key and every target's two keys, in one execution."""
    keys = [POLICY_KEY]
    for target in plan.targets:
        keys.extend((target.settings_key, target.connections_key))
    return host.read_state(keys)


def decode_value(key: RegistryKey, name: str) -> WinInetConnectionSettings | None:
    """A decoded connection-settings value, None when absent; BlobError names the value when it is corrupt."""
    value = key.get(name) if key.exists else None
    if value is None:
        return None
    value_name = f"{key.path}\\{name}"
    return decode_wininet_settings(binary_value(value.type, value.value, value_name=value_name), value_name=value_name)


def plain_values(settings: WinInetConnectionSettings) -> dict[str, RegistryValue | None]:
    """The legacy mirrors of a connection's settings, as Windows keeps them under ``Internet Settings``.

    ``ProxyEnable`` is the manual-proxy tick; ``ProxyServer`` / ``ProxyOverride`` hold the strings (kept
    while unticked, like the blob); ``AutoConfigURL`` exists only while the script is ticked. This follows
    what the Internet Options dialog is reported to leave behind; it is not taken from a primary source.
    """
    return {
        "ProxyEnable": RegistryValue("REG_DWORD", 1 if settings.manual_proxy else 0),
        "ProxyServer": RegistryValue("REG_SZ", settings.proxy) if settings.proxy else None,
        "ProxyOverride": RegistryValue("REG_SZ", settings.bypass) if settings.bypass else None,
        "AutoConfigURL": RegistryValue("REG_SZ", settings.auto_config_url) if settings.auto_config and settings.auto_config_url else None,
    }


@dataclasses.dataclass
class Change:
    """One registry write (value) or removal (value None)."""

    path: str
    name: str
    value: RegistryValue | None


@dataclasses.dataclass
class TargetOutcome:
    before: dict[str, t.Any]
    after: dict[str, t.Any]
    changes: list[Change]


def describe(settings: WinInetConnectionSettings | None) -> dict[str, t.Any] | None:
    if settings is None:
        return None
    described = settings.as_dict()
    for field in ("proxy", "bypass", "auto_config_url"):
        described[field] = redact(described[field])
    return described


def plain_out(values: dict[str, RegistryValue | None]) -> dict[str, t.Any]:
    return {name: None if value is None else (redact(value.value) if isinstance(value.value, str) else value.value) for name, value in values.items()}


def decide_target(target: Target, state: HostState, plan: Plan) -> TargetOutcome:
    """Compare one target's blob, legacy copy and plain values with the plan; list the writes needed."""
    settings_key = state.key(target.settings_key)
    connections_key = state.key(target.connections_key)
    if target.label not in ("local_system", "machine") and not settings_key.exists and not connections_key.exists:
        raise HostError(
            f"{target.settings_key} does not exist: the profile of {target.label} is not loaded (the user is not logged on) "
            "or the SID is wrong. Log the user on (or load the hive), or leave the SID out; nothing was written"
        )
    current = decode_value(connections_key, DEFAULT_CONNECTION)
    legacy = decode_value(connections_key, SAVED_LEGACY)
    # A missing DefaultConnectionSettings is not direct access: WinINet then detects settings automatically.
    wanted = plan.settings(current if current is not None else WinInetConnectionSettings())
    changes: list[Change] = []
    if current is None or wanted is not current:
        changes.append(Change(target.connections_key, DEFAULT_CONNECTION, RegistryValue("REG_BINARY", blob_to_reg_data(encode_wininet_settings(wanted)))))
    wanted_legacy = None if legacy is None else plan.settings(legacy)
    if legacy is not None and wanted_legacy is not legacy:
        changes.append(Change(target.connections_key, SAVED_LEGACY, RegistryValue("REG_BINARY", blob_to_reg_data(encode_wininet_settings(wanted_legacy)))))

    wanted_plain = plain_values(wanted)
    current_plain = {name: settings_key.get(name) if settings_key.exists else None for name in wanted_plain}
    if current_plain["ProxyEnable"] is None and wanted_plain["ProxyEnable"] == RegistryValue("REG_DWORD", 0):
        # A missing ProxyEnable reads as 0 (proxy off): writing the 0 would change nothing.
        wanted_plain["ProxyEnable"] = None
    for name, value in wanted_plain.items():
        if value != current_plain[name]:
            changes.append(Change(target.settings_key, name, value))
    return TargetOutcome(
        before={"default_connection_settings": describe(current), "saved_legacy_settings": describe(legacy), "legacy_values": plain_out(current_plain)},
        after={"default_connection_settings": describe(wanted), "saved_legacy_settings": describe(wanted_legacy), "legacy_values": plain_out(wanted_plain)},
        changes=changes,
    )


def decide_policy(state: HostState, plan: Plan) -> tuple[t.Any, t.Any, Change | None]:
    """ProxySettingsPerUser: 0 for scope=machine, removed (if 0) on reset; (before, after, change)."""
    existing = state.key(POLICY_KEY).get(POLICY_VALUE) if state.key(POLICY_KEY).exists else None
    before = None if existing is None else existing.value
    if plan.state == "present":
        wanted = RegistryValue("REG_DWORD", 0)
        return before, 0, None if existing == wanted else Change(POLICY_KEY, POLICY_VALUE, wanted)
    if existing is not None and existing.value == 0:
        return before, None, Change(POLICY_KEY, POLICY_VALUE, None)
    return before, before, None


def diff_text(outcomes: dict[str, dict[str, t.Any]]) -> str:
    lines = []
    for label, out in outcomes.items():
        settings = out.get("default_connection_settings")
        if settings is None:
            lines.append(f"{label}: (no DefaultConnectionSettings: WinINet detects settings automatically)")
        else:
            for field in ("manual_proxy", "proxy", "bypass", "auto_config", "auto_config_url", "auto_detect"):
                lines.append(f"{label}.{field}: {settings[field]}")
        if out.get("saved_legacy_settings") is not None:
            legacy = out["saved_legacy_settings"]
            lines.append(f"{label}.saved_legacy_settings: manual_proxy={legacy['manual_proxy']} proxy={legacy['proxy']} bypass={legacy['bypass']}")
        for name, value in out["legacy_values"].items():
            lines.append(f"{label}.{name}: {'(absent)' if value is None else value}")
        if "proxy_settings_per_user" in out:
            value = out["proxy_settings_per_user"]
            lines.append(f"policy.{POLICY_VALUE}: {'(absent)' if value is None else value}")
    return "".join(f"{line}\n" for line in lines)


def apply(host: WindowsHost, plan: Plan, check_mode: bool) -> dict[str, t.Any]:
    """Read once, decide every target (refusing corrupt values before any write), then write what differs."""
    state = read_host(host, plan)
    warnings = list(plan.warnings)
    try:
        outcomes = {target.label: decide_target(target, state, plan) for target in plan.targets}
    except BlobError as error:
        raise HostError(f"{error} Nothing was written.") from None
    changes = [change for outcome in outcomes.values() for change in outcome.changes]
    policy = state.key(POLICY_KEY).get(POLICY_VALUE) if state.key(POLICY_KEY).exists else None
    if plan.machine:
        before_policy, after_policy, policy_change = decide_policy(state, plan)
        outcomes["machine"].before["proxy_settings_per_user"] = before_policy
        outcomes["machine"].after["proxy_settings_per_user"] = after_policy
        if policy_change is not None:
            # Switch every user to the machine settings only once they are written; on reset, switch back first.
            changes = changes + [policy_change] if plan.state == "present" else [policy_change] + changes
    elif policy is not None and policy.value == 0:
        warnings.append(
            f"{POLICY_KEY}\\{POLICY_VALUE} is 0 on this host: WinINet uses the machine's settings for every user and ignores "
            "the per-user settings set here; use scope=machine, or remove the policy"
        )
    if not check_mode:
        for change in changes:
            if change.value is None:
                host.remove_value(change.path, change.name)
            else:
                host.write_value(change.path, change.name, change.value)
    before = {label: outcome.before for label, outcome in outcomes.items()}
    after = {label: outcome.after for label, outcome in outcomes.items()}
    return {
        "changed": bool(changes),
        "before": before,
        "after": after,
        "diff": {
            "before_header": "WinINet settings",
            "after_header": "WinINet settings",
            "before": diff_text(before),
            "after": diff_text(after),
        },
        "warnings": warnings,
    }


class ActionModule(SettingsAction):
    """Set or reset WinINet (Internet Explorer) proxy settings of LocalSystem, the machine or users."""

    ARGUMENT_SPEC = ARGUMENT_SPEC
    COMPONENT = "wininet_proxy"
    build_plan = staticmethod(build_plan)
    apply = staticmethod(apply)
