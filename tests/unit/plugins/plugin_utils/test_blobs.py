# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WinHttpSettings and DefaultConnectionSettings codecs against blobs written by Windows."""

from __future__ import annotations

import dataclasses
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.ssm.proxy.plugins.plugin_utils._blobs import (
    EMPTY_DETECTION_CACHE,
    PROXY_TYPE_AUTO_DETECT,
    PROXY_TYPE_AUTO_PROXY_URL,
    PROXY_TYPE_DIRECT,
    PROXY_TYPE_PROXY,
    U32_MAX,
    WINHTTP_HEADER_DEFAULT,
    WINHTTP_HEADER_NETSH,
    WINHTTP_VALUE_NAME,
    WININET_VERSION_IE5,
    WININET_VERSION_IE7,
    BlobError,
    WinHttpProxySettings,
    WinInetConnectionSettings,
    binary_value,
    blob_from_hex,
    blob_from_reg_data,
    blob_to_hex,
    blob_to_reg_data,
    decode_winhttp_settings,
    decode_wininet_settings,
    encode_winhttp_settings,
    encode_wininet_settings,
)

WINHTTP_NAME = WINHTTP_VALUE_NAME
WININET_NAME = r"HKU:\S-1-5-18\Software\Microsoft\Windows\CurrentVersion\Internet Settings\Connections\DefaultConnectionSettings"

# spec/blob-vectors.json, every vector, hex verbatim; the expected fields are read off the hex by hand.
# W1: KB4494447 "Data (for Direct Access or No Proxy)". W2: `netsh winhttp reset proxy` on a real machine.
WINHTTP_VECTORS = {
    "W1": ("1800000000000000010000000000000000000000", WinHttpProxySettings(proxy="", bypass="", header=0x18, counter=0, flags=1)),
    "W2": ("2800000000000000010000000000000000000000", WinHttpProxySettings(proxy="", bypass="", header=0x28, counter=0, flags=1)),
}
# I3/I4: one regedit export, Windows 10 / IE11 (I4 is SavedLegacySettings). I6: regedit export, Windows 7.
# I13/I14: vbfox/proxyconf serialization.rs tests ie8_deserialize_no_proxy / ie8_deserialize_some_proxy.
ZERO_CACHE_46 = bytes(32)
WININET_VECTORS = {
    "I3": (
        "460000000a000000010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        WinInetConnectionSettings(proxy="", bypass="", auto_config_url="", flags=0x1, version=0x46, counter=10, detection_cache=ZERO_CACHE_46),
    ),
    "I4": (
        "46000000510000000b0000000c0000003132372e302e302e313a3830070000003c6c6f63616c3e"
        "000000000000000000000000000000000000000000000000000000000000000000000000",
        WinInetConnectionSettings(
            proxy="127.0.0.1:80", bypass="<local>", auto_config_url="", flags=0x0B, version=0x46, counter=0x51, detection_cache=ZERO_CACHE_46
        ),
    ),
    "I6": (
        "4600000003000000070000000e0000003139322e3136382e312e313a38300000000021000000687474703a2f2f7864756f7461692e636f6d2f7052734f334e4752"
        "332d2e7061630000000000000000000000000000000000000000000000000000000000000000",
        WinInetConnectionSettings(
            proxy="192.168.1.1:80",
            bypass="",
            auto_config_url="http://xduotai.com/pRsO3NGR3-.pac",
            flags=0x07,
            version=0x46,
            counter=3,
            detection_cache=ZERO_CACHE_46,
        ),
    ),
    "I13": (
        "460000003a000000010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        WinInetConnectionSettings(proxy="", bypass="", auto_config_url="", flags=0x1, version=0x46, counter=58, detection_cache=ZERO_CACHE_46),
    ),
    "I14": (
        "46000000400000000f0000000d000000676f6f676c652e636f6d3a34320b0000004c6f6c3b3c6c6f63616c3e11000000687474703a2f2f676f6f676c652e66722f"
        "0000000000000000000000000000000000000000000000000000000000000000",
        WinInetConnectionSettings(
            proxy="google.com:42",
            bypass="Lol;<local>",
            auto_config_url="http://google.fr/",
            flags=0x0F,
            version=0x46,
            counter=64,
            detection_cache=ZERO_CACHE_46,
        ),
    ),
}

