# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Codecs for the two REG_BINARY blobs in which Windows keeps its proxy settings.

``WinHttpSettings`` holds the machine's WinHTTP default proxy (``netsh winhttp``; read by Windows Update
and Patch Manager). ``DefaultConnectionSettings`` (and ``SavedLegacySettings``, and one value per dial-up
or VPN connection) holds a user's WinINet / Internet Explorer settings (read by PowerShell's
``System.Net.WebRequest`` in Run Command). The upstream modules set both through the Win32 API for the
connecting user only and cannot read a host configured by ``netsh`` back, so the collection reads and
writes the registry values itself; these codecs make that byte-exact with what Windows writes.

Sources for the formats: Microsoft KB4494447, the .NET Framework reference source
(``System/net/System/Net/_RegBlobWebProxyDataBuilder.cs``), Wine ``dlls/winhttp/session.c`` and public
regedit exports; see the collection's ``registry-blobs`` spec and the vectors in the unit tests.

Everything here is pure (no Ansible, no host I/O). Blobs come in as win_reg_stat reports REG_BINARY (a
list of ints) and go out as a list of ints that win_regedit's ``data`` takes for ``type: binary``.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the ssm.proxy collection and may not remain
# stable to outside uses. Changes may be made in ANY release, even a bugfix release.

from __future__ import annotations

import dataclasses
import re
import struct
import typing as t
from collections.abc import Sequence

# Proxy type flags, as named in the .NET reference source (_RegBlobWebProxyDataBuilder.ProxyTypeFlags)
# and WinINet's INTERNET_PER_CONN_FLAGS. WinHTTP uses the first two only.
PROXY_TYPE_DIRECT = 0x1
PROXY_TYPE_PROXY = 0x2
PROXY_TYPE_AUTO_PROXY_URL = 0x4
PROXY_TYPE_AUTO_DETECT = 0x8

# WinHttpSettings header: 0x18 on fresh hives (KB4494447's "direct access" data; Wine's
# WINHTTP_SETTINGS_MAGIC), 0x28 from netsh on 64-bit Windows. Both are read alike; we write 0x28.
WINHTTP_HEADER_DEFAULT = 0x18
WINHTTP_HEADER_NETSH = 0x28
WINHTTP_HEADERS = (WINHTTP_HEADER_DEFAULT, WINHTTP_HEADER_NETSH)

# DefaultConnectionSettings version: 0x46 from IE7 through Windows 11, 0x3C in the IE5/6 layout (.NET reads
# any blob whose first DWORD is >= IE50StrucSize = 60 = 0x3C).
WININET_VERSION_IE7 = 0x46
WININET_VERSION_IE5 = 0x3C
WININET_VERSIONS = (WININET_VERSION_IE5, WININET_VERSION_IE7)
# What Windows writes after the three strings when it has no detection cache: 32 zero bytes for 0x46
# (autodiscovery flags, empty last-known-good URL, FILETIME, 12 unknown bytes, address count) and 28 for
# 0x3C (flags, empty URL, FILETIME, IPv4 count, empty secondary URL, reload delay). Each field is present
# even when empty, so no blob Windows writes has less: a shorter tail means a truncated blob.
EMPTY_DETECTION_CACHE = {WININET_VERSION_IE7: bytes(32), WININET_VERSION_IE5: bytes(28)}

U32_MAX = 0xFFFFFFFF

# Names used in messages when the caller does not pass the full registry path.
WINHTTP_VALUE_NAME = r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\Connections\WinHttpSettings"
WININET_VALUE_NAME = "DefaultConnectionSettings"

_WINHTTP_REMEDY = (
    "Windows does not write such a value; inspect it with 'netsh winhttp show proxy' or 'reg query', "
    "and run 'netsh winhttp reset proxy' to rewrite it as direct access before managing it here"
)
_WININET_REMEDY = (
    "Windows does not write such a value; inspect it with 'reg query', and re-save the settings in Internet "
    "Options (or delete the value, which WinINet reads as 'automatically detect settings') before managing it here"
)
_INPUT_REMEDY = (
    "Use ASCII characters other than NUL (an internationalised host name in its punycode 'xn--' form): "
    "how Windows stores other characters in these blobs is not verified"
)

