# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Proxy URLs and bypass lists as the SSM Agent's Go HTTP stack reads them.

Private to the ssm.proxy collection (internal use): no compatibility promises.

The agent hands ``http_proxy``, ``https_proxy`` and ``no_proxy`` to Go's ``http.ProxyFromEnvironment``
(``golang.org/x/net/http/httpproxy``). What Go silently ignores (IE-style ``10.*`` wildcards, ``<local>``,
bracketed IPv6 without a port) fails here instead, with the value to use. Everything is pure: no Ansible
and no host I/O, so it is tested against real-world inputs without a host.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import urllib.parse

REDACTED = "********"

# The instance metadata service (IMDS). Go sends it through the proxy unless listed, and then role
# credentials fail (IMDSv2 token PUT) or come with the proxy's identity. Go matches the IPv6 address only
# without brackets (httpproxy: a bracketed entry without a port falls through to the domain matcher).
IMDS_ADDRESSES = ("169.254.169.254", "fd00:ec2::254")

# Windows limits one environment variable to 32,767 characters (SetEnvironmentVariable).
MAX_VARIABLE_LENGTH = 32767

_SCHEME_RE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
_HOST_LABEL_RE = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_IE_OCTET_WILDCARD_RE = re.compile(r"^(?P<octets>\d{1,3}(?:\.\d{1,3}){0,2})\.\*$")
# Characters that are never valid unencoded in a URL and that a shell or PowerShell would interpret.
_FORBIDDEN_URL_CHARS = frozenset("\"'`<>\\{}|^ ")
# userinfo in any URL-like text: scheme://user:password@ or a bare user:password@host.
# The password runs to the last '@' of the token, so an unencoded '@' inside it is still hidden; an empty one
# (user:@) is left as it is, so that no output shows a password that was never set.
_URL_PASSWORD_RE = re.compile(r"(?P<prefix>(?:[A-Za-z][A-Za-z0-9+.-]*://)?[^\s:/@=,;]*:)(?P<password>[^\s/]+)@")


class ProxyInputError(ValueError):
    """A value the agent would misread; the message names the option and says what to write instead."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option


@dataclasses.dataclass(frozen=True)
class ProxyUrl:
    """A proxy URL reduced to what Go uses: scheme, credentials, host and port."""

    scheme: str
    host: str
    port: int | None = None
    username: str | None = None
    password: str | None = None

    def _userinfo(self, password: str | None) -> str:
        if self.username is None:
            return ""
        # Percent-encode every reserved character: Go decodes userinfo before sending Proxy-Authorization,
        # and an unencoded '=' would break the agent plugins that split Environment lines on '=' (spec §5).
        user = urllib.parse.quote(self.username, safe="")
        if password is None:
            return f"{user}@"
        return f"{user}:{password}@"

    def _netloc(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    def url(self) -> str:
        """The URL written to the agent's environment."""
        password = None if self.password is None else urllib.parse.quote(self.password, safe="")
        return f"{self.scheme}://{self._userinfo(password)}{self._netloc()}"

    def redacted(self) -> str:
        """The URL with its password replaced, for output, diffs and messages; an empty password stays visibly empty."""
        password = None if self.password is None else (REDACTED if self.password else "")
        return f"{self.scheme}://{self._userinfo(password)}{self._netloc()}"


def type_name(value: object) -> str:
    """The YAML/JSON name of a value's type for messages (ansible-core 2.19 wraps values in tagged subclasses)."""
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (dict, "dict"), (list, "list")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def redact(text: str) -> str:
    """Replace the password of every ``user:password@`` in ``text`` (URLs, Environment lines, messages)."""
    return _URL_PASSWORD_RE.sub(lambda m: f"{m.group('prefix')}{REDACTED}@", text)


def _check_characters(option: str, value: str, shown: str) -> None:
    """Refuse what the agent, the registry or a shell would mangle: non-ASCII, control characters, spaces."""
    if not value:
        raise ProxyInputError(option, "is empty; give a value or leave the option out")
    if not value.isascii():
        raise ProxyInputError(option, f"'{redact(shown)}' contains non-ASCII characters; use the punycode (xn--) form of the host name")
    for char in value:
        if ord(char) < 0x20 or ord(char) == 0x7F:
            raise ProxyInputError(option, f"'{redact(shown)}' contains the control character {ord(char):#04x}; remove it")
        if char.isspace():
            raise ProxyInputError(option, f"'{redact(shown)}' contains whitespace; remove it (the agent splits proxy settings on whitespace)")
    if len(value) > MAX_VARIABLE_LENGTH:
        raise ProxyInputError(option, f"is {len(value)} characters long; Windows limits an environment variable to {MAX_VARIABLE_LENGTH}")