# Further fixtures of vbfox/proxyconf (serialization.rs tests), not in blob-vectors.json: a named WinHTTP
# proxy, the IE5/6 layout (0x3C, 28-byte tail) and strings kept with every flag cleared.
PROXYCONF_WINHTTP_PROXY = "28000000000000000300000004000000613a3432040000002a2e3432"
PROXYCONF_IE6_NO_PROXY = "3C0000003A0000000900000000000000000000000000000000000000000000000000000000000000000000000000000000000000".lower()
PROXYCONF_IE8_PROXY_NOT_USED = (
    "4600000044000000010000000d000000676f6f676c652e636f6d3a34320b0000004c6f6c3b3c6c6f63616c3e11000000687474703a2f2f676f6f676c652e66722f"
    "0000000000000000000000000000000000000000000000000000000000000000"
)

# A 0x46 detection cache laid out as the spec describes (autodiscovery flags, last-known-good WPAD URL,
# FILETIME, 12 unknown bytes, one 128-byte SOCKADDR_STORAGE): non-zero bytes a change must keep.
WPAD_URL = b"http://wpad.example.internal/wpad.dat"
CACHE_WITH_WPAD = (
    struct.pack("<II", 0x1, len(WPAD_URL)) + WPAD_URL + struct.pack("<Q", 0x01D9A1B2C3D4E5F6) + bytes(12)
    + struct.pack("<I", 1) + bytes.fromhex("0200") + bytes([10, 0, 0, 5]) + bytes(122)
)

ALL_BLOBS = (
    [pytest.param(decode_winhttp_settings, hexa, id=name) for name, (hexa, _unused) in WINHTTP_VECTORS.items()]
    + [pytest.param(decode_wininet_settings, hexa, id=name) for name, (hexa, _unused) in WININET_VECTORS.items()]
    + [
        pytest.param(decode_winhttp_settings, PROXYCONF_WINHTTP_PROXY, id="proxyconf-winhttp-proxy"),
        pytest.param(decode_wininet_settings, PROXYCONF_IE6_NO_PROXY, id="proxyconf-ie6"),
        pytest.param(decode_wininet_settings, PROXYCONF_IE8_PROXY_NOT_USED, id="proxyconf-ie8-not-used"),
    ]
)

ascii_text = st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=0x7F), max_size=80)
u32 = st.integers(min_value=0, max_value=U32_MAX)


def pack_string(value: bytes) -> bytes:
    """A length-prefixed blob string, built independently of the codec under test."""
    return struct.pack("<I", len(value)) + value


# --- the vectors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", WINHTTP_VECTORS)
def test_winhttp_vector_decodes_to_its_fields(name: str) -> None:
    hexa, expected = WINHTTP_VECTORS[name]
    settings = decode_winhttp_settings(hexa, value_name=WINHTTP_NAME)
    assert settings == expected
    assert settings.is_direct and not settings.enabled
    assert len(bytes.fromhex(hexa)) == 20  # "A direct blob is exactly 20 bytes"


@pytest.mark.parametrize("name", WINHTTP_VECTORS)
def test_winhttp_vector_reencodes_byte_identical(name: str) -> None:
    hexa = WINHTTP_VECTORS[name][0]
    assert encode_winhttp_settings(decode_winhttp_settings(hexa)).hex() == hexa


@pytest.mark.parametrize("name", WININET_VECTORS)
def test_wininet_vector_decodes_to_its_fields(name: str) -> None:
    hexa, expected = WININET_VECTORS[name]
    assert decode_wininet_settings(hexa, value_name=WININET_NAME) == expected


@pytest.mark.parametrize("name", WININET_VECTORS)
def test_wininet_vector_reencodes_byte_identical(name: str) -> None:
    hexa = WININET_VECTORS[name][0]
    assert encode_wininet_settings(decode_wininet_settings(hexa)).hex() == hexa


@pytest.mark.parametrize(
    ("name", "manual_proxy", "auto_config", "auto_detect"),
    [("I3", False, False, False), ("I4", True, False, True), ("I6", True, True, False), ("I13", False, False, False), ("I14", True, True, True)],
)
def test_wininet_vector_flags(name: str, manual_proxy: bool, auto_config: bool, auto_detect: bool) -> None:
    settings = decode_wininet_settings(WININET_VECTORS[name][0])
    assert (settings.manual_proxy, settings.auto_config, settings.auto_detect) == (manual_proxy, auto_config, auto_detect)
    # Windows sets the direct bit in every blob it writes.
    assert settings.flags & PROXY_TYPE_DIRECT