_HEX_SEPARATORS_RE = re.compile(r"[\s,:]")

BlobInput = t.Union[bytes, bytearray, Sequence[int], Sequence[str], str]


class BlobError(ValueError):
    """A registry blob (or settings to encode) that Windows would not write.

    The message names the registry value, says what is wrong and what to do, so that an action plugin
    can fail with it as is. Nothing should be written to a host after this error.
    """

    def __init__(self, value_name: str, problem: str, remedy: str) -> None:
        super().__init__(f"{value_name}: {problem}. {remedy}.")
        self.value_name = value_name
        self.problem = problem


# --- conversions between the module formats and bytes ----------------------------------------------


def blob_from_hex(text: str, *, value_name: str) -> bytes:
    """Bytes from hex text: ``"2800..."`` (the simulated host's state), ``"hex:28,00"`` (win_regedit) or ``"28 00"``.

    Separators (commas, colons, white space) and an ``hex:`` prefix are ignored, case too.
    """
    digits = text.strip()
    if digits[:4].lower() == "hex:":
        digits = digits[4:]
    digits = _HEX_SEPARATORS_RE.sub("", digits)
    try:
        return bytes.fromhex(digits)
    except ValueError:
        raise BlobError(value_name, f"{text[:40]!r} is not hex bytes", "Pass the REG_BINARY data as hex digits, e.g. '2800000000'") from None


def _byte_from_item(item: t.Any, index: int, value_name: str) -> int:
    """One byte of a list as win_reg_stat returns it: an int (``value``) or a ``"0xNN"`` string (``raw_value``)."""
    byte = item
    if isinstance(item, str):
        try:
            byte = int(item, 16)
        except ValueError:
            byte = None
    if isinstance(byte, bool) or not isinstance(byte, int) or not 0 <= byte <= 0xFF:
        raise BlobError(
            value_name,
            f"item {index} of the REG_BINARY data is {item!r}, not a byte",
            "Pass win_reg_stat's 'value' for the value (a list of ints from 0 to 255)",
        )
    return byte


def blob_from_reg_data(data: BlobInput, *, value_name: str) -> bytes:
    """Bytes from REG_BINARY data in any form the collection meets.

    win_reg_stat returns ``value`` as a list of ints and ``raw_value`` as a list of ``"0xNN"`` strings;
    the simulated host and win_regedit use hex text. Bytes pass through.
    """
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, str):
        return blob_from_hex(data, value_name=value_name)
    if isinstance(data, Sequence):
        return bytes(_byte_from_item(item, index, value_name) for index, item in enumerate(data))
    raise BlobError(value_name, f"the REG_BINARY data is a {type(data).__name__}", "Pass win_reg_stat's 'value' (a list of ints)")


def binary_value(reg_type: str, data: t.Any, *, value_name: str) -> bytes:
    """The bytes of a registry value that must be REG_BINARY, as win_reg_stat reports ``type`` and ``value``.

    A proxy blob stored as another type is not one WinINet or WinHTTP reads, so it is refused rather than
    overwritten blindly.
    """
    if reg_type != "REG_BINARY":
        raise BlobError(
            value_name,
            f"the value is {reg_type}, but Windows stores it as REG_BINARY",
            "Inspect it with 'reg query' and delete the value if it was written by mistake",
        )
    return blob_from_reg_data(data, value_name=value_name)


def blob_to_reg_data(blob: bytes) -> list[int]:
    """The list of ints that win_regedit takes as ``data`` for ``type: binary`` (and win_reg_stat returns)."""
    return list(blob)


def blob_to_hex(blob: bytes) -> str:
    """Lowercase hex without separators: how the simulated host stores REG_BINARY, and a readable diff."""
    return blob.hex()


# --- low-level reading and writing ---------------------------------------------------------------------