def validate_host(option: str, host: str) -> str:
    """Check a host name, IPv4 address or bracketed IPv6 address; return it unchanged."""
    if not host:
        raise ProxyInputError(option, "has no host; write it as http://proxy.example.com:3128")
    if host.startswith("["):
        if not host.endswith("]"):
            raise ProxyInputError(option, f"host '{host}' is missing the closing ']' of the IPv6 address")
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise ProxyInputError(option, f"host '{host}' is not a valid IPv6 address") from None
        return host
    if re.fullmatch(r"[\d.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise ProxyInputError(option, f"host '{host}' is not a valid IPv4 address") from None
        return host
    if len(host) > 253 or not all(_HOST_LABEL_RE.match(label) for label in host.split(".")):
        raise ProxyInputError(option, f"host '{host}' is not a valid host name (letters, digits, '-' and '.' only)")
    return host


def validate_port(option: str, port: str, shown: str) -> int:
    """Parse a TCP port, 1 to 65535."""
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ProxyInputError(option, f"'{redact(shown)}' has port '{port}'; a port is a number from 1 to 65535")
    return int(port)


def _split_scheme(option: str, value: str, shown: str) -> tuple[str, str]:
    """Return (scheme, rest). The agent adds http:// to a value without '://' (spec §2, ParseProxySettings)."""
    if value.startswith("//"):
        return "http", value[2:]
    match = _SCHEME_RE.match(value)
    if not match:
        if "://" in value or value.startswith(":"):
            raise ProxyInputError(option, f"'{redact(shown)}' is not a URL; write it as http://proxy.example.com:3128")
        return "http", value
    scheme = match.group("scheme").lower()
    if scheme not in ("http", "https"):
        raise ProxyInputError(
            option,
            f"scheme '{scheme}' is not supported; use http:// (the agent's HTTPS traffic goes through an HTTP proxy with CONNECT, "
            "and Session Manager only supports http:// proxies)",
        )
    return scheme, value[match.end():]


def parse_proxy_url(option: str, value: str, username: str | None = None, password: str | None = None) -> ProxyUrl:
    """Parse and validate a proxy URL ``[http://][user:password@]host[:port][/]``.

    ``username``/``password`` come from separate options so that a password kept in a vault need not be
    spliced into a URL; they are refused when the URL carries its own credentials.
    """
    if not isinstance(value, str):
        raise ProxyInputError(option, f"must be a string, got {type_name(value)}")
    shown = value
    _check_characters(option, value, shown)
    bad = sorted(set(value) & _FORBIDDEN_URL_CHARS)
    if bad:
        raise ProxyInputError(option, f"'{redact(shown)}' contains {' '.join(repr(c) for c in bad)}; percent-encode it or pass the password in proxy_password")
    scheme, rest = _split_scheme(option, value, shown)
    netloc, sep, tail = rest.partition("/")
    if sep and tail:
        raise ProxyInputError(option, f"'{redact(shown)}' has a path, query or fragment '/{tail}'; a proxy URL is scheme://host:port only")
    if "?" in netloc or "#" in netloc:
        raise ProxyInputError(option, f"'{redact(shown)}' has a query or fragment; a proxy URL is scheme://host:port only")
    userinfo, at, hostport = netloc.rpartition("@")
    url_user = url_password = None
    if at:
        if username is not None or password is not None:
            raise ProxyInputError(option, "has credentials in the URL and proxy_username/proxy_password are set too; use one or the other")
        user_part, colon, password_part = userinfo.partition(":")
        url_user = urllib.parse.unquote(user_part)
        url_password = urllib.parse.unquote(password_part) if colon else None
        if not url_user:
            raise ProxyInputError(option, f"'{redact(shown)}' has an empty user name before '@'; remove the '@' or add the user")
    host, port = _split_host_port(option, hostport, shown)
    return ProxyUrl(scheme=scheme, host=validate_host(option, host), port=port,
                    username=url_user if at else username, password=url_password if at else password)


def _split_host_port(option: str, hostport: str, shown: str) -> tuple[str, int | None]:
    """Split ``host[:port]`` where host may be a bracketed IPv6 address."""
    if hostport.startswith("["):
        host, bracket, port_part = hostport.partition("]")
        host += bracket
        if port_part and not port_part.startswith(":"):
            raise ProxyInputError(option, f"'{redact(shown)}' has text after the IPv6 address; write [address]:port")
        port_text = port_part[1:] if port_part else None
    else:
        if hostport.count(":") > 1:
            if _is_ipv6_with_optional_port(hostport):
                raise ProxyInputError(option, f"'{redact(shown)}' has an IPv6 address without brackets; write http://[address]:port")
            raise ProxyInputError(option, f"'{redact(shown)}' has more than one ':' after the host; write host:port (an IPv6 address in brackets)")
        host, colon, port_text_raw = hostport.partition(":")
        port_text = port_text_raw if colon else None
    port = None if port_text is None else validate_port(option, port_text, shown)
    return host, port


def _is_ipv6_with_optional_port(text: str) -> bool:
    """Whether ``text`` is an IPv6 address, or one followed by ``:port`` (the forms that need brackets)."""
    for candidate in (text, text.rpartition(":")[0]):
        try:
            ipaddress.IPv6Address(candidate)
            return True
        except ValueError:
            continue
    return False


def _ie_wildcard_hint(entry: str) -> str:
    """The Go-compatible replacement of an IE-style wildcard, for the error message."""
    match = _IE_OCTET_WILDCARD_RE.match(entry)
    if match:
        octets = match.group("octets").split(".")
        network = ".".join(octets + ["0"] * (4 - len(octets)))
        return f"use the CIDR {network}/{8 * len(octets)}"
    if entry.startswith("*") and not entry.startswith("*."):
        return f"use '.{entry.lstrip('*.')}' for every subdomain"
    return "use a domain ('example.com' matches it and its subdomains, '.example.com' only subdomains) or a CIDR"


def normalise_bypass_entry(option: str, entry: str) -> str:
    """Validate one ``no_proxy`` entry and return the form Go matches (lowercase, IPv6 without brackets).

    Go's httpproxy accepts ``*``, an IP, a CIDR, ``host:port``, a domain (matching itself and its
    subdomains) and ``.domain`` / ``*.domain`` (subdomains only); anything else never matches.
    """
    if not isinstance(entry, str):
        raise ProxyInputError(option, f"entry {entry!r} must be a string")
    _check_characters(option, entry, entry)
    value = entry.lower()
    if value == "*":
        return value
    if value in ("<local>", "<-loopback>"):
        raise ProxyInputError(option, f"'{entry}' is a WinINet macro that Go ignores; list the host names (localhost and loopback are always bypassed)")
    if "," in value or ";" in value:
        raise ProxyInputError(option, f"'{entry}' holds several entries; give one host, domain or CIDR per list item")
    if "*" in value.removeprefix("*."):
        raise ProxyInputError(option, f"'{entry}' is an IE-style wildcard that Go never matches; {_ie_wildcard_hint(value)}")
    if "/" in value:
        try:
            return str(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ProxyInputError(option, f"'{entry}' is not a valid CIDR such as 10.0.0.0/8") from None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if value.startswith("["):
        host, bracket, port_part = value.partition("]")
        if not bracket:
            raise ProxyInputError(option, f"'{entry}' is missing the closing ']' of the IPv6 address; write it without brackets")
        address = host[1:]
        try:
            ipaddress.IPv6Address(address)
        except ValueError:
            raise ProxyInputError(option, f"'{entry}' is not a valid bracketed IPv6 address") from None
        if not port_part:
            # Go matches a bracketed address only together with a port; without one write it bare.
            return address
        if not port_part.startswith(":"):
            raise ProxyInputError(option, f"'{entry}' has text after the IPv6 address; write [address]:port")
        return f"[{address}]:{validate_port(option, port_part[1:], entry)}"
    host, colon, port_text = value.partition(":")
    domain = host.removeprefix("*.").removeprefix(".")
    if not domain:
        raise ProxyInputError(option, f"'{entry}' has no host or domain")
    validate_host(option, domain)
    if colon:
        return f"{host}:{validate_port(option, port_text, entry)}"
    return host


def normalise_bypass_list(option: str, entries: list[str], imds_bypass: bool) -> list[str]:
    """Normalise a ``no_proxy`` list: validate each entry, drop duplicates keeping the first, add IMDS."""
    result: list[str] = []
    for entry in entries:
        normalised = normalise_bypass_entry(option, entry)
        if normalised not in result:
            result.append(normalised)
    if imds_bypass:
        result.extend(address for address in IMDS_ADDRESSES if address not in result)
    return result


def proxy_warnings(option: str, url: ProxyUrl) -> list[str]:
    """Operator warnings for a proxy URL that the agent accepts but that is probably not what was meant."""
    warnings = []
    if url.scheme == "https":
        warnings.append(
            f"{option} {url.redacted()} uses https://: Go then speaks TLS to the proxy itself, and Session Manager's "
            "websocket client only supports http:// proxies; most proxies want http:// (CONNECT tunnels HTTPS)"
        )
    return warnings


def value_warnings(name: str, value: str) -> list[str]:
    """Warnings about characters that other readers of the Environment value mishandle (spec §4, §5)."""
    warnings = []
    if "%" in value:
        warnings.append(
            f"{name} contains '%': the agent logs it through a format string, so its log shows it mangled "
            "(e.g. '%40' as '%!s(MISSING)'); the setting itself is unaffected"
        )
    if "=" in value:
        warnings.append(
            f"{name} contains '=': ssm-cli get-diagnostics and the domain-join and CloudWatch plugins split "
            "Environment lines on '=' and will read it truncated"
        )
    return warnings