@pytest.mark.parametrize(("decode", "hexa"), ALL_BLOBS)
def test_every_form_of_reg_data_decodes_alike(decode, hexa: str) -> None:
    blob = bytes.fromhex(hexa)
    expected = decode(blob)
    assert decode(list(blob)) == expected  # win_reg_stat `value`
    assert decode([f"0x{byte:02x}" for byte in blob]) == expected  # win_reg_stat `raw_value`
    assert decode("hex:" + ",".join(f"{byte:02X}" for byte in blob)) == expected  # win_regedit's hex: form
    assert decode(bytearray(blob)) == expected


def test_proxyconf_fixtures_decode_to_their_fields() -> None:
    assert decode_winhttp_settings(PROXYCONF_WINHTTP_PROXY) == WinHttpProxySettings(proxy="a:42", bypass="*.42", header=0x28, counter=0, flags=3)
    ie6 = decode_wininet_settings(PROXYCONF_IE6_NO_PROXY)
    assert ie6 == WinInetConnectionSettings(flags=0x9, version=0x3C, counter=58, detection_cache=bytes(28))
    assert ie6.auto_detect and not ie6.manual_proxy
    not_used = decode_wininet_settings(PROXYCONF_IE8_PROXY_NOT_USED)
    # The strings stay when every flag is cleared; "enabled" is the flag bit.
    assert (not_used.proxy, not_used.bypass, not_used.auto_config_url) == ("google.com:42", "Lol;<local>", "http://google.fr/")
    assert not (not_used.manual_proxy or not_used.auto_config or not_used.auto_detect)
    for decode, encode, hexa in (
        (decode_winhttp_settings, encode_winhttp_settings, PROXYCONF_WINHTTP_PROXY),
        (decode_wininet_settings, encode_wininet_settings, PROXYCONF_IE6_NO_PROXY),
        (decode_wininet_settings, encode_wininet_settings, PROXYCONF_IE8_PROXY_NOT_USED),
    ):
        assert encode(decode(hexa)).hex() == hexa


# --- WinHTTP: encoding as Windows does, and comparing ----------------------------------------------


def test_direct_is_what_netsh_reset_writes() -> None:
    assert encode_winhttp_settings(WinHttpProxySettings.direct()).hex() == WINHTTP_VECTORS["W2"][0]


def test_named_proxy_is_what_netsh_set_writes() -> None:
    settings = WinHttpProxySettings.named_proxy("a:42", "*.42")
    assert (settings.header, settings.counter, settings.flags) == (0x28, 0, 3)
    assert encode_winhttp_settings(settings).hex() == PROXYCONF_WINHTTP_PROXY


def test_headers_0x18_and_0x28_are_the_same_settings() -> None:
    default = decode_winhttp_settings(WINHTTP_VECTORS["W1"][0])
    netsh = decode_winhttp_settings(WINHTTP_VECTORS["W2"][0])
    assert default != netsh  # the fields differ ...
    assert default.same_as(netsh) and netsh.same_as(default)  # ... the settings do not
    assert default.without_proxy() is default  # nothing to write on a fresh host that should be direct
    proxy_0x18 = dataclasses.replace(WinHttpProxySettings.named_proxy("p:3128", "<local>"), header=WINHTTP_HEADER_DEFAULT)
    assert proxy_0x18.same_as(WinHttpProxySettings.named_proxy("p:3128", "<local>"))
    assert proxy_0x18.with_proxy("p:3128", "<local>") is proxy_0x18


def test_winhttp_readers_test_flag_0x2_only() -> None:
    stale = WinHttpProxySettings(proxy="old:8080", bypass="<local>", flags=PROXY_TYPE_DIRECT)
    assert stale.is_direct and stale.same_as(WinHttpProxySettings.direct())
    assert not stale.same_as(WinHttpProxySettings.named_proxy("old:8080", "<local>"))
    assert WinHttpProxySettings(proxy="p:1", flags=PROXY_TYPE_PROXY).enabled  # bit 0x2 without 0x1 still enables