class _BlobReader:
    """Reads u32 fields and length-prefixed strings, refusing anything that runs past the end."""

    def __init__(self, blob: bytes, value_name: str, remedy: str) -> None:
        self.blob = blob
        self.offset = 0
        self.value_name = value_name
        self.remedy = remedy

    def fail(self, problem: str) -> t.NoReturn:
        raise BlobError(self.value_name, problem, self.remedy)

    @property
    def remaining(self) -> int:
        return len(self.blob) - self.offset

    def u32(self, field: str) -> int:
        # Every integer in both formats is a little-endian DWORD.
        if self.remaining < 4:
            self.fail(f"the blob is truncated: it is {len(self.blob)} bytes long and ends inside the {field} at offset {self.offset}")
        (number,) = struct.unpack_from("<I", self.blob, self.offset)
        self.offset += 4
        return number

    def string(self, field: str) -> str:
        # Strings are a DWORD byte count and that many bytes, without a terminating NUL
        # (.NET ProxyRegBlob.ReadString, Wine copy_char_to_wchar_sz).
        length_offset = self.offset
        length = self.u32(f"length of the {field}")
        if length > self.remaining:
            self.fail(
                f"the {field} length at offset {length_offset} is {length}, past the end of the {len(self.blob)}-byte blob "
                f"({self.remaining} bytes left): the blob is truncated or corrupt"
            )
        raw = self.blob[self.offset:self.offset + length]
        problem = _string_problem(raw)
        if problem:
            self.fail(f"the {field} at offset {self.offset} {problem}")
        self.offset += length
        return raw.decode("ascii")

    def rest(self) -> bytes:
        tail = self.blob[self.offset:]
        self.offset = len(self.blob)
        return tail


def _string_problem(raw: bytes) -> str | None:
    """Why these string bytes are not what the codecs accept, or None.

    ASCII only: readers disagree on other bytes (.NET decodes UTF-8, Wine widens byte by byte) and what
    Windows writes for them is not verified. No NUL: Windows stores the length, not a terminator, and C
    readers would cut the string there.
    """
    for index, byte in enumerate(raw):
        if byte > 0x7F:
            return f"has the non-ASCII byte 0x{byte:02x} at position {index} (an encoding this collection has not verified, so it does not read it)"
        if byte == 0:
            return f"has a NUL byte at position {index}"
    return None


def _check_u32(value_name: str, field: str, number: t.Any) -> None:
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= U32_MAX:
        raise BlobError(value_name, f"the {field} is {number!r}, not a DWORD (0 to 0xFFFFFFFF)", "Use a value decoded from the host")


def _encode_string(value_name: str, field: str, value: t.Any) -> bytes:
    if not isinstance(value, str):
        raise BlobError(value_name, f"the {field} is a {type(value).__name__}, not a string", "Pass a string")
    for position, char in enumerate(value):
        if ord(char) > 0x7F or char == "\0":
            kind = "a NUL" if char == "\0" else f"the non-ASCII character {char!r}"
            raise BlobError(value_name, f"the {field} {value!r} has {kind} at position {position}", _INPUT_REMEDY)
    return struct.pack("<I", len(value)) + value.encode("ascii")


