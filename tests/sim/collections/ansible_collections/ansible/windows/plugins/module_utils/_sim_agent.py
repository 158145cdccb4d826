# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The simulated AWS SSM Agent: what it does with proxy settings when its Windows service starts.

A structural port of the agent's ``SetProxyConfig`` (``agent/proxyconfig/proxy_windows.go``), of the
startup log lines around it (``core/agent.go``) and of the parts of Go's ``net/url`` and ``fmt`` whose
behaviour shows in the result. See the project's ``spec/agent-proxy.md`` for the facts.

This file is the *twin* the collection is cross-checked against, so it is deliberately written
independently of the collection's own parsers and blob codecs. It is pure Python (no Ansible, no
I/O) so that pytest can import it by file path and the stand-in modules can import it through
AnsiballZ (which ships only ``module_utils``).
"""

from __future__ import annotations

import dataclasses
import datetime
import random
import re
import struct
import typing as t

# Registry locations the agent (through Windows) reads. LocalSystem's hive is HKU\S-1-5-18, the same
# hive as HKU\.DEFAULT (the agent service runs as LocalSystem).
SERVICE_KEY = 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent'
SYSTEM_ENVIRONMENT_KEY = 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment'
LOCALSYSTEM_ENVIRONMENT_KEY = 'HKU:\\S-1-5-18\\Environment'
LOCALSYSTEM_CONNECTIONS_KEY = 'HKU:\\S-1-5-18\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections'
MACHINE_CONNECTIONS_KEY = 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections'
PROXY_POLICY_KEY = 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\\Internet Settings'
AGENT_LOG_PATH = 'C:\\ProgramData\\Amazon\\SSM\\Logs\\amazon-ssm-agent.log'
DEFAULT_AGENT_VERSION = '3.3.987.0'

# The agent's ProxyEnvVariables, in the order Go inserts them into the map GetProxyConfig returns.
PROXY_ENV_VARIABLES = ('https_proxy', 'http_proxy', 'no_proxy')
# Agent v2 (and v3 before 3.0.1295.0) printed the variables in this fixed order.
FIXED_LOG_ORDER = ('http_proxy', 'https_proxy', 'no_proxy')

# Windows' message for ERROR_SUCCESS: what the agent logs after a successful WinHTTP call, because it
# prints syscall.Syscall's errno even on success.
MSG_SUCCESS = 'The operation completed successfully.'
# ERROR_INVALID_DATA. Used when a blob cannot be decoded; how the real API reacts to a corrupt blob
# is not verified, a loud ERROR line makes the corruption visible in tests.
MSG_INVALID_DATA = 'The data is invalid.'

# What the agent reads from the registry: a key path -> that key's values {name: {"type": "REG_*", "value": ...}}.
KeyLookup = t.Callable[[str], t.Optional[t.Dict[str, t.Dict[str, t.Any]]]]


# --- Registry blobs ------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class WinHttpProxyInfo:
    """What ``WinHttpGetDefaultProxyConfiguration`` reports for a ``WinHttpSettings`` blob."""

    flags: int
    proxy: str
    bypass: str


@dataclasses.dataclass(frozen=True)
class IEProxyConfig:
    """What ``WinHttpGetIEProxyConfigForCurrentUser`` reports for a ``DefaultConnectionSettings`` blob."""

    flags: int
    proxy: str
    bypass: str
    auto_config_url: str


def _read_counted_string(data: bytes, offset: int, what: str) -> tuple[str, int]:
    """Read one ``u32 length + ASCII bytes`` string, the only string form both blobs use."""
    if offset + 4 > len(data):
        raise ValueError(f'{what}: blob ends before the length of the string at offset {offset}')
    (length,) = struct.unpack_from('<I', data, offset)
    start = offset + 4
    if start + length > len(data):
        raise ValueError(f'{what}: string at offset {offset} claims {length} bytes, only {len(data) - start} left')
    raw = data[start:start + length]
    try:
        return raw.decode('ascii'), start + length
    except UnicodeDecodeError as exc:
        raise ValueError(f'{what}: string at offset {offset} is not ASCII') from exc


def decode_winhttp_settings(data: bytes) -> WinHttpProxyInfo:
    """Decode ``WinHttpSettings``: header, counter, flags, proxy string, bypass string.

    The header is 0x18 on fresh hives and 0x28 from 64-bit ``netsh``; neither reader rejects the other.
    """
    if len(data) < 12:
        raise ValueError(f'WinHttpSettings: {len(data)} bytes is shorter than the 12-byte header')
    _header, _counter, flags = struct.unpack_from('<III', data, 0)
    proxy, offset = _read_counted_string(data, 12, 'WinHttpSettings proxy')
    bypass, _offset = _read_counted_string(data, offset, 'WinHttpSettings bypass')
    return WinHttpProxyInfo(flags=flags, proxy=proxy, bypass=bypass)


def decode_connection_settings(data: bytes) -> IEProxyConfig:
    """Decode ``DefaultConnectionSettings``: version, counter, flags, proxy, bypass, auto-config URL.

    The detection cache after the three strings does not matter to the agent and is not read.
    .NET's reader (``_RegBlobWebProxyDataBuilder.cs``) accepts any version >= 0x3C.
    """
    if len(data) < 12:
        raise ValueError(f'DefaultConnectionSettings: {len(data)} bytes is shorter than the 12-byte header')
    version, _counter, flags = struct.unpack_from('<III', data, 0)
    if version < 0x3C:
        raise ValueError(f'DefaultConnectionSettings: version 0x{version:x} is older than 0x3c')
    proxy, offset = _read_counted_string(data, 12, 'DefaultConnectionSettings proxy')
    bypass, offset = _read_counted_string(data, offset, 'DefaultConnectionSettings bypass')
    auto_config_url, _offset = _read_counted_string(data, offset, 'DefaultConnectionSettings auto-config URL')
    return IEProxyConfig(flags=flags, proxy=proxy, bypass=bypass, auto_config_url=auto_config_url)


# --- Go's strconv.Quote and net/url, for the cases a proxy string can hit ---------------------------------

def go_quote(text: str) -> str:
    """``strconv.Quote``: how Go's url and netip errors quote the input.

    Go prints what ``unicode.IsPrint`` accepts (letters, marks, numbers, punctuation, symbols, the ASCII
    space: the same set as Python's ``str.isprintable``), ``\\xNN`` for control bytes and for bytes that are
    not UTF-8 (here the surrogate escapes ``\\udc80``-``\\udcff``), ``\\uNNNN`` / ``\\UNNNNNNNN`` otherwise.
    """
    named = {'"': '\\"', '\\': '\\\\', '\a': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t',
             '\v': '\\v'}
    out = ['"']
    for char in text:
        code = ord(char)
        if char in named:
            out.append(named[char])
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f'\\x{code - 0xDC00:02x}')
        elif char.isprintable():
            out.append(char)
        elif code < 0x20 or code == 0x7F:
            out.append(f'\\x{code:02x}')
        elif code > 0xFFFF:
            out.append(f'\\U{code:08x}')
        else:
            out.append(f'\\u{code:04x}')
    out.append('"')
    return ''.join(out)


class GoURLError(ValueError):
    """A ``*url.Error`` or one of the errors it wraps; ``str()`` is Go's ``Error()`` text."""


# Encoding modes of net/url's shouldEscape.
_ENC_PATH = 'path'
_ENC_HOST = 'host'
_ENC_ZONE = 'zone'
_ENC_USER = 'userpassword'
_ENC_FRAGMENT = 'fragment'
_HOST_EXTRA = frozenset("!$&'()*+,;=:[]<>\"")
_RESERVED = frozenset('$&+,/:;=?@')
_UNRESERVED_MARKS = frozenset('-_.~')
_HEX = frozenset('0123456789abcdefABCDEF')


def _should_escape(byte: int, mode: str) -> bool:
    """net/url ``shouldEscape`` for the modes a URL's String() uses."""
    char = chr(byte)
    if char.isascii() and char.isalnum():
        return False
    if mode == _ENC_HOST and char in _HOST_EXTRA:
        return False
    if char in _UNRESERVED_MARKS:
        return False
    if char in _RESERVED:
        if mode == _ENC_PATH:
            return char == '?'
        if mode == _ENC_USER:
            return char in '@/?:'
        if mode == _ENC_FRAGMENT:
            return False
    if mode == _ENC_FRAGMENT and char in "!()*":
        return False
    return True


def _escape(text: str, mode: str) -> str:
    """net/url ``escape`` (no query-component mode, so a space is never a '+')."""
    return ''.join(f'%{b:02X}' if _should_escape(b, mode) else chr(b) for b in text.encode('utf-8', 'surrogateescape'))


def _unescape(text: str, mode: str) -> str:
    """net/url ``unescape``: validate and decode %XX; hosts also reject characters that need escaping."""
    raw = text.encode('utf-8', 'surrogateescape')
    index = 0
    while index < len(raw):
        byte = raw[index]
        if byte == 0x25:  # '%'
            piece = raw[index:index + 3].decode('utf-8', 'surrogateescape')
            if index + 2 >= len(raw) or chr(raw[index + 1]) not in _HEX or chr(raw[index + 2]) not in _HEX:
                raise GoURLError(f'invalid URL escape {go_quote(piece)}')
            if mode == _ENC_HOST and int(chr(raw[index + 1]), 16) < 8 and piece != '%25':
                raise GoURLError(f'invalid URL escape {go_quote(piece)}')
            # RFC 6874 zone: any escape of a byte a host may hold unescaped, of a space (Windows
            # interface names) or of '%' itself.
            if mode == _ENC_ZONE and piece != '%25' and int(piece[1:], 16) != 0x20 and _should_escape(int(piece[1:], 16), _ENC_HOST):
                raise GoURLError(f'invalid URL escape {go_quote(piece)}')
            index += 3
            continue
        if mode in (_ENC_HOST, _ENC_ZONE) and byte < 0x80 and _should_escape(byte, _ENC_HOST):
            raise GoURLError(f'invalid character {go_quote(chr(byte))} in host name')
        index += 1
    return re.sub(rb'%([0-9a-fA-F]{2})', lambda m: bytes([int(m.group(1), 16)]), raw).decode('utf-8', 'surrogateescape')


def _valid_encoded(text: str, mode: str) -> bool:
    """net/url ``validEncoded``: may the raw form be kept as the escaped form?"""
    for char in text:
        if char in "!$&'()*+,;=:@[]%":
            continue
        if _should_escape(ord(char), mode) if ord(char) < 0x80 else True:
            return False
    return True


def _valid_optional_port(port: str) -> bool:
    return port == '' or (port[0] == ':' and all(c in '0123456789' for c in port[1:]))


def _valid_userinfo(text: str) -> bool:
    return all((c.isascii() and c.isalnum()) or c in "-._:~!$&'()*+,;=%@" for c in text)


@dataclasses.dataclass
class GoURL:
    """The fields of Go's ``url.URL`` that ``String()`` needs."""

    scheme: str = ''
    opaque: str = ''
    username: t.Optional[str] = None
    password: t.Optional[str] = None
    host: str = ''
    path: str = ''
    raw_path: str = ''
    omit_host: bool = False
    force_query: bool = False
    raw_query: str = ''
    fragment: str = ''
    raw_fragment: str = ''

    def escaped_path(self) -> str:
        if self.raw_path and _valid_encoded(self.raw_path, _ENC_PATH):
            return self.raw_path
        if self.path == '*':
            return '*'
        return _escape(self.path, _ENC_PATH)

    def escaped_fragment(self) -> str:
        if self.raw_fragment and _valid_encoded(self.raw_fragment, _ENC_FRAGMENT):
            return self.raw_fragment
        return _escape(self.fragment, _ENC_FRAGMENT)

    def string(self) -> str:
        """``URL.String()``, which the agent writes into ``http_proxy`` / ``https_proxy``."""
        out = ''
        if self.scheme:
            out += self.scheme + ':'
        if self.opaque:
            out += self.opaque
        else:
            if self.scheme or self.host or self.username is not None:
                if not (self.omit_host and not self.host and self.username is None):
                    if self.host or self.path or self.username is not None:
                        out += '//'
                    if self.username is not None:
                        out += _escape(self.username, _ENC_USER)
                        if self.password is not None:
                            out += ':' + _escape(self.password, _ENC_USER)
                        out += '@'
                    if self.host:
                        out += _escape(self.host, _ENC_HOST)
            path = self.escaped_path()
            if self.omit_host and not self.host and self.username is None and path.startswith('//'):
                # Without an authority a path starting '//' would read back as one: Go escapes its first '/'.
                out += '%2F'
                path = path[1:]
            if path and path[0] != '/' and self.host:
                out += '/'
            if not out and ':' in path.split('/', 1)[0]:
                out += './'
            out += path
        if self.force_query or self.raw_query:
            out += '?' + self.raw_query
        if self.fragment:
            out += '#' + self.escaped_fragment()
        return out


def _get_scheme(raw: str) -> tuple[str, str]:
    for index, char in enumerate(raw):
        if char.isascii() and char.isalpha():
            continue
        if char.isascii() and (char.isdigit() or char in '+-.'):
            if index == 0:
                return '', raw
            continue
        if char == ':':
            if index == 0:
                raise GoURLError('missing protocol scheme')
            return raw[:index], raw[index + 1:]
        return '', raw
    return '', raw


class _AddrError(GoURLError):
    """``netip.parseAddrError``: ``ParseAddr("<in>"): <msg>[ (at "<rest>")]``."""

    def __init__(self, whole: str, msg: str, rest: str = '') -> None:
        super().__init__(f'ParseAddr({go_quote(whole)}): {msg}' + (f' (at {go_quote(rest)})' if rest else ''))


def _ipv4_octets(whole: str, part: str) -> list[int]:
    """netip ``parseIPv4Fields``: four decimal octets, no leading zeros, read left to right."""
    octets: list[int] = []
    current = ''
    for position, char in enumerate(part):
        if char in '0123456789':
            if current == '0':
                raise _AddrError(whole, 'IPv4 field has octet with leading zero')
            current += char
            if int(current) > 255:
                raise _AddrError(whole, 'IPv4 field has value >255')
        elif char == '.':
            if not current or position == len(part) - 1:
                raise _AddrError(whole, 'IPv4 field must have at least one digit', part[position:])
            if len(octets) == 3:
                raise _AddrError(whole, 'IPv4 address too long')
            octets.append(int(current))
            current = ''
        else:
            raise _AddrError(whole, 'unexpected character', part[position:])
    if len(octets) < 3:
        raise _AddrError(whole, 'IPv4 address too short')
    return octets + [int(current)]


def _ipv6_words(whole: str) -> tuple[list[int], str]:
    """netip ``parseIPv6``: eight 16-bit words (an IPv4 tail counts for two) and the zone."""
    rest, percent, zone = whole.partition('%')
    if percent and not zone:
        raise _AddrError(whole, 'zone must be a non-empty string')
    words: list[int] = []
    gap = None  # where '::' stands, in words
    if rest[:2] == '::':
        gap, rest = 0, rest[2:]
        if not rest:
            return [0] * 8, zone
    while len(words) < 8:
        digits = 0
        while digits < len(rest) and rest[digits] in _HEX:
            if digits == 4:
                raise _AddrError(whole, 'each group must have 4 or less digits', rest)
            digits += 1
        if digits == 0:
            raise _AddrError(whole, 'each colon-separated field must have at least one digit', rest)
        if digits < len(rest) and rest[digits] == '.':
            if gap is None and len(words) != 6:
                raise _AddrError(whole, 'embedded IPv4 address must replace the final 2 fields of the address', rest)
            if len(words) > 6:
                raise _AddrError(whole, 'too many hex fields to fit an embedded IPv4 at the end of the address', rest)
            a, b, c, d = _ipv4_octets(whole, rest)
            words += [a * 256 + b, c * 256 + d]
            rest = ''
            break
        words.append(int(rest[:digits], 16))
        rest = rest[digits:]
        if not rest:
            break
        if rest[0] != ':':
            raise _AddrError(whole, 'unexpected character, want colon', rest)
        if rest == ':':
            raise _AddrError(whole, 'colon must be followed by more characters', rest)
        rest = rest[1:]
        if rest[0] == ':':
            if gap is not None:
                raise _AddrError(whole, 'multiple :: in address', rest)
            gap, rest = len(words), rest[1:]
            if not rest:
                break
    if rest:
        raise _AddrError(whole, 'trailing garbage after address', rest)
    if len(words) < 8 and gap is None:
        raise _AddrError(whole, 'address string too short')
    if len(words) == 8 and gap is not None:
        raise _AddrError(whole, 'the :: must expand to at least one field of zeros')
    if gap is not None:
        words[gap:gap] = [0] * (8 - len(words))
    return words, zone


def netip_parse_addr(text: str) -> str:
    """``netip.ParseAddr``; returns '4' or '6' (what url.Parse needs to know), raises Go's error otherwise."""
    for char in text:
        if char == '.':
            _ipv4_octets(text, text)
            return '4'
        if char == ':':
            _ipv6_words(text)
            return '6'
        if char == '%':
            raise _AddrError(text, 'missing IPv6 address')
    raise _AddrError(text, 'unable to parse IP')


def _parse_host(host: str) -> str:
    """net/url ``parseHost`` (Go 1.24.8 / 1.25.2 and later, GODEBUG urlstrictcolons=0 as for a go 1.21 module).

    A '[' anywhere but first, or a bracketed host that is not an IPv6 address, is refused ("invalid
    IP-literal"; older Go releases accepted both). Unbracketed, the port is what follows the LAST ':'.
    """
    if host.rfind('[') > 0:
        raise GoURLError('invalid IP-literal')
    if host.startswith('['):
        end = host.rfind(']')
        if end < 0:
            raise GoURLError("missing ']' in host")
        port = host[end + 1:]
        if not _valid_optional_port(port):
            raise GoURLError(f'invalid port {go_quote(port)} after host')
        port = _unescape(port, _ENC_HOST)
        literal = host[1:end]
        zone_at = literal.find('%25')
        if zone_at == -1:
            address = _unescape(literal, _ENC_HOST)
        else:
            address = _unescape(literal[:zone_at], _ENC_HOST) + _unescape(literal[zone_at:], _ENC_ZONE)
        try:
            family = netip_parse_addr(address)
        except GoURLError as exc:
            raise GoURLError(f'invalid host: {exc}') from None
        if family == '4':
            raise GoURLError('invalid IP-literal')
        return '[' + address + ']' + port
    colon = host.rfind(':')
    if colon != -1 and not _valid_optional_port(host[colon:]):
        raise GoURLError(f'invalid port {go_quote(host[colon:])} after host')
    return _unescape(host, _ENC_HOST)


def _parse(raw: str) -> GoURL:
    """net/url ``parse(rawURL, viaRequest=false)``."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        raise GoURLError('net/url: invalid control character in URL')
    url = GoURL()
    if raw == '*':
        url.path = '*'
        return url
    scheme, rest = _get_scheme(raw)
    url.scheme = scheme.lower()
    if rest.endswith('?') and rest.count('?') == 1:
        url.force_query = True
        rest = rest[:-1]
    else:
        rest, _sep, url.raw_query = rest.partition('?')
    if not rest.startswith('/'):
        if url.scheme:
            url.opaque = rest
            return url
        if ':' in rest.split('/', 1)[0]:
            raise GoURLError('first path segment in URL cannot contain colon')
    if (url.scheme or not rest.startswith('///')) and rest.startswith('//'):
        authority, slash, tail = rest[2:].partition('/')
        rest = slash + tail
        at = authority.rfind('@')
        if at < 0:
            url.host = _parse_host(authority)
        else:
            url.host = _parse_host(authority[at + 1:])
            userinfo = authority[:at]
            if not _valid_userinfo(userinfo):
                raise GoURLError('net/url: invalid userinfo')
            if ':' not in userinfo:
                url.username = _unescape(userinfo, _ENC_USER)
            else:
                user, _sep, password = userinfo.partition(':')
                url.username = _unescape(user, _ENC_USER)
                url.password = _unescape(password, _ENC_USER)
    elif url.scheme and rest.startswith('/'):
        url.omit_host = True
    url.path = _unescape(rest, _ENC_PATH)
    url.raw_path = '' if _escape(url.path, _ENC_PATH) == rest else rest
    return url


def go_url_parse(raw: str) -> GoURL:
    """``url.Parse``; errors read as Go's: ``parse "<url>": <reason>``."""
    without_fragment, _sep, fragment = raw.partition('#')
    try:
        url = _parse(without_fragment)
    except GoURLError as exc:
        raise GoURLError(f'parse {go_quote(without_fragment)}: {exc}') from None
    try:
        url.fragment = _unescape(fragment, _ENC_FRAGMENT)
    except GoURLError as exc:
        raise GoURLError(f'parse {go_quote(raw)}: {exc}') from None
    url.raw_fragment = '' if _escape(url.fragment, _ENC_FRAGMENT) == fragment else fragment
    return url


# --- Go's fmt with a value used as the format string ---------------------------------------------------

_ASCII_DIGITS = '0123456789'


def _fmt_number(fmt: str, index: int) -> tuple[bool, int]:
    """fmt ``parsenum`` from ``index``: (any digits, next index). Past 1e6 Go gives up: next index = end."""
    value, start = 0, index
    while index < len(fmt) and fmt[index] in _ASCII_DIGITS:
        if value > 1000000:
            return False, len(fmt)
        value = value * 10 + _ASCII_DIGITS.index(fmt[index])
        index += 1
    return index > start, index


def _fmt_arg_index(fmt: str, index: int) -> tuple[bool, int]:
    """fmt ``argNumber`` at a '[': (well-formed [n], next index). With no operands no index is usable."""
    close = fmt.find(']', index + 1) if len(fmt) - index >= 3 else -1
    if close == -1:
        return False, index + 1
    digits, after = _fmt_number(fmt[:close], index + 1)
    return digits and after == close, close + 1


def go_sprintf_without_args(fmt: str) -> str:
    """What ``fmt.Sprintf(fmt)`` prints: each verb lacks its operand (fmt/print.go ``doPrintf``).

    The agent logs ``log.Infof(key + ": " + value)``, so a ``%`` in a proxy value (an escaped
    credential such as ``p%40ss``) is taken as a verb: ``%40s`` prints ``%!s(MISSING)``. An explicit
    index ``[n]`` makes the verb BADINDEX, ``*`` prints BADWIDTH / BADPREC, '.' starts a precision only
    when something follows it, a width or precision over 1e6 ends the format (NOVERB).
    """
    out: list[str] = []
    index, length = 0, len(fmt)
    while index < length:
        char = fmt[index]
        if char != '%':
            out.append(char)
            index += 1
            continue
        index += 1
        while index < length and fmt[index] in '+-# 0':
            index += 1
        indexed = False  # an argument index was seen: the verb can only be BADINDEX
        just_indexed = False  # Go's afterIndex
        if index < length and fmt[index] == '[':
            indexed = True
            just_indexed, index = _fmt_arg_index(fmt, index)
        if index < length and fmt[index] == '*':
            out.append('%!(BADWIDTH)')
            index += 1
            just_indexed = False
        else:
            _digits, index = _fmt_number(fmt, index)
        if index + 1 < length and fmt[index] == '.':
            index += 1
            just_indexed = False
            if fmt[index] == '[':
                indexed = True
                just_indexed, index = _fmt_arg_index(fmt, index)
            if index < length and fmt[index] == '*':
                out.append('%!(BADPREC)')
                index += 1
                just_indexed = False
            else:
                _digits, index = _fmt_number(fmt, index)
        if not just_indexed and index < length and fmt[index] == '[':
            indexed = True
            just_indexed, index = _fmt_arg_index(fmt, index)
        if index >= length:
            out.append('%!(NOVERB)')
            break
        verb = fmt[index]
        index += 1
        if verb == '%':
            out.append('%')
        elif indexed:
            out.append(f'%!{verb}(BADINDEX)')
        else:
            out.append(f'%!{verb}(MISSING)')
    return ''.join(out)


# --- The agent's proxy algorithm ---------------------------------------------------------------------------

# unicode.IsSpace, which strings.Fields splits on: not the same set as Python's str.split(), which also
# splits on the separators U+001C..U+001F that Go keeps inside a field.
_GO_WHITE_SPACE = frozenset('\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000') | frozenset(map(chr, range(0x2000, 0x200B)))


def go_fields(text: str) -> list[str]:
    """``strings.Fields``: the non-empty runs between Go's white space."""
    return [run for run in re.split('[' + re.escape(''.join(sorted(_GO_WHITE_SPACE))) + ']+', text) if run]


LogLine = t.Tuple[str, str]  # (level, message)


def validate_host(text: str) -> GoURL:
    """The agent's ``ValidateHost``: reject ``<local>``, default the scheme to http, ``url.Parse``."""
    if text in ('<-loopback>', '<local>'):
        raise GoURLError(text + ' host not supported, skipped')
    if text.startswith('//'):
        text = 'http:' + text
    if '://' not in text:
        text = 'http://' + text
    try:
        return go_url_parse(text)
    except GoURLError as exc:
        # errors.New(err.Error() + s + ", skipped"): no separator, exactly as the agent builds it.
        raise GoURLError(f'{exc}{text}, skipped') from None


def parse_proxy_settings(proxy: str, log: list[LogLine]) -> tuple[t.Optional[GoURL], t.Optional[GoURL]]:
    """The agent's ``ParseProxySettings``: (http_proxy, https_proxy) from a WinINet/WinHTTP proxy list.

    Pieces split on whitespace then ``;`` (a comma is not a separator); ``http=`` / ``https=`` are
    case-sensitive; ``ftp=`` / ``socks=`` are dropped; a bare piece is the default for the scheme(s)
    not given. A bare ``host:port`` therefore sets only http_proxy (agent PR #415 is still open).
    """
    http: t.Optional[GoURL] = None
    https: t.Optional[GoURL] = None
    other: t.Optional[GoURL] = None
    for field in go_fields(proxy):
        for piece in field.split(';'):
            if not piece:
                continue
            scheme, equals, value = piece.partition('=')
            try:
                if equals:
                    if scheme == 'https':
                        # Assigned even on error: Go's `https, err = ValidateHost(...)` stores nil.
                        https = None
                        https = validate_host(value)
                    elif scheme == 'http':
                        http = None
                        http = validate_host(value)
                    else:
                        continue
                else:
                    other = None
                    other = validate_host(piece)
            except GoURLError as exc:
                log.append(('WARN', f'ParseProxySettings, invalid URL or host for proxy: {exc}'))
    if https is None and http is None:
        return other, None
    if https is not None and http is None:
        return other, https
    if https is None and http is not None:
        return http, other
    return http, https


def parse_proxy_bypass(bypass: str, log: list[LogLine]) -> list[str]:
    """The agent's bypass loop: each entry reduced to its URL host part; ``<local>`` dropped with a WARN.

    Reducing to the host part means a CIDR ``10.0.0.0/8`` becomes ``10.0.0.0`` (the ``/8`` is a path).
    """
    entries: list[str] = []
    for field in go_fields(bypass):
        for piece in field.split(';'):
            if not piece:
                continue
            try:
                entries.append(validate_host(piece).host)
            except GoURLError as exc:
                log.append(('WARN', f'SetProxySettings invalid URL or host for no_proxy: {exc}'))
    return entries


@dataclasses.dataclass
class AgentInputs:
    """Everything ``SetProxyConfig`` looks at, already read from the (simulated) host."""

    environment: dict[str, str]
    ie: t.Optional[IEProxyConfig] = None
    ie_error: str = ''
    winhttp: t.Optional[WinHttpProxyInfo] = None
    winhttp_error: str = ''


@dataclasses.dataclass
class ProxyEvaluation:
    """The result of one agent start: its proxy variables and the log lines SetProxyConfig wrote."""

    variables: dict[str, str]
    log: list[LogLine]


def getenv(environment: t.Mapping[str, str], name: str) -> str:
    """``os.Getenv`` on Windows: variable names are case-insensitive."""
    folded = name.casefold()
    for key, value in environment.items():
        if key.casefold() == folded:
            return value
    return ''


def set_proxy_config(inputs: AgentInputs) -> ProxyEvaluation:
    """The agent's ``SetProxyConfig`` (agent 3.x; 2.x has the same logic).

    IE (LocalSystem's WinINet) wins over WinHTTP and the two are never merged; then any non-empty
    ``http_proxy``/``https_proxy`` in the environment discards that proxy entirely and a non-empty
    ``no_proxy`` discards that bypass list. Only variables the agent computes are set; what the
    environment already holds stays as it is.
    """
    log: list[LogLine] = []
    environment = dict(inputs.environment)
    proxy = ''
    bypass = ''

    if inputs.ie_error:
        log.append(('ERROR', 'Failed to get IE proxy configuration for current user: ' + inputs.ie_error))
    else:
        log.append(('INFO', 'Getting IE proxy configuration for current user: ' + MSG_SUCCESS))
    ie = inputs.ie
    # WinHttpGetIEProxyConfigForCurrentUser returns lpszProxy only when "use a proxy server" (flag 0x2)
    # is ticked AND the proxy string is not empty (Wine, dlls/winhttp/session.c: the string is allocated
    # under `if (len && hdr->flags & PROXY_TYPE_PROXY)`, NULL otherwise); the agent's `enabled` is
    # `lpszProxy != nil`, so a ticked box with an empty string falls through to WinHTTP.
    ie_enabled = not inputs.ie_error and ie is not None and bool(ie.flags & 0x2) and ie.proxy != ''
    if ie_enabled and ie is not None:
        proxy, bypass = ie.proxy, ie.bypass
        if ie.flags & 0x8:
            log.append(('WARN', "IE option 'Automatically  detect settings' is not supported"))
        if ie.flags & 0x4 and ie.auto_config_url:
            log.append(('WARN', "IE option 'Use automatic configuration script' is not supported"))
    else:
        if inputs.winhttp_error:
            log.append(('ERROR', 'Failed to get default machine WinHTTP proxy configuration: ' + inputs.winhttp_error))
        else:
            log.append(('INFO', 'Getting WinHTTP proxy default configuration: ' + MSG_SUCCESS))
            winhttp = inputs.winhttp
            # WINHTTP_ACCESS_TYPE_NAMED_PROXY (flag 0x2) is what makes the API return the strings.
            if winhttp is not None and winhttp.flags & 0x2 and winhttp.proxy:
                proxy, bypass = winhttp.proxy, winhttp.bypass

    for name in PROXY_ENV_VARIABLES:
        if getenv(environment, name):
            if name in ('https_proxy', 'http_proxy'):
                proxy = ''
            else:
                bypass = ''

    # os.Setenv on Windows replaces a variable whatever the case of its name (an empty 'No_proxy' too).
    http, https = parse_proxy_settings(proxy, log)
    if https is not None:
        _set_env(environment, 'https_proxy', https.string())
    if http is not None:
        _set_env(environment, 'http_proxy', http.string())
    bypass_list = parse_proxy_bypass(bypass, log)
    if bypass_list:
        _set_env(environment, 'no_proxy', ','.join(bypass_list))

    variables = {name: getenv(environment, name) for name in PROXY_ENV_VARIABLES}
    return ProxyEvaluation(variables=variables, log=log)


# --- Reading the inputs from the registry -----------------------------------------------------------------

def _expand(text: str, environment: t.Mapping[str, str]) -> str:
    """ExpandEnvironmentStrings: ``%NAME%`` replaced when defined, left as is otherwise."""
    def replace(match: re.Match) -> str:
        value = getenv(environment, match.group(1))
        return value if value else match.group(0)
    return re.sub(r'%([^%]+)%', replace, text)


def _environment_values(lookup_key: KeyLookup, key: str, into: dict[str, str]) -> None:
    """Merge one registry environment key into ``into`` (names case-insensitive, later wins)."""
    values = lookup_key(key) or {}
    for name, entry in values.items():
        if not name or entry.get('type') not in ('REG_SZ', 'REG_EXPAND_SZ'):
            continue
        value = str(entry.get('value', ''))
        if entry['type'] == 'REG_EXPAND_SZ':
            value = _expand(value, into)
        _set_env(into, name, value)


def _set_env(environment: dict[str, str], name: str, value: str) -> None:
    for key in list(environment):
        if key.casefold() == name.casefold():
            del environment[key]
    environment[name] = value


def service_environment(lookup_key: KeyLookup) -> dict[str, str]:
    """The environment the Service Control Manager gives the agent at start.

    System environment, then the LocalSystem user environment over it (Windows builds a process
    environment with user variables overriding system ones; the AWS guide lists the opposite
    precedence, see spec section 1), then the service's ``Environment`` REG_MULTI_SZ, whose
    ``name=value`` lines override both. Only this one service value is read at every start.
    """
    environment: dict[str, str] = {}
    _environment_values(lookup_key, SYSTEM_ENVIRONMENT_KEY, environment)
    _environment_values(lookup_key, LOCALSYSTEM_ENVIRONMENT_KEY, environment)
    service_values = {k.casefold(): v for k, v in (lookup_key(SERVICE_KEY) or {}).items()}
    entry = service_values.get('environment')
    if entry and entry.get('type') == 'REG_MULTI_SZ':
        for line in entry.get('value') or []:
            name, equals, value = str(line).partition('=')
            # A line without '=' or with an empty name is not a variable; the SCM skips it.
            if equals and name:
                _set_env(environment, name, value)
    return environment


def _binary_value(entry: t.Optional[t.Dict[str, t.Any]]) -> t.Optional[bytes]:
    if not entry or entry.get('type') != 'REG_BINARY':
        return None
    return bytes.fromhex(str(entry.get('value', '')))


def gather_inputs(lookup_key: KeyLookup) -> AgentInputs:
    """Read what the agent's Win32 calls would see, from a registry given as ``key -> {name: entry}``.

    ``lookup_key`` returns the values of a key (names matched as the caller likes) or None.
    """
    def value(key: str, name: str) -> t.Optional[t.Dict[str, t.Any]]:
        for value_name, entry in (lookup_key(key) or {}).items():
            if value_name.casefold() == name.casefold():
                return entry
        return None

    inputs = AgentInputs(environment=service_environment(lookup_key))

    # Policy "Make proxy settings per-machine" (ProxySettingsPerUser = 0): WinINet then reads HKLM.
    per_user = value(PROXY_POLICY_KEY, 'ProxySettingsPerUser')
    machine_wide = per_user is not None and per_user.get('type') == 'REG_DWORD' and int(per_user.get('value', 1)) == 0
    ie_key = MACHINE_CONNECTIONS_KEY if machine_wide else LOCALSYSTEM_CONNECTIONS_KEY
    try:
        blob = _binary_value(value(ie_key, 'DefaultConnectionSettings'))
        inputs.ie = decode_connection_settings(blob) if blob is not None else None
    except ValueError:
        inputs.ie_error = MSG_INVALID_DATA

    # The agent is a 64-bit process: it reads the native view, never WOW6432Node.
    try:
        blob = _binary_value(value(MACHINE_CONNECTIONS_KEY, 'WinHttpSettings'))
        inputs.winhttp = decode_winhttp_settings(blob) if blob is not None else None
    except ValueError:
        inputs.winhttp_error = MSG_INVALID_DATA
    return inputs


# --- The startup block in amazon-ssm-agent.log ---------------------------------------------------------------

def parse_version(version: str) -> tuple[int, ...]:
    """``3.3.987.0`` -> (3, 3, 987, 0); raise ValueError naming the bad version otherwise."""
    if not re.fullmatch(r'\d+(\.\d+){1,3}', version or ''):
        raise ValueError(f"agent version {version!r} is not of the form 3.3.987.0")
    return tuple(int(part) for part in version.split('.'))


def log_variable_order(version: tuple[int, ...], rng: random.Random) -> tuple[str, ...]:
    """The order in which the agent prints its three variables.

    From 3.0.1295.0 the agent ranges over a Go map. Three keys sit in slots 0-2 of the single 8-slot
    bucket (in insertion order https, http, no_proxy) and iteration starts at a random slot and wraps,
    so only rotations occur: the insertion order 6 times in 8, each other rotation once in 8.
    """
    if version < (3, 0, 1295, 0):
        return FIXED_LOG_ORDER
    offset = rng.randrange(8)
    start = offset if offset < len(PROXY_ENV_VARIABLES) else 0
    return PROXY_ENV_VARIABLES[start:] + PROXY_ENV_VARIABLES[:start]


def format_timestamp(when: datetime.datetime, version: tuple[int, ...]) -> str:
    """Seelog's date and time: four fraction digits from agent 3.3.808.0, none before."""
    text = when.strftime('%Y-%m-%d %H:%M:%S')
    if version >= (3, 3, 808, 0):
        text += f'.{when.microsecond // 100:04d}'
    return text


def startup_log_lines(evaluation: ProxyEvaluation, version_text: str, now: datetime.datetime,
                      rng: random.Random) -> list[str]:
    """The lines a starting agent appends to its log, from SetProxyConfig to "Starting Core Agent"."""
    version = parse_version(version_text)
    messages: list[LogLine] = list(evaluation.log)
    messages.append(('INFO', 'Proxy environment variables:'))
    for name in log_variable_order(version, rng):
        # log.Infof(key + ": " + value): the value is part of the format string.
        messages.append(('INFO', go_sprintf_without_args(f'{name}: {evaluation.variables[name]}')))
    if version[0] < 3:
        messages.append(('INFO', f'Starting Agent: amazon-ssm-agent - v{version_text}'))
        messages.append(('INFO', 'OS: windows, Arch: amd64'))
    else:
        messages.append(('INFO', f'[amazon-ssm-agent] amazon-ssm-agent - v{version_text}'))
        messages.append(('INFO', '[amazon-ssm-agent] OS: windows, Arch: amd64'))
        messages.append(('INFO', '[amazon-ssm-agent] Starting Core Agent'))
    lines = []
    for index, (level, message) in enumerate(messages):
        # A few hundred microseconds between lines, as a real start shows.
        stamp = format_timestamp(now + datetime.timedelta(microseconds=300 * index), version)
        lines.append(f'{stamp} {level} {message}')
    return lines


def shutdown_log_lines(version: tuple[int, ...], now: datetime.datetime) -> list[str]:
    """What a stopping agent appends: core/app/agent.go's Stop logs "Stopping Core Agent", then "Bye."."""
    prefix = '' if version[0] < 3 else '[amazon-ssm-agent] '
    return [f'{format_timestamp(now + datetime.timedelta(microseconds=300 * index), version)} INFO {prefix}{message}'
            for index, message in enumerate(('Stopping Core Agent', 'Bye.'))]