def test_winhttp_changes() -> None:
    default = decode_winhttp_settings(WINHTTP_VECTORS["W1"][0])
    changed = default.with_proxy("http=p:3128;https=p:3128", "<local>;169.254.169.254")
    assert changed == WinHttpProxySettings(proxy="http=p:3128;https=p:3128", bypass="<local>;169.254.169.254", header=0x28, counter=0, flags=3)
    assert changed.with_proxy("other:80").bypass == ""
    assert encode_winhttp_settings(changed.without_proxy()).hex() == WINHTTP_VECTORS["W2"][0]
    with pytest.raises(ValueError, match="without_proxy"):
        default.with_proxy("")


def test_winhttp_as_dict() -> None:
    assert WinHttpProxySettings.named_proxy("p:1", "x").as_dict() == {
        "enabled": True, "proxy": "p:1", "bypass": "x", "header": 0x28, "counter": 0, "flags": 3,
    }


# --- WinINet: changes keep what they do not manage --------------------------------------------------


def test_change_keeps_detection_cache_and_bumps_counter() -> None:
    before = WinInetConnectionSettings(
        proxy="old:8080", bypass="<local>", flags=0x0B, version=0x46, counter=81, detection_cache=CACHE_WITH_WPAD
    )
    after = before.with_settings(proxy="p:3128", auto_detect=False)
    assert after == dataclasses.replace(before, proxy="p:3128", flags=0x03, counter=82)
    blob = encode_wininet_settings(after)
    assert blob.endswith(CACHE_WITH_WPAD)
    assert decode_wininet_settings(blob) == after


def test_counter_wraps_around() -> None:
    before = dataclasses.replace(decode_wininet_settings(WININET_VECTORS["I3"][0]), counter=U32_MAX)
    after = before.with_settings(proxy="p:3128", manual_proxy=True)
    assert after.counter == 0
    assert encode_wininet_settings(after)[4:8] == bytes(4)


def test_unchanged_settings_are_not_bumped() -> None:
    before = decode_wininet_settings(WININET_VECTORS["I14"][0])
    assert before.with_settings(proxy="google.com:42", manual_proxy=True, auto_detect=True) is before
    assert before.with_settings() is before


def test_clearing_a_flag_keeps_its_string() -> None:
    before = decode_wininet_settings(WININET_VECTORS["I14"][0])
    after = before.with_settings(manual_proxy=False, auto_config=False, auto_detect=False)
    assert (after.proxy, after.bypass, after.auto_config_url) == (before.proxy, before.bypass, before.auto_config_url)
    assert (after.flags, after.counter) == (PROXY_TYPE_DIRECT, 65)
    # The same layout as proxyconf's "proxy not used" fixture, which differs only in its counter (68).
    expected = bytearray.fromhex(PROXYCONF_IE8_PROXY_NOT_USED)
    expected[4:8] = struct.pack("<I", 65)
    assert encode_wininet_settings(after) == bytes(expected)


def test_change_sets_the_direct_bit_and_keeps_unknown_bits() -> None:
    odd = WinInetConnectionSettings(flags=0x100)
    assert odd.with_settings(auto_detect=True).flags == 0x100 | PROXY_TYPE_DIRECT | PROXY_TYPE_AUTO_DETECT


def test_ie5_layout_keeps_its_version_and_tail() -> None:
    before = decode_wininet_settings(PROXYCONF_IE6_NO_PROXY)
    after = before.with_settings(proxy="p:3128", manual_proxy=True, auto_detect=False)
    assert (after.version, after.detection_cache, after.flags, after.counter) == (0x3C, bytes(28), 0x3, 59)


def test_first_value_is_written_as_windows_does() -> None:
    settings = WinInetConnectionSettings().with_settings(proxy="127.0.0.1:80", bypass="<local>", manual_proxy=True, auto_detect=True)
    # I4's bytes but for the counter: version 0x46, flags 0x0b, 32 zero bytes after the strings.
    expected = bytearray.fromhex(WININET_VECTORS["I4"][0])
    expected[4:8] = struct.pack("<I", 1)
    assert encode_wininet_settings(settings) == bytes(expected)


@pytest.mark.parametrize(("version", "size"), [(WININET_VERSION_IE7, 32), (WININET_VERSION_IE5, 28)])
def test_default_detection_cache_per_version(version: int, size: int) -> None:
    settings = WinInetConnectionSettings(version=version)
    assert settings.detection_cache == bytes(size) == EMPTY_DETECTION_CACHE[version]
    assert len(encode_wininet_settings(settings)) == 24 + size