# --- WinHttpSettings ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WinHttpProxySettings:
    """The WinHTTP default proxy, field by field as stored in ``WinHttpSettings``.

    ``header`` and ``counter`` carry no meaning for readers; :meth:`same_as` ignores them so that a host
    set by netsh (0x28) or left at the default (0x18) compares equal to the same settings written here.
    A missing value means direct access: use :meth:`direct`.
    """

    proxy: str = ""
    bypass: str = ""
    header: int = WINHTTP_HEADER_NETSH
    counter: int = 0
    flags: int = PROXY_TYPE_DIRECT

    @property
    def enabled(self) -> bool:
        """Whether WinHTTP uses the named proxy: readers test flag 0x2 only (Wine WinHttpGetDefaultProxyConfiguration)."""
        return bool(self.flags & PROXY_TYPE_PROXY)

    @property
    def is_direct(self) -> bool:
        """Direct access (``netsh winhttp show proxy``: "Direct access (no proxy server)")."""
        return not self.enabled

    @classmethod
    def direct(cls) -> WinHttpProxySettings:
        """What ``netsh winhttp reset proxy`` writes: header 0x28, counter 0, flags 1, two empty strings (20 bytes)."""
        return cls()

    @classmethod
    def named_proxy(cls, proxy: str, bypass: str = "") -> WinHttpProxySettings:
        """What ``netsh winhttp set proxy`` writes: header 0x28, counter 0, flags 3 (direct | proxy)."""
        return cls.direct().with_proxy(proxy, bypass)

    def effective(self) -> tuple[bool, str, str]:
        """What WinHTTP readers see: (enabled, proxy, bypass); the strings only count when enabled.

        WinHttpGetDefaultProxyConfiguration returns WINHTTP_ACCESS_TYPE_NO_PROXY and no strings when
        flag 0x2 is clear (Wine session.c), so stale strings in a direct blob change nothing.
        """
        if self.enabled:
            return (True, self.proxy, self.bypass)
        return (False, "", "")

    def same_as(self, other: WinHttpProxySettings) -> bool:
        """Whether both configure WinHTTP the same way, whatever their header, counter and unused strings."""
        return self.effective() == other.effective()

    def with_proxy(self, proxy: str, bypass: str = "") -> WinHttpProxySettings:
        """These settings changed to use ``proxy``; ``self`` when they already do (nothing to write).

        A change is written as netsh writes it (header 0x28, flags direct | proxy); the counter and any
        flag bit this codec does not know are kept.
        """
        if not proxy:
            raise ValueError("with_proxy() needs a proxy; use without_proxy() for direct access")
        changed = dataclasses.replace(
            self, proxy=proxy, bypass=bypass, header=WINHTTP_HEADER_NETSH, flags=self.flags | PROXY_TYPE_DIRECT | PROXY_TYPE_PROXY
        )
        return self if changed.same_as(self) else changed

    def without_proxy(self) -> WinHttpProxySettings:
        """These settings changed to direct access; ``self`` when already direct.

        A direct blob from netsh is exactly 20 bytes: both strings are emptied.
        """
        if self.is_direct:
            return self
        return dataclasses.replace(
            self, proxy="", bypass="", header=WINHTTP_HEADER_NETSH, flags=(self.flags & ~PROXY_TYPE_PROXY) | PROXY_TYPE_DIRECT
        )

    def as_dict(self) -> dict[str, t.Any]:
        """The decoded fields for a module's ``before``/``after`` and diff."""
        return {
            "enabled": self.enabled,
            "proxy": self.proxy,
            "bypass": self.bypass,
            "header": self.header,
            "counter": self.counter,
            "flags": self.flags,
        }


def decode_winhttp_settings(data: BlobInput, *, value_name: str = WINHTTP_VALUE_NAME) -> WinHttpProxySettings:
    """Decode a ``WinHttpSettings`` value (win_reg_stat's list of ints, hex text or bytes).

    Accepts both headers Windows writes and nothing else: an unknown header, a truncated blob, a length
    past the end, bytes after the bypass string or a non-ASCII string raise :class:`BlobError`.
    """
    reader = _BlobReader(blob_from_reg_data(data, value_name=value_name), value_name, _WINHTTP_REMEDY)
    header = reader.u32("header")
    if header not in WINHTTP_HEADERS:
        reader.fail(f"the header is 0x{header:x}; WinHttpSettings blobs start with 0x18 or 0x28")
    counter = reader.u32("counter")
    flags = reader.u32("flags")
    proxy = reader.string("proxy string")
    bypass = reader.string("bypass string")
    # Nothing follows the bypass string (KB4494447's 20-byte direct blob; netsh writes nothing more).
    if reader.remaining:
        reader.fail(f"unexpected bytes follow the bypass string: {reader.remaining} from offset {reader.offset} to the end")
    return WinHttpProxySettings(proxy=proxy, bypass=bypass, header=header, counter=counter, flags=flags)


