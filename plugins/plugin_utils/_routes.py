# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where each endpoint's traffic goes: through which proxy, or direct and why.

Private to the ssm.proxy collection (internal use): no compatibility promises.

Every HTTP client of the agent asks Go's ``http.ProxyFromEnvironment`` (ported in ``_golang``) with the
three variables the agent ends up with. Its websocket client (Session Manager's data channel) is a
gorilla/websocket Dialer with ``Proxy: http.ProxyFromEnvironment`` (agent
``agent/session/communicator/websocketutil/websocketutil.go``), which rewrites ``wss://`` to ``https://``
before asking and then dials only ``http://`` (and socks5) proxies.
"""

from __future__ import annotations

import re
import typing as t
from collections.abc import Mapping, Sequence

from ._golang import BEFORE_BRACKET_CHECKS, CURRENT, STRICT_COLONS, GoError, GoRelease, ProxyEnvironment, url_parse
from ._proxy import ProxyInputError, redact, type_name

# The endpoints the agent talks to (AWS guide, "Systems Manager prerequisites": ssm, ec2messages, ssmmessages,
# S3 for documents, plugins and logs, KMS for Session Manager encryption, CloudWatch Logs for session logs).
AGENT_SERVICES = ("ssm", "ec2messages", "ssmmessages", "s3", "kms", "logs")
# Instance metadata (IMDS), IPv4 and the Nitro IPv6 address; http:// as the SDK asks it.
IMDS_URLS = (("imds", "http://169.254.169.254/latest/api/token"), ("imds_ipv6", "http://[fd00:ec2::254]/latest/api/token"))
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
# Partition DNS suffixes by region prefix (the AWS SDK's partitions: aws-cn, aws-iso, aws-iso-b; others amazonaws.com).
_PARTITION_SUFFIXES = (("cn-", "amazonaws.com.cn"), ("us-isob-", "sc2s.sgov.gov"), ("us-iso-", "c2s.ic.gov"))


def partition_domain(region: str) -> str:
    """The DNS suffix of a region's partition: ``amazonaws.com.cn`` for China, ``amazonaws.com`` for most."""
    for prefix, suffix in _PARTITION_SUFFIXES:
        if region.startswith(prefix):
            return suffix
    return "amazonaws.com"


def validate_region(option: str, region: t.Any) -> str:
    if not isinstance(region, str) or not _REGION_RE.match(region):
        raise ProxyInputError(option, f"'{region}' is not an AWS region name such as us-east-1 or cn-north-1")
    return region


def agent_endpoints(region: str | None) -> list[tuple[str, str]]:
    """(name, URL) of the agent's endpoints in ``region`` (none without a region), then instance metadata."""
    endpoints: list[tuple[str, str]] = []
    if region:
        domain = partition_domain(region)
        for service in AGENT_SERVICES:
            # Session Manager's data channel is a websocket; the agent asks the proxy for it as https://.
            scheme = "wss" if service == "ssmmessages" else "https"
            endpoints.append((service, f"{scheme}://{service}.{region}.{domain}"))
    endpoints.extend(IMDS_URLS)
    return endpoints


def validate_endpoints(option: str, endpoints: t.Any) -> list[str]:
    """Extra URLs to route: http(s):// or ws(s):// with a host, as the agent's clients would ask."""
    if endpoints is None:
        return []
    if not isinstance(endpoints, (list, tuple)):
        raise ProxyInputError(option, f"must be a list of URLs, got {type_name(endpoints)}")
    for endpoint in endpoints:
        if not isinstance(endpoint, str):
            raise ProxyInputError(option, f"entry {endpoint!r} must be a string URL such as https://example.com")
        try:
            parsed = url_parse(endpoint)
        except GoError as error:
            raise ProxyInputError(option, f"'{redact(endpoint)}' is not a URL Go can parse ({redact(str(error))})") from None
        if parsed.scheme not in (b"http", b"https", b"ws", b"wss") or not parsed.host:
            raise ProxyInputError(option, f"'{redact(endpoint)}' needs an http://, https://, ws:// or wss:// scheme and a host")
    return list(endpoints)


def _as_asked(url: str) -> str:
    """The URL the agent hands ProxyFromEnvironment: its websocket client rewrites ws(s):// to http(s):// first."""
    for websocket, http in (("wss://", "https://"), ("ws://", "http://")):
        if url.lower().startswith(websocket):
            return http + url[len(websocket):]
    return url


def routes(effective: Mapping[str, str], endpoints: Sequence[tuple[str | None, str]], release: GoRelease = CURRENT) -> list[dict[str, t.Any]]:
    """{name, url, proxy, matched} per endpoint, in order: ``proxy`` redacted or '' (direct), ``matched`` the no_proxy entry."""
    environment = ProxyEnvironment(effective.get("http_proxy", ""), effective.get("https_proxy", ""), effective.get("no_proxy", ""), release)
    found = []
    for name, url in endpoints:
        route = environment.route(_as_asked(url))
        found.append({"name": name, "url": redact(url), "proxy": redact(route.proxy), "matched": route.matched})
    return found


def release_dependent_routes(effective: Mapping[str, str], endpoints: Sequence[tuple[str | None, str]]) -> list[tuple[str, str, str, str]]:
    """(url, change, proxy now, proxy under the other release) for each route that a Go release changes.

    Go parses the proxy variables and the request URL with url.Parse, whose bracket and colon rules changed
    between releases (see _golang.GoRelease).
    """
    current = routes(effective, endpoints)
    found = []
    for change, release in (("bracket_checks", BEFORE_BRACKET_CHECKS), ("strict_colons", STRICT_COLONS)):
        for now, other in zip(current, routes(effective, endpoints, release)):
            if now["proxy"] != other["proxy"]:
                found.append((now["url"], change, now["proxy"], other["proxy"]))
    return found


def requested_endpoints(region: t.Any, endpoints: t.Any) -> list[tuple[str | None, str]]:
    """The (name, URL) list ssm_agent_proxy_info routes: the agent's endpoints in ``region``, IMDS, the extras."""
    checked_region = None if region in (None, "") else validate_region("region", region)
    return agent_endpoints(checked_region) + [(None, url) for url in validate_endpoints("endpoints", endpoints)]