def test_comparison_ignores_version_counter_and_cache() -> None:
    ie7 = decode_wininet_settings(WININET_VECTORS["I13"][0])
    ie5 = WinInetConnectionSettings(version=0x3C, counter=3)
    cached = dataclasses.replace(ie7, detection_cache=CACHE_WITH_WPAD, counter=1000)
    assert ie7.same_as(ie5) and ie7.same_as(cached)
    assert not ie7.same_as(ie7.with_settings(auto_detect=True))
    assert not ie7.same_as(dataclasses.replace(ie7, proxy="p:1"))  # a string counts even with its flag clear


def test_wininet_as_dict() -> None:
    assert decode_wininet_settings(WININET_VECTORS["I6"][0]).as_dict() == {
        "manual_proxy": True,
        "proxy": "192.168.1.1:80",
        "bypass": "",
        "auto_config": True,
        "auto_config_url": "http://xduotai.com/pRsO3NGR3-.pac",
        "auto_detect": False,
        "flags": 7,
        "version": 0x46,
        "counter": 3,
        "detection_cache": "00" * 32,
    }


# --- malformed blobs and bad input --------------------------------------------------------------------


def _truncations():
    for param in ALL_BLOBS:
        decode, hexa = param.values
        for length in range(len(bytes.fromhex(hexa))):
            yield pytest.param(decode, bytes.fromhex(hexa)[:length], id=f"{param.id}[:{length}]")


@pytest.mark.parametrize(("decode", "blob"), list(_truncations()))
def test_truncated_at_every_offset(decode, blob: bytes) -> None:
    with pytest.raises(BlobError, match="truncated") as caught:
        decode(blob, value_name="THE VALUE")
    assert str(caught.value).startswith("THE VALUE: ")
    assert caught.value.value_name == "THE VALUE"


@pytest.mark.parametrize("extra", [b"\x00", b"\x00\x00\x00\x00", b"junk"])
@pytest.mark.parametrize("hexa", [WINHTTP_VECTORS["W1"][0], PROXYCONF_WINHTTP_PROXY])
def test_winhttp_refuses_trailing_bytes(hexa: str, extra: bytes) -> None:
    with pytest.raises(BlobError, match="unexpected bytes follow the bypass string"):
        decode_winhttp_settings(bytes.fromhex(hexa) + extra, value_name=WINHTTP_NAME)


@pytest.mark.parametrize("header", [0, 0x14, 0x19, 0x27, 0x29, 0x3C, 0x46, U32_MAX])
def test_winhttp_refuses_unknown_header(header: int) -> None:
    blob = struct.pack("<I", header) + bytes.fromhex(WINHTTP_VECTORS["W2"][0])[4:]
    with pytest.raises(BlobError, match=f"header is 0x{header:x}.*netsh winhttp reset proxy") as caught:
        decode_winhttp_settings(blob, value_name=WINHTTP_NAME)
    assert str(caught.value).startswith(WINHTTP_NAME + ": ")


@pytest.mark.parametrize("version", [0, 0x18, 0x28, 0x3B, 0x3D, 0x45, 0x47, U32_MAX])
def test_wininet_refuses_unknown_version(version: int) -> None:
    blob = struct.pack("<I", version) + bytes.fromhex(WININET_VECTORS["I3"][0])[4:]
    with pytest.raises(BlobError, match=f"version is 0x{version:x}") as caught:
        decode_wininet_settings(blob, value_name=WININET_NAME)
    assert str(caught.value).startswith(WININET_NAME + ": ")


@pytest.mark.parametrize(("decode", "hexa"), ALL_BLOBS)
@pytest.mark.parametrize("excess", [1, 2, 1000, U32_MAX])
def test_length_past_the_end_is_refused(decode, hexa: str, excess: int) -> None:
    blob = bytearray.fromhex(hexa)
    # Lengthen the first string's length field (offset 12) past the end of the blob.
    new_length = min(len(blob) - 16 + excess, U32_MAX)
    blob[12:16] = struct.pack("<I", new_length)
    with pytest.raises(BlobError, match="past the end"):
        decode(bytes(blob), value_name="V")