def encode_winhttp_settings(settings: WinHttpProxySettings, *, value_name: str = WINHTTP_VALUE_NAME) -> bytes:
    """Encode settings as ``WinHttpSettings`` bytes; a decoded blob re-encodes to the same bytes.

    Pass them through :func:`blob_to_reg_data` for win_regedit.
    """
    if settings.header not in WINHTTP_HEADERS:
        raise BlobError(value_name, f"the header 0x{settings.header:x} is not one Windows writes (0x18 or 0x28)", "Use 0x28, as netsh does")
    _check_u32(value_name, "counter", settings.counter)
    _check_u32(value_name, "flags", settings.flags)
    return (
        struct.pack("<III", settings.header, settings.counter, settings.flags)
        + _encode_string(value_name, "proxy", settings.proxy)
        + _encode_string(value_name, "bypass list", settings.bypass)
    )


# --- DefaultConnectionSettings (WinINet) ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WinInetConnectionSettings:
    """One WinINet connection's settings (``DefaultConnectionSettings``, ``SavedLegacySettings``, ...).

    Each setting is a flag bit plus a string; the strings stay when their flag is cleared (the Internet
    Options dialog keeps them), so "enabled" is always the flag bit. ``detection_cache`` is the opaque
    tail after the three strings (WPAD cache), kept byte for byte; it defaults to what Windows writes
    when there is no cache for ``version``.

    A missing value is not "direct": WinINet and .NET then detect settings automatically (.NET
    GetWebProxyData: "if registry access fails rely on automatic detection"). Build a first value with
    ``WinInetConnectionSettings().with_settings(...)``.
    """

    proxy: str = ""
    bypass: str = ""
    auto_config_url: str = ""
    flags: int = PROXY_TYPE_DIRECT
    version: int = WININET_VERSION_IE7
    counter: int = 0
    detection_cache: bytes | None = None

    def __post_init__(self) -> None:
        # None stands for "no cache": the zero bytes Windows writes for this version (an unknown
        # version keeps None, which encode_wininet_settings refuses).
        if self.detection_cache is None and self.version in EMPTY_DETECTION_CACHE:
            object.__setattr__(self, "detection_cache", EMPTY_DETECTION_CACHE[self.version])

    @property
    def manual_proxy(self) -> bool:
        """"Use a proxy server for your LAN" (0x2); WinHttpGetIEProxyConfigForCurrentUser reports the proxy only then."""
        return bool(self.flags & PROXY_TYPE_PROXY)

    @property
    def auto_config(self) -> bool:
        """"Use automatic configuration script" (0x4)."""
        return bool(self.flags & PROXY_TYPE_AUTO_PROXY_URL)

    @property
    def auto_detect(self) -> bool:
        """"Automatically detect settings" (0x8, WPAD)."""
        return bool(self.flags & PROXY_TYPE_AUTO_DETECT)

    def effective(self) -> tuple[int, str, str, str]:
        """The settings without the bookkeeping (version, counter, detection cache): (flags, proxy, bypass, URL).

        The strings count even when their flag is clear, because the dialog shows them and a later tick
        re-enables them.
        """
        return (self.flags, self.proxy, self.bypass, self.auto_config_url)

    def same_as(self, other: WinInetConnectionSettings) -> bool:
        """Whether both hold the same settings, whatever their version, counter and detection cache."""
        return self.effective() == other.effective()

    def with_settings(
        self,
        *,
        proxy: str | None = None,
        bypass: str | None = None,
        auto_config_url: str | None = None,
        manual_proxy: bool | None = None,
        auto_config: bool | None = None,
        auto_detect: bool | None = None,
    ) -> WinInetConnectionSettings:
        """These settings with the given fields changed (None keeps a field); ``self`` when nothing changes.

        As WinINet does on a save: the direct bit (0x1) is set, the counter goes up by one (a DWORD that
        wraps), and the version, unknown flag bits and detection cache are kept byte for byte.
        """
        flags = self.flags | PROXY_TYPE_DIRECT
        for wanted, bit in ((manual_proxy, PROXY_TYPE_PROXY), (auto_config, PROXY_TYPE_AUTO_PROXY_URL), (auto_detect, PROXY_TYPE_AUTO_DETECT)):
            if wanted is not None:
                flags = (flags | bit) if wanted else (flags & ~bit)
        changed = dataclasses.replace(
            self,
            flags=flags,
            proxy=self.proxy if proxy is None else proxy,
            bypass=self.bypass if bypass is None else bypass,
            auto_config_url=self.auto_config_url if auto_config_url is None else auto_config_url,
        )
        if changed.same_as(self):
            return self
        return dataclasses.replace(changed, counter=(self.counter + 1) & U32_MAX)

    def as_dict(self) -> dict[str, t.Any]:
        """The decoded fields for a module's ``before``/``after`` and diff (the cache as hex)."""
        return {
            "manual_proxy": self.manual_proxy,
            "proxy": self.proxy,
            "bypass": self.bypass,
            "auto_config": self.auto_config,
            "auto_config_url": self.auto_config_url,
            "auto_detect": self.auto_detect,
            "flags": self.flags,
            "version": self.version,
            "counter": self.counter,
            "detection_cache": blob_to_hex(self.detection_cache) if isinstance(self.detection_cache, bytes) else None,
        }


