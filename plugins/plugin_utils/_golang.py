# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The parts of Go's standard library whose behaviour decides what the SSM Agent uses and logs.

Private to the ssm.proxy collection (internal use): no compatibility promises.

Ports of ``net/url`` (``url.Parse``, ``URL.String()``, ``URL.Host``), ``net/netip.ParseAddr`` (which
``url.Parse`` uses for bracketed hosts), ``strconv.Quote`` (error texts), ``fmt`` with a value used as the
format string and no arguments, and ``strings.Fields``. Go strings are bytes, not text: ``url.Parse``
decodes ``%FF`` into a byte that is not UTF-8. The URL functions therefore work on ``bytes``; text
returned to callers carries such bytes as surrogate escapes (``errors='surrogateescape'``).

The Go release matters in two corners (see :class:`GoRelease`); the default is what an agent built with a
current Go and a ``go.mod`` below ``go 1.26`` does. ``tests/unit/test_go_differential.py`` checks these
ports against the real Go toolchain on generated inputs.
"""

from __future__ import annotations

import dataclasses
import encodings.idna
import unicodedata

# net/url encoding modes (url.go: encodePath ... encodeFragment).
PATH, PATH_SEGMENT, HOST, ZONE, USER_PASSWORD, QUERY_COMPONENT, FRAGMENT = range(7)
_UPPER_HEX = b"0123456789ABCDEF"


class GoError(ValueError):
    """A Go error; ``str()`` is its ``Error()`` text (bytes that are not UTF-8 as surrogate escapes)."""


@dataclasses.dataclass(frozen=True)
class GoRelease:
    """The two ``url.Parse`` behaviours that differ between Go releases the agent may be built with.

    ``bracket_checks``: Go 1.24.8 / 1.25.2 and later refuse a ``[`` that does not open the host and a
    bracketed host that is not an IPv6 address (``[zz::1]``, ``[a,b]:80``, ``[1.2.3.4]``); earlier releases
    accept them. ``strict_colons``: Go 1.26 refuses a second ``:`` in an unbracketed http(s) host, unless
    GODEBUG ``urlstrictcolons=0``, which a main module whose go.mod says ``go 1.25`` or older gets by default.
    """

    bracket_checks: bool = True
    strict_colons: bool = False


CURRENT = GoRelease()
BEFORE_BRACKET_CHECKS = GoRelease(bracket_checks=False)
STRICT_COLONS = GoRelease(strict_colons=True)


def _as_text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _as_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


# --- strconv.Quote -----------------------------------------------------------------------------------------

_QUOTE_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v", '"': '\\"', "\\": "\\\\"}


def _go_is_print(char: str) -> bool:
    """unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space only."""
    return char == " " or unicodedata.category(char)[0] in "LMNPS"


def _next_rune(data: bytes, index: int) -> tuple[str | None, int]:
    """utf8.DecodeRune: the rune at ``index`` and its width, or (None, 1) for a byte that is not UTF-8."""
    lead = data[index]
    width = 1 if lead < 0x80 else 2 if 0xC2 <= lead < 0xE0 else 3 if 0xE0 <= lead < 0xF0 else 4 if 0xF0 <= lead < 0xF5 else 0
    if width:
        try:
            return data[index:index + width].decode("utf-8"), width
        except UnicodeDecodeError:
            pass
    return None, 1


def go_quote(value: bytes | str) -> str:
    """strconv.Quote: how Go's url and netip errors show their input."""
    data = _as_bytes(value) if isinstance(value, str) else value
    out = ['"']
    index = 0
    while index < len(data):
        char, width = _next_rune(data, index)
        index += width
        if char is None:
            out.append(f"\\x{data[index - 1]:02x}")
        elif char in _QUOTE_ESCAPES:
            out.append(_QUOTE_ESCAPES[char])
        elif _go_is_print(char):
            out.append(char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


# --- net/url escaping --------------------------------------------------------------------------------------

def _should_escape_reference(byte: int, mode: int) -> bool:
    """net/url shouldEscape (gen_encoding_table.go), RFC 3986 by URL part."""
    char = chr(byte)
    if byte < 0x80 and char.isalnum():
        return False
    if mode in (HOST, ZONE) and char in "!$&'()*+,;=:[]<>\"":
        # Sub-delims, ':' for the port, '[' ']' for IPv6 literals, '<' '>' '"' that Parse refuses anyway.
        return False
    if char in "-_.~":
        return False
    if char in "$&+,/:;=?@":
        if mode == PATH:
            return char == "?"
        if mode == PATH_SEGMENT:
            return char in "/;,?"
        if mode == USER_PASSWORD:
            return char in "@/?:"
        if mode == QUERY_COMPONENT:
            return True
        if mode == FRAGMENT:
            return False
    if mode == FRAGMENT and char in "!()*":
        return False
    return True


_ESCAPE_TABLE = tuple(frozenset(b for b in range(256) if _should_escape_reference(b, mode)) for mode in range(7))


def should_escape(byte: int, mode: int) -> bool:
    return byte in _ESCAPE_TABLE[mode]


def _is_hex(byte: int) -> bool:
    return byte in b"0123456789abcdefABCDEF"


def unescape(data: bytes, mode: int) -> bytes:
    """net/url unescape: validate every ``%XX`` (hosts: only non-ASCII bytes, or ``%25``), then decode."""
    index = 0
    while index < len(data):
        byte = data[index]
        if byte == 0x25:  # '%'
            if index + 2 >= len(data) or not _is_hex(data[index + 1]) or not _is_hex(data[index + 2]):
                raise GoError("invalid URL escape " + go_quote(data[index:index + 3]))
            escape_text = data[index:index + 3]
            # RFC 3986 §3.2.2: a host may percent-encode only non-ASCII bytes; RFC 6874 adds %25 for zones.
            if mode == HOST and int(chr(data[index + 1]), 16) < 8 and escape_text != b"%25":
                raise GoError("invalid URL escape " + go_quote(escape_text))
            if mode == ZONE:
                value = int(escape_text[1:], 16)
                if escape_text != b"%25" and value != 0x20 and should_escape(value, HOST):
                    raise GoError("invalid URL escape " + go_quote(escape_text))
            index += 3
            continue
        if mode in (HOST, ZONE) and byte < 0x80 and should_escape(byte, mode):
            raise GoError("invalid character " + go_quote(bytes([byte])) + " in host name")
        index += 1
    out = bytearray()
    index = 0
    while index < len(data):
        if data[index] == 0x25:
            out.append(int(data[index + 1:index + 3], 16))
            index += 3
        else:
            out.append(0x20 if data[index] == 0x2B and mode == QUERY_COMPONENT else data[index])
            index += 1
    return bytes(out)


def escape(data: bytes, mode: int) -> bytes:
    """net/url escape: %XX (upper-case hex) for every byte the mode does not allow."""
    out = bytearray()
    for byte in data:
        if byte == 0x20 and mode == QUERY_COMPONENT:
            out.append(0x2B)
        elif should_escape(byte, mode):
            out += b"%" + _UPPER_HEX[byte >> 4:(byte >> 4) + 1] + _UPPER_HEX[byte & 15:(byte & 15) + 1]
        else:
            out.append(byte)
    return bytes(out)


def _valid_encoded(data: bytes, mode: int) -> bool:
    """validEncoded: may RawPath / RawFragment be printed as they are?"""
    return all(byte in b"!$&'()*+,;=:@[]%" or not should_escape(byte, mode) for byte in data)


# --- net/netip.ParseAddr -----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class GoAddr:
    """A parsed IP address: 4 or 16 bytes and an IPv6 zone."""

    packed: bytes
    zone: bytes = b""

    @property
    def is4(self) -> bool:
        return len(self.packed) == 4


def _addr_error(data: bytes, message: str, at: bytes | None = None) -> GoError:
    text = "ParseAddr(" + go_quote(data) + "): " + message
    if at:
        text += " (at " + go_quote(at) + ")"
    return GoError(text)


def _parse_ipv4_fields(whole: bytes, part: bytes) -> bytes:
    fields: list[int] = []
    value = digits = 0
    for index, byte in enumerate(part):
        if 0x30 <= byte <= 0x39:
            if digits == 1 and value == 0:
                raise _addr_error(whole, "IPv4 field has octet with leading zero")
            value = value * 10 + byte - 0x30
            digits += 1
            if value > 255:
                raise _addr_error(whole, "IPv4 field has value >255")
        elif byte == 0x2E:
            if index == 0 or index == len(part) - 1 or part[index - 1] == 0x2E:
                raise _addr_error(whole, "IPv4 field must have at least one digit", part[index:])
            if len(fields) == 3:
                raise _addr_error(whole, "IPv4 address too long")
            fields.append(value)
            value = digits = 0
        else:
            raise _addr_error(whole, "unexpected character", part[index:])
    if len(fields) < 3:
        raise _addr_error(whole, "IPv4 address too short")
    return bytes(fields + [value])


def _parse_ipv6(whole: bytes) -> GoAddr:
    text, percent, zone = whole.partition(b"%")
    if percent and not zone:
        raise _addr_error(whole, "zone must be a non-empty string")
    groups: list[int] = []  # 16 bits each; an embedded IPv4 address adds two
    ellipsis = -1
    if text.startswith(b"::"):
        ellipsis = 0
        text = text[2:]
        if not text:
            return GoAddr(bytes(16), zone)
    while len(groups) < 8:
        offset = accumulator = 0
        while offset < len(text) and _is_hex(text[offset]):
            accumulator = (accumulator << 4) + int(chr(text[offset]), 16)
            if offset > 3:
                raise _addr_error(whole, "each group must have 4 or less digits", text)
            if accumulator > 0xFFFF:
                raise _addr_error(whole, "IPv6 field has value >=2^16", text)
            offset += 1
        if offset == 0:
            raise _addr_error(whole, "each colon-separated field must have at least one digit", text)
        if offset < len(text) and text[offset] == 0x2E:
            if ellipsis < 0 and len(groups) != 6:
                raise _addr_error(whole, "embedded IPv4 address must replace the final 2 fields of the address", text)
            if len(groups) + 2 > 8:
                raise _addr_error(whole, "too many hex fields to fit an embedded IPv4 at the end of the address", text)
            octets = _parse_ipv4_fields(whole, text)
            groups += [octets[0] << 8 | octets[1], octets[2] << 8 | octets[3]]
            text = b""
            break
        groups.append(accumulator)
        text = text[offset:]
        if not text:
            break
        if text[0] != 0x3A:
            raise _addr_error(whole, "unexpected character, want colon", text)
        if len(text) == 1:
            raise _addr_error(whole, "colon must be followed by more characters", text)
        text = text[1:]
        if text[0] == 0x3A:
            if ellipsis >= 0:
                raise _addr_error(whole, "multiple :: in address", text)
            ellipsis = len(groups)
            text = text[1:]
            if not text:
                break
    if text:
        raise _addr_error(whole, "trailing garbage after address", text)
    if len(groups) < 8:
        if ellipsis < 0:
            raise _addr_error(whole, "address string too short")
        groups = groups[:ellipsis] + [0] * (8 - len(groups)) + groups[ellipsis:]
    elif ellipsis >= 0:
        raise _addr_error(whole, "the :: must expand to at least one field of zeros")
    return GoAddr(b"".join(group.to_bytes(2, "big") for group in groups), zone)


def parse_addr(data: bytes) -> GoAddr:
    """netip.ParseAddr: dotted IPv4 (no leading zeros) or IPv6 with an optional ``%zone``."""
    for byte in data:
        if byte == 0x2E:
            return GoAddr(_parse_ipv4_fields(data, data))
        if byte == 0x3A:
            return _parse_ipv6(data)
        if byte == 0x25:
            raise _addr_error(data, "missing IPv6 address")
    raise _addr_error(data, "unable to parse IP")


# --- net/url.URL -------------------------------------------------------------------------------------------

@dataclasses.dataclass
class GoURL:
    """The fields of Go's ``url.URL`` (all bytes); ``user`` is (username, password or None) or None."""

    scheme: bytes = b""
    opaque: bytes = b""
    user: tuple[bytes, bytes | None] | None = None
    host: bytes = b""
    path: bytes = b""
    raw_path: bytes = b""
    omit_host: bool = False
    force_query: bool = False
    raw_query: bytes = b""
    fragment: bytes = b""
    raw_fragment: bytes = b""

    @property
    def host_text(self) -> str:
        """``URL.Host`` as text (what the agent puts in no_proxy)."""
        return _as_text(self.host)

    def escaped_path(self) -> bytes:
        """EscapedPath: RawPath when it is a valid encoding of Path, else Path escaped."""
        if self.raw_path and _valid_encoded(self.raw_path, PATH):
            try:
                if unescape(self.raw_path, PATH) == self.path:
                    return self.raw_path
            except GoError:
                pass
        if self.path == b"*":
            return b"*"
        return escape(self.path, PATH)

    def escaped_fragment(self) -> bytes:
        if self.raw_fragment and _valid_encoded(self.raw_fragment, FRAGMENT):
            try:
                if unescape(self.raw_fragment, FRAGMENT) == self.fragment:
                    return self.raw_fragment
            except GoError:
                pass
        return escape(self.fragment, FRAGMENT)

    def string_bytes(self) -> bytes:
        """URL.String(), which re-escapes what it prints."""
        out = bytearray()
        if self.scheme:
            out += self.scheme + b":"
        if self.opaque:
            out += self.opaque
        else:
            if (self.scheme or self.host or self.user is not None) and not (self.omit_host and not self.host and self.user is None):
                if self.host or self.path or self.user is not None:
                    out += b"//"
                if self.user is not None:
                    out += escape(self.user[0], USER_PASSWORD)
                    if self.user[1] is not None:
                        out += b":" + escape(self.user[1], USER_PASSWORD)
                    out += b"@"
                out += escape(self.host, HOST)
            path = self.escaped_path()
            if self.omit_host and not self.host and self.user is None and path.startswith(b"//"):
                out += b"%2F"
                path = path[1:]
            if path and path[:1] != b"/" and self.host:
                out += b"/"
            if not out and b":" in path.partition(b"/")[0]:
                out += b"./"
            out += path
        if self.force_query or self.raw_query:
            out += b"?" + self.raw_query
        if self.fragment:
            out += b"#" + self.escaped_fragment()
        return bytes(out)

    def string(self) -> str:
        return _as_text(self.string_bytes())


def _get_scheme(raw: bytes) -> tuple[bytes, bytes]:
    for index, byte in enumerate(raw):
        if 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A:
            continue
        if 0x30 <= byte <= 0x39 or byte in b"+-.":
            if index == 0:
                return b"", raw
            continue
        if byte == 0x3A:
            if index == 0:
                raise GoError("missing protocol scheme")
            return raw[:index], raw[index + 1:]
        return b"", raw
    return b"", raw


def _valid_optional_port(port: bytes) -> bool:
    return port == b"" or (port[:1] == b":" and all(0x30 <= byte <= 0x39 for byte in port[1:]))


def _valid_userinfo(data: bytes) -> bool:
    """validUserinfo, over runes: ASCII letters, digits and RFC 3986 userinfo marks, '%' and '@' only."""
    return all((byte < 0x80 and chr(byte).isalnum()) or byte in b"-._:~!$&'()*+,;=%@" for byte in data)


def _parse_bracketed_host(host: bytes, release: GoRelease) -> bytes:
    close = host.rfind(b"]")
    if close < 0:
        raise GoError("missing ']' in host")
    colon_port = host[close + 1:]
    if not _valid_optional_port(colon_port):
        raise GoError(f"invalid port {go_quote(colon_port)} after host")
    hostname = host[1:close]
    zone_at = hostname.find(b"%25")
    if zone_at >= 0:
        # RFC 6874: %25 introduces the zone, which may escape more than a host may.
        address = unescape(hostname[:zone_at], HOST) + unescape(hostname[zone_at:], ZONE)
    else:
        address = unescape(hostname, HOST)
    if release.bracket_checks:
        try:
            parsed = parse_addr(address)
        except GoError as error:
            raise GoError(f"invalid host: {error}") from None
        if parsed.is4:
            raise GoError("invalid IP-literal")
    return b"[" + address + b"]" + unescape(colon_port, HOST)


def _parse_host(scheme: bytes, host: bytes, release: GoRelease) -> bytes:
    """parseHost: a bracketed IP literal with its port, or a name whose ':port' must be digits."""
    open_bracket = host.rfind(b"[")
    if release.bracket_checks and open_bracket > 0:
        raise GoError("invalid IP-literal")
    if host.startswith(b"["):
        return _parse_bracketed_host(host, release)
    first = host.find(b":")
    if first >= 0:
        colon = host.rfind(b":")
        if release.strict_colons and scheme in (b"http", b"https"):
            colon = first
        if not _valid_optional_port(host[colon:]):
            raise GoError(f"invalid port {go_quote(host[colon:])} after host")
    return unescape(host, HOST)


def _parse_authority(url: GoURL, authority: bytes, release: GoRelease) -> None:
    at = authority.rfind(b"@")
    url.host = _parse_host(url.scheme, authority[at + 1:] if at >= 0 else authority, release)
    if at < 0:
        return
    userinfo = authority[:at]
    if not _valid_userinfo(userinfo):
        raise GoError("net/url: invalid userinfo")
    if b":" not in userinfo:
        url.user = (unescape(userinfo, USER_PASSWORD), None)
    else:
        username, _colon, password = userinfo.partition(b":")
        url.user = (unescape(username, USER_PASSWORD), unescape(password, USER_PASSWORD))


def _parse(raw: bytes, release: GoRelease) -> GoURL:
    """url.parse(rawURL, viaRequest=false), the part of Parse before the fragment."""
    if any(byte < 0x20 or byte == 0x7F for byte in raw):
        raise GoError("net/url: invalid control character in URL")
    url = GoURL()
    if raw == b"*":
        url.path = b"*"
        return url
    scheme, rest = _get_scheme(raw)
    url.scheme = scheme.lower()
    if rest.endswith(b"?") and rest.count(b"?") == 1:
        url.force_query = True
        rest = rest[:-1]
    else:
        rest, _mark, url.raw_query = rest.partition(b"?")
    if not rest.startswith(b"/"):
        if url.scheme:
            url.opaque = rest
            return url
        if b":" in rest.partition(b"/")[0]:
            raise GoError("first path segment in URL cannot contain colon")
    if (url.scheme or not rest.startswith(b"///")) and rest.startswith(b"//"):
        authority, slash, tail = rest[2:].partition(b"/")
        rest = slash + tail
        _parse_authority(url, authority, release)
    elif url.scheme and rest.startswith(b"/"):
        url.omit_host = True
    url.path = unescape(rest, PATH)
    url.raw_path = b"" if escape(url.path, PATH) == rest else rest
    return url


def url_parse(raw: str | bytes, release: GoRelease = CURRENT) -> GoURL:
    """url.Parse; a failure raises GoError with Go's text, ``parse "<url>": <reason>``."""
    data = _as_bytes(raw) if isinstance(raw, str) else raw
    without_fragment, hash_mark, fragment = data.partition(b"#")
    try:
        url = _parse(without_fragment, release)
    except GoError as error:
        raise GoError(f"parse {go_quote(without_fragment)}: {error}") from None
    if not fragment:
        return url
    try:
        url.fragment = unescape(fragment, FRAGMENT)
    except GoError as error:
        raise GoError(f"parse {go_quote(data)}: {error}") from None
    url.raw_fragment = b"" if escape(url.fragment, FRAGMENT) == fragment else fragment
    return url


# --- fmt and strings ---------------------------------------------------------------------------------------

_FMT_FLAGS = "#0+- "
_FMT_MAX_NUMBER = 1_000_000  # fmt's tooLarge: a longer width or precision ends the format (NOVERB)


def _parse_number(text: str, start: int) -> tuple[int | None, int]:
    """fmt parsenum: (number or None, new index); an overflowing number jumps to the end of the format."""
    number, index = None, start
    while index < len(text) and "0" <= text[index] <= "9":
        if number is not None and (number > _FMT_MAX_NUMBER or number < -_FMT_MAX_NUMBER):
            return None, len(text)
        number = (number or 0) * 10 + ord(text[index]) - 0x30
        index += 1
    return number, index


def _parse_arg_index(text: str, start: int) -> tuple[int, bool]:
    """fmt argNumber with no arguments: (new index, found); an index is never good without arguments."""
    rest = text[start:]
    if len(rest) < 3:
        return start + 1, False
    close = rest.find("]", 1)
    if close < 0:
        return start + 1, False
    number, after = _parse_number(rest[:close], 1)
    return start + close + 1, number is not None and after == close


def _width_or_precision(text: str, index: int, out: list[str], bad: str) -> int:
    """A width or precision: ``*`` (whose operand is missing: ``bad`` is printed) or digits."""
    if text.startswith("*", index):
        out.append(bad)
        return index + 1
    return _parse_number(text, index)[1]


def sprintf_no_args(text: str) -> str:
    """fmt.Sprintf(text) with no arguments, as the agent's log.Infof(name + ": " + value) prints a value.

    Every verb reports ``%!v(MISSING)`` (``%%`` prints '%', ignoring width and precision), ``*`` reports
    BADWIDTH / BADPREC, an argument index ``[n]`` makes the verb ``%!v(BADINDEX)`` and a format that ends
    inside a verb prints ``%!(NOVERB)``.
    """
    out: list[str] = []
    index, end = 0, len(text)
    while index < end:
        percent = text.find("%", index)
        if percent < 0:
            out.append(text[index:])
            break
        out.append(text[index:percent])
        index = percent + 1
        while index < end and text[index] in _FMT_FLAGS:
            index += 1
        # fmt's afterIndex (an index [n] was just read) and goodArgNum (no index at all: none is valid without arguments).
        after_index = good_index = False
        if text.startswith("[", index):
            index, after_index = _parse_arg_index(text, index)
        else:
            good_index = True
        after_index = after_index and not text.startswith("*", index)
        index = _width_or_precision(text, index, out, "%!(BADWIDTH)")
        if index + 1 < end and text[index] == ".":
            index += 1
            after_index = False
            if text.startswith("[", index):
                index, after_index = _parse_arg_index(text, index)
                good_index = False
            after_index = after_index and not text.startswith("*", index)
            index = _width_or_precision(text, index, out, "%!(BADPREC)")
        if not after_index and text.startswith("[", index):
            index, after_index = _parse_arg_index(text, index)
            good_index = False
        if index >= end:
            out.append("%!(NOVERB)")
            break
        verb = text[index]
        index += 1
        if verb == "%":
            out.append("%")
        elif not good_index:
            out.append(f"%!{verb}(BADINDEX)")
        else:
            out.append(f"%!{verb}(MISSING)")
    return "".join(out)


# unicode.IsSpace: Latin-1 '\t' '\n' '\v' '\f' '\r' ' ' U+0085 U+00A0, then the White_Space property.
# Python's str.split() also splits on U+001C..U+001F, which Go keeps inside a field.
GO_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
                     "\u2028\u2029\u202f\u205f\u3000")


def fields(text: str) -> list[str]:
    """strings.Fields: the runs of text between Go's Unicode white space."""
    result: list[str] = []
    start = None
    for index, char in enumerate(text):
        if char in GO_SPACE:
            if start is not None:
                result.append(text[start:index])
                start = None
        elif start is None:
            start = index
    if start is not None:
        result.append(text[start:])
    return result


# --- net: the address helpers http.ProxyFromEnvironment relies on ------------------------------------------

def split_host_port(hostport: str) -> tuple[str, str] | None:
    """net.SplitHostPort: (host, port), brackets removed, or None where Go returns an error."""
    colon = hostport.rfind(":")
    if colon < 0:
        return None
    low = 0
    high = 0
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0 or close + 1 != colon:
            return None
        host = hostport[1:close]
        low, high = 1, close + 1
    else:
        host = hostport[:colon]
        if ":" in host:
            return None
    if "[" in hostport[low:] or "]" in hostport[high:]:
        return None
    return host, hostport[colon + 1:]


def join_host_port(host: str, port: str) -> str:
    """net.JoinHostPort: brackets around a host that holds a ':'."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _to16(packed: bytes) -> bytes:
    return b"\x00" * 10 + b"\xff\xff" + packed if len(packed) == 4 else packed


def _to4(packed: bytes) -> bytes | None:
    """net.IP.To4: the IPv4 form of a 4-byte or IPv4-mapped 16-byte address, else None."""
    if len(packed) == 4:
        return packed
    if packed[:12] == b"\x00" * 10 + b"\xff\xff":
        return packed[12:]
    return None


def parse_ip(text: str) -> bytes | None:
    """net.ParseIP: 16 bytes, or None (zones and leading zeros refused, as netip does)."""
    try:
        addr = parse_addr(_as_bytes(text))
    except GoError:
        return None
    return None if addr.zone else _to16(addr.packed)


@dataclasses.dataclass(frozen=True)
class _Cidr:
    """net.IPNet as Contains sees it: the network number and mask, IPv4 when the address has an IPv4 form."""

    network: bytes
    mask: bytes

    def contains(self, packed: bytes) -> bool:
        candidate = _to4(packed) or packed
        if len(candidate) != len(self.network):
            return False
        return all(a & m == b & m for a, b, m in zip(self.network, candidate, self.mask))


def _decimal(text: str) -> int | None:
    """net's dtoi over the whole text: leading zeros allowed, None when not all digits or from 0xFFFFFF on."""
    if not text or not all("0" <= char <= "9" for char in text):
        return None
    value = 0
    for char in text:
        value = value * 10 + ord(char) - 0x30
        if value >= 0xFFFFFF:
            return None
    return value


def parse_cidr(text: str) -> _Cidr | None:
    """net.ParseCIDR, or None where it fails."""
    address_text, slash, bits_text = text.partition("/")
    if not slash:
        return None
    try:
        addr = parse_addr(_as_bytes(address_text))
    except GoError:
        return None
    bits = _decimal(bits_text)
    width = 32 if addr.is4 else 128
    if addr.zone or bits is None or bits > width:
        return None
    mask = ((1 << width) - 1) ^ ((1 << (width - bits)) - 1)
    mask_bytes = mask.to_bytes(width // 8, "big")
    packed = _to16(addr.packed)
    network4 = _to4(packed)
    # IPNet.Contains compares in the IPv4 form whenever the network number has one (networkNumberAndMask).
    if network4 is not None:
        mask_bytes = mask_bytes[-4:]
        return _Cidr(bytes(a & m for a, m in zip(network4, mask_bytes)), mask_bytes)
    return _Cidr(bytes(a & m for a, m in zip(packed, mask_bytes)), mask_bytes)


def go_trim_space(text: str) -> str:
    return text.strip("".join(GO_SPACE))


def _idna_ascii(text: str) -> str:
    """httpproxy's idnaASCII, approximated with Python's IDNA 2003 codec for non-ASCII names.

    Go uses UTS #46 (golang.org/x/net/idna Lookup); the two agree on ordinary names. ASCII stays as it is.
    """
    if text.isascii():
        return text
    try:
        # Label by label, so that the leading '.' of a no_proxy domain (an empty label) stays as it is.
        return ".".join(label if label.isascii() else encodings.idna.ToASCII(label).decode("ascii") for label in text.split("."))
    except UnicodeError:
        return text


# --- net/http.ProxyFromEnvironment (golang.org/x/net/http/httpproxy, vendored) ------------------------------

@dataclasses.dataclass(frozen=True)
class _NoProxyEntry:
    """One no_proxy matcher: ``kind`` all / cidr / ip / domain, the entry as written, and its port."""

    kind: str
    entry: str
    port: str = ""
    cidr: _Cidr | None = None
    ip: bytes = b""
    domain: str = ""
    match_host: bool = False


def _parse_proxy_variable(value: str, release: GoRelease) -> GoURL | None:
    """httpproxy parseProxy: url.Parse, retried with ``http://`` when that fails or has no scheme or host."""
    if not value:
        return None
    try:
        parsed = url_parse(value, release)
    except GoError:
        parsed = None
    if parsed is None or not parsed.scheme or not parsed.host:
        try:
            return url_parse("http://" + value, release)
        except GoError:
            pass
    return parsed


def _parse_no_proxy(no_proxy: str) -> list[_NoProxyEntry]:
    """httpproxy config.init: the comma-separated entries, in order; ``*`` ends the list."""
    entries: list[_NoProxyEntry] = []
    for raw in no_proxy.split(","):
        entry = go_trim_space(raw).lower()
        if not entry:
            continue
        if entry == "*":
            return [_NoProxyEntry("all", entry)]
        cidr = parse_cidr(entry)
        if cidr is not None:
            entries.append(_NoProxyEntry("cidr", entry, cidr=cidr))
            continue
        host, port = entry, ""
        split = split_host_port(entry)
        if split is not None:
            host, port = split
            if not host:
                continue
            if host[0] == "[" and host[-1] == "]":
                host = host[1:-1]
        ip = parse_ip(host)
        if ip is not None:
            entries.append(_NoProxyEntry("ip", entry, port=port, ip=ip))
            continue
        if not host:
            continue
        if host.startswith("*."):
            host = host[1:]
        match_host = not host.startswith(".")
        if match_host:
            host = "." + host
        entries.append(_NoProxyEntry("domain", entry, port=port, domain=_idna_ascii(host), match_host=match_host))
    return entries


def _url_host_port(url: GoURL) -> tuple[str, str]:
    """URL.Hostname() and URL.Port()."""
    host, port = url.host_text, ""
    colon = host.rfind(":")
    if colon >= 0 and _valid_optional_port(_as_bytes(host[colon:])):
        host, port = host[:colon], host[colon + 1:]
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


_DEFAULT_PORTS = {"http": "80", "https": "443", "socks5": "1080"}


@dataclasses.dataclass(frozen=True)
class Route:
    """Where a request goes: ``proxy`` the proxy URL (``URL.String()``) or '' for direct, and why."""

    proxy: str
    matched: str | None = None  # the no_proxy entry that made it direct
    reason: str = "proxy"  # proxy, no_proxy, loopback, no_proxy_for_scheme, invalid_url


class ProxyEnvironment:
    """http.ProxyFromEnvironment for one process environment (Go reads it once, at the first request)."""

    def __init__(self, http_proxy: str = "", https_proxy: str = "", no_proxy: str = "", release: GoRelease = CURRENT) -> None:
        self.release = release
        self.http_proxy = _parse_proxy_variable(http_proxy, release)
        self.https_proxy = _parse_proxy_variable(https_proxy, release)
        self.no_proxy = _parse_no_proxy(no_proxy)

    def route(self, request_url: str) -> Route:
        """The proxy Go uses for a request to ``request_url`` (rewrite wss:// to https:// first, as the agent does)."""
        try:
            url = url_parse(request_url, self.release)
        except GoError:
            return Route("", reason="invalid_url")
        scheme = _as_text(url.scheme)
        proxy = self.https_proxy if scheme == "https" else self.http_proxy if scheme == "http" else None
        if proxy is None:
            return Route("", reason="no_proxy_for_scheme")
        host, port = _url_host_port(url)
        address = join_host_port(_idna_ascii(host), port or _DEFAULT_PORTS.get(scheme, ""))
        direct = self._bypass(address)
        if direct is None:
            return Route(proxy.string())
        return direct

    def _bypass(self, address: str) -> Route | None:
        """httpproxy useProxy: a Route when the request goes direct, None when it uses the proxy."""
        split = split_host_port(address)
        if split is None:
            return Route("", reason="invalid_url")
        host, port = split
        if host == "localhost":
            return Route("", reason="loopback")
        ip: bytes | None = None
        try:
            addr = parse_addr(_as_bytes(host))
            ip = _to16(addr.packed)
            ip4 = _to4(ip)
            # net.IP.IsLoopback: 127.0.0.0/8 (also IPv4-mapped) and ::1; a zone does not matter.
            if (ip4 is not None and ip4[0] == 127) or ip == bytes(15) + b"\x01":
                return Route("", reason="loopback")
        except GoError:
            pass
        name = go_trim_space(host).lower()
        for matcher in self.no_proxy:
            if matcher.kind == "all" or (ip is not None and self._ip_match(matcher, ip, port)):
                return Route("", matched=matcher.entry, reason="no_proxy")
        for matcher in self.no_proxy:
            if matcher.kind == "domain" and ip is None and (name.endswith(matcher.domain) or (matcher.match_host and name == matcher.domain[1:])):
                if not matcher.port or matcher.port == port:
                    return Route("", matched=matcher.entry, reason="no_proxy")
        return None

    @staticmethod
    def _ip_match(matcher: _NoProxyEntry, ip: bytes, port: str) -> bool:
        if matcher.kind == "cidr" and matcher.cidr is not None:
            return matcher.cidr.contains(ip)
        if matcher.kind == "ip":
            return matcher.ip == ip and (not matcher.port or matcher.port == port)
        return False