@pytest.mark.parametrize("bad", [b"\xe9", b"\xc3\xa9", b"\xff", b"\x80", b"\x00"])
@pytest.mark.parametrize("decode", [decode_winhttp_settings, decode_wininet_settings])
def test_non_ascii_or_nul_string_is_refused_on_decode(decode, bad: bytes) -> None:
    proxy = b"pr" + bad + b"xy:80"
    if decode is decode_winhttp_settings:
        blob = struct.pack("<III", 0x28, 0, 3) + pack_string(proxy) + pack_string(b"")
    else:
        blob = struct.pack("<III", 0x46, 1, 3) + pack_string(proxy) + pack_string(b"") + pack_string(b"") + bytes(32)
    with pytest.raises(BlobError, match=r"proxy.*(non-ASCII byte|NUL)") as caught:
        decode(blob, value_name="THE VALUE")
    assert str(caught.value).startswith("THE VALUE: ")


@pytest.mark.parametrize("field", ["proxy", "bypass"])
@pytest.mark.parametrize("text", ["pröxy:80", "прокси:80", "p:80\u200b", "p\x00:80"])
def test_non_ascii_or_nul_is_refused_on_winhttp_encode(field: str, text: str) -> None:
    settings = dataclasses.replace(WinHttpProxySettings.named_proxy("p:80"), **{field: text})
    with pytest.raises(BlobError, match="(non-ASCII character|NUL).*punycode") as caught:
        encode_winhttp_settings(settings, value_name=WINHTTP_NAME)
    assert str(caught.value).startswith(WINHTTP_NAME + ": ")


@pytest.mark.parametrize("field", ["proxy", "bypass", "auto_config_url"])
@given(text=st.text(min_size=1, max_size=20).filter(lambda text: any(ord(char) > 0x7F or char == "\0" for char in text)))
def test_non_ascii_or_nul_is_refused_on_wininet_encode(field: str, text: str) -> None:
    settings = WinInetConnectionSettings().with_settings(**{field: text})
    with pytest.raises(BlobError) as caught:
        encode_wininet_settings(settings, value_name=WININET_NAME)
    assert str(caught.value).startswith(WININET_NAME + ": ")


@pytest.mark.parametrize(
    "settings",
    [
        WinHttpProxySettings(header=0x30),
        WinHttpProxySettings(counter=-1),
        WinHttpProxySettings(flags=U32_MAX + 1),
        WinHttpProxySettings(proxy=b"p:80"),  # type: ignore[arg-type]
    ],
)
def test_winhttp_encode_refuses_what_windows_cannot_store(settings: WinHttpProxySettings) -> None:
    with pytest.raises(BlobError):
        encode_winhttp_settings(settings)


@pytest.mark.parametrize(
    "settings",
    [
        WinInetConnectionSettings(version=0x47),
        WinInetConnectionSettings(counter=U32_MAX + 1),
        WinInetConnectionSettings(flags=True),
        WinInetConnectionSettings(detection_cache=bytes(31)),
        WinInetConnectionSettings(version=0x3C, detection_cache=bytes(27)),
    ],
)
def test_wininet_encode_refuses_what_windows_cannot_store(settings: WinInetConnectionSettings) -> None:
    with pytest.raises(BlobError):
        encode_wininet_settings(settings)


# --- converters ---------------------------------------------------------------------------------------


def test_reg_data_round_trip() -> None:
    blob = bytes.fromhex(WININET_VECTORS["I14"][0])
    data = blob_to_reg_data(blob)
    assert isinstance(data, list) and all(isinstance(byte, int) for byte in data)
    assert blob_from_reg_data(data, value_name="V") == blob
    assert blob_from_hex(blob_to_hex(blob), value_name="V") == blob
    assert blob_to_hex(blob) == WININET_VECTORS["I14"][0]  # lowercase, as the simulated host stores it


@pytest.mark.parametrize("text", ["28 00 00 00", "HEX:28,00,00,00", "28:00:00:00", " 28000000\n"])
def test_hex_forms(text: str) -> None:
    assert blob_from_hex(text, value_name="V") == b"\x28\x00\x00\x00"


@pytest.mark.parametrize("data", [[256], [-1], [True], [1.5], ["0xzz"], [None], "zz", "123", 42])
def test_bad_reg_data_is_refused(data) -> None:
    with pytest.raises(BlobError, match="^THE VALUE: "):
        blob_from_reg_data(data, value_name="THE VALUE")


def test_binary_value_checks_the_registry_type() -> None:
    assert binary_value("REG_BINARY", [1, 2], value_name="V") == b"\x01\x02"
    with pytest.raises(BlobError, match="REG_SZ.*REG_BINARY"):
        binary_value("REG_SZ", "p:80", value_name="V")