def _check_detection_cache(value_name: str, version: int, cache: t.Any, remedy: str) -> None:
    minimum = len(EMPTY_DETECTION_CACHE[version])
    if not isinstance(cache, bytes) or len(cache) < minimum:
        size = len(cache) if isinstance(cache, bytes) else 0
        raise BlobError(
            value_name,
            f"the blob is truncated: {size} bytes follow the auto-config URL, and Windows writes at least {minimum} "
            f"(the detection cache) for version 0x{version:x}",
            remedy,
        )


def decode_wininet_settings(data: BlobInput, *, value_name: str = WININET_VALUE_NAME) -> WinInetConnectionSettings:
    """Decode a ``DefaultConnectionSettings``-format value (win_reg_stat's list of ints, hex text or bytes).

    Accepts versions 0x46 and 0x3C with or without a detection cache; an unknown version, a truncated
    blob, a length past the end or a non-ASCII string raise :class:`BlobError`.
    """
    reader = _BlobReader(blob_from_reg_data(data, value_name=value_name), value_name, _WININET_REMEDY)
    version = reader.u32("version")
    if version not in WININET_VERSIONS:
        reader.fail(f"the version is 0x{version:x}; WinINet writes 0x46 (IE7 and later) or 0x3C (IE5/6)")
    counter = reader.u32("counter")
    flags = reader.u32("flags")
    proxy = reader.string("proxy server string")
    bypass = reader.string("bypass list")
    auto_config_url = reader.string("auto-config URL")
    cache = reader.rest()
    _check_detection_cache(value_name, version, cache, _WININET_REMEDY)
    return WinInetConnectionSettings(
        proxy=proxy, bypass=bypass, auto_config_url=auto_config_url, flags=flags, version=version, counter=counter, detection_cache=cache
    )


def encode_wininet_settings(settings: WinInetConnectionSettings, *, value_name: str = WININET_VALUE_NAME) -> bytes:
    """Encode settings in the ``DefaultConnectionSettings`` format; a decoded blob re-encodes to the same bytes.

    Pass them through :func:`blob_to_reg_data` for win_regedit.
    """
    if settings.version not in WININET_VERSIONS:
        raise BlobError(value_name, f"the version 0x{settings.version:x} is not one WinINet writes (0x46 or 0x3C)", "Use 0x46")
    _check_u32(value_name, "counter", settings.counter)
    _check_u32(value_name, "flags", settings.flags)
    _check_detection_cache(value_name, settings.version, settings.detection_cache, "Keep the detection cache decoded from the host")
    return (
        struct.pack("<III", settings.version, settings.counter, settings.flags)
        + _encode_string(value_name, "proxy", settings.proxy)
        + _encode_string(value_name, "bypass list", settings.bypass)
        + _encode_string(value_name, "auto-config URL", settings.auto_config_url)
        + settings.detection_cache
    )