# --- properties -------------------------------------------------------------------------------------


winhttp_settings = st.builds(
    WinHttpProxySettings, proxy=ascii_text, bypass=ascii_text, header=st.sampled_from([0x18, 0x28]), counter=u32, flags=u32
)


@st.composite
def wininet_settings(draw) -> WinInetConnectionSettings:
    version = draw(st.sampled_from([WININET_VERSION_IE7, WININET_VERSION_IE5]))
    cache = EMPTY_DETECTION_CACHE[version] + draw(st.binary(max_size=300))
    return WinInetConnectionSettings(
        proxy=draw(ascii_text),
        bypass=draw(ascii_text),
        auto_config_url=draw(ascii_text),
        flags=draw(u32),
        version=version,
        counter=draw(u32),
        detection_cache=draw(st.sampled_from([EMPTY_DETECTION_CACHE[version], cache, CACHE_WITH_WPAD])),
    )


@given(winhttp_settings)
def test_winhttp_decode_of_encode_is_identity(settings: WinHttpProxySettings) -> None:
    assert decode_winhttp_settings(encode_winhttp_settings(settings)) == settings


@given(wininet_settings())
def test_wininet_decode_of_encode_is_identity(settings: WinInetConnectionSettings) -> None:
    assert decode_wininet_settings(blob_to_reg_data(encode_wininet_settings(settings))) == settings


ascii_bytes = st.binary(max_size=80).map(lambda raw: bytes(byte % 0x7F + 1 for byte in raw))


@given(st.sampled_from([0x18, 0x28]), u32, u32, ascii_bytes, ascii_bytes)
def test_winhttp_encode_of_decode_is_identity(header: int, counter: int, flags: int, proxy: bytes, bypass: bytes) -> None:
    blob = struct.pack("<III", header, counter, flags) + pack_string(proxy) + pack_string(bypass)
    assert encode_winhttp_settings(decode_winhttp_settings(blob)) == blob


@given(st.sampled_from([0x3C, 0x46]), u32, u32, ascii_bytes, ascii_bytes, ascii_bytes, st.binary(max_size=300))
def test_wininet_encode_of_decode_is_identity(version, counter, flags, proxy, bypass, url, extra) -> None:
    cache = EMPTY_DETECTION_CACHE[version] + extra
    blob = struct.pack("<III", version, counter, flags) + pack_string(proxy) + pack_string(bypass) + pack_string(url) + cache
    assert encode_wininet_settings(decode_wininet_settings(blob)) == blob


@given(wininet_settings(), st.one_of(st.none(), ascii_text), st.one_of(st.none(), st.booleans()), st.one_of(st.none(), st.booleans()))
def test_wininet_change_keeps_unmanaged_fields(settings, proxy, manual_proxy, auto_detect) -> None:
    after = settings.with_settings(proxy=proxy, manual_proxy=manual_proxy, auto_detect=auto_detect)
    assert (after.version, after.detection_cache, after.bypass, after.auto_config_url) == (
        settings.version, settings.detection_cache, settings.bypass, settings.auto_config_url,
    )
    assert after.flags & ~(PROXY_TYPE_DIRECT | PROXY_TYPE_PROXY | PROXY_TYPE_AUTO_DETECT) == settings.flags & ~(
        PROXY_TYPE_DIRECT | PROXY_TYPE_PROXY | PROXY_TYPE_AUTO_DETECT
    )
    assert bool(after.flags & PROXY_TYPE_AUTO_PROXY_URL) == bool(settings.flags & PROXY_TYPE_AUTO_PROXY_URL)
    if after.same_as(settings):
        assert after is settings
    else:
        assert after.counter == (settings.counter + 1) % 2**32
        assert after.flags & PROXY_TYPE_DIRECT
    assert decode_wininet_settings(encode_wininet_settings(after)) == after


@given(winhttp_settings, ascii_text.filter(bool), ascii_text)
def test_winhttp_change_then_compare(settings, proxy, bypass) -> None:
    after = settings.with_proxy(proxy, bypass)
    assert after.enabled and after.effective() == (True, proxy, bypass)
    if after is not settings:
        assert after.header == WINHTTP_HEADER_NETSH
    assert after.with_proxy(proxy, bypass) is after
    direct = after.without_proxy()
    assert direct.is_direct and direct.same_as(WinHttpProxySettings.direct())
    assert direct.flags & PROXY_TYPE_DIRECT
