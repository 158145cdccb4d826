# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxy URL and no_proxy parsing against the inputs operators write and the forms Go reads."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.ssm.proxy.plugins.plugin_utils._proxy import (
    IMDS_ADDRESSES,
    REDACTED,
    ProxyInputError,
    normalise_bypass_entry,
    normalise_bypass_list,
    parse_proxy_url,
    proxy_warnings,
    redact,
    value_warnings,
)


@pytest.mark.parametrize(
    ("given_url", "written"),
    [
        ("http://proxy.example.com:3128", "http://proxy.example.com:3128"),
        ("proxy.example.com:3128", "http://proxy.example.com:3128"),  # the agent adds http:// too
        ("//proxy:8080", "http://proxy:8080"),
        ("HTTP://Proxy.Example.com:3128/", "http://Proxy.Example.com:3128"),
        ("http://10.0.0.5:3128", "http://10.0.0.5:3128"),
        ("http://[fd00::1]:3128", "http://[fd00::1]:3128"),
        ("http://proxy", "http://proxy"),
        ("https://proxy.example.com:443", "https://proxy.example.com:443"),
        ("http://user:p%40ss@proxy:3128", "http://user:p%40ss@proxy:3128"),
        ("http://user@proxy:3128", "http://user@proxy:3128"),
        ("http://a_b.example.com:1", "http://a_b.example.com:1"),
        ("http://proxy:65535", "http://proxy:65535"),
    ],
)
def test_proxy_url_is_written_as_go_reads_it(given_url: str, written: str) -> None:
    assert parse_proxy_url("proxy", given_url).url() == written


@pytest.mark.parametrize(
    ("given_url", "fragment"),
    [
        ("", "is empty"),
        ("http://", "has no host"),
        ("http://:3128", "has no host"),
        ("http://proxy:0", "port '0'"),
        ("http://proxy:65536", "port '65536'"),
        ("http://proxy:port", "port 'port'"),
        ("socks5://proxy:1080", "scheme 'socks5' is not supported"),
        ("ftp://proxy:21", "scheme 'ftp'"),
        ("http://proxy :3128", "whitespace"),
        (" http://proxy:3128", "whitespace"),
        ("http://proxy:3128\n", "control character"),
        ("http://prox\u00ff.example.com:3128", "non-ASCII"),
        ("http://proxy:3128/path", "has a path"),
        ("http://proxy:3128?x=1", "query or fragment"),
        ("http://pro\"xy:3128", "'\"'"),
        ("http://proxy;calc:3128", "not a valid host name"),
        ("http://$(whoami):3128", "not a valid host name"),
        ("http://300.1.1.1:3128", "not a valid IPv4 address"),
        ("http://fd00::1:3128", "IPv6 address without brackets"),
        ("http://[fd00::zz]:3128", "not a valid IPv6 address"),
        ("http://[fd00::1:3128", "missing the closing"),
        ("http://@proxy:3128", "empty user name"),
        ("http://-proxy:3128", "not a valid host name"),
        ("x" * 40000, "Windows limits"),
    ],
)
def test_bad_proxy_url_names_option_and_fix(given_url: str, fragment: str) -> None:
    with pytest.raises(ProxyInputError) as error:
        parse_proxy_url("proxy", given_url)
    assert str(error.value).startswith("proxy: ")
    assert fragment in str(error.value)


def test_separate_credentials_are_encoded_and_redacted() -> None:
    url = parse_proxy_url("proxy", "http://proxy:3128", "svc@corp", "p@ss=w:rd/%")
    assert url.url() == "http://svc%40corp:p%40ss%3Dw%3Ard%2F%25@proxy:3128"
    assert url.redacted() == f"http://svc%40corp:{REDACTED}@proxy:3128"
    assert "p@ss" not in url.redacted()


def test_credentials_twice_are_contradictory() -> None:
    with pytest.raises(ProxyInputError, match="use one or the other"):
        parse_proxy_url("proxy", "http://u:p@proxy:3128", "u", "p")


def test_error_message_never_shows_the_password() -> None:
    with pytest.raises(ProxyInputError) as error:
        parse_proxy_url("proxy", "http://user:Secr3t@proxy:99999")
    assert "Secr3t" not in str(error.value)
    assert REDACTED in str(error.value)


@pytest.mark.parametrize(
    ("entry", "written"),
    [
        ("*", "*"),
        ("Example.COM", "example.com"),
        (".corp.example.com", ".corp.example.com"),
        ("*.corp.example.com", "*.corp.example.com"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("10.1.2.3/8", "10.0.0.0/8"),
        ("169.254.169.254", "169.254.169.254"),
        ("[fd00:ec2::254]", "fd00:ec2::254"),  # Go never matches the bracketed form without a port
        ("FD00:EC2::254", "fd00:ec2::254"),
        ("[fd00:ec2::254]:80", "[fd00:ec2::254]:80"),
        ("fd00::/8", "fd00::/8"),
        ("internal.example.com:8443", "internal.example.com:8443"),
        ("localhost", "localhost"),
    ],
)
def test_bypass_entry_in_the_form_go_matches(entry: str, written: str) -> None:
    assert normalise_bypass_entry("no_proxy", entry) == written


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ("10.*", "use the CIDR 10.0.0.0/8"),
        ("192.168.*", "use the CIDR 192.168.0.0/16"),
        ("10.1.2.*", "use the CIDR 10.1.2.0/24"),
        ("*example.com", "use '.example.com'"),
        ("ex*.com", "IE-style wildcard"),
        ("<local>", "WinINet macro"),
        ("<-loopback>", "WinINet macro"),
        ("10.0.0.0/33", "not a valid CIDR"),
        ("host:0", "port '0'"),
        ("[fd00::zz]", "not a valid bracketed IPv6"),
        ("a b", "whitespace"),
        ("", "is empty"),
        ("bad;entry", "holds several entries"),
        (".", "has no host"),
        ("h\u00e9te.example.com", "non-ASCII"),
    ],
)
def test_bad_bypass_entry(entry: str, fragment: str) -> None:
    with pytest.raises(ProxyInputError) as error:
        normalise_bypass_entry("no_proxy", entry)
    assert str(error.value).startswith("no_proxy: ")
    assert fragment in str(error.value)


def test_bypass_list_drops_duplicates_keeps_order_adds_imds_once() -> None:
    entries = ["b.example.com", "A.example.com", "b.EXAMPLE.com", "[fd00:ec2::254]"]
    assert normalise_bypass_list("no_proxy", entries, imds_bypass=True) == [
        "b.example.com", "a.example.com", "fd00:ec2::254", "169.254.169.254",
    ]
    assert normalise_bypass_list("no_proxy", [], imds_bypass=True) == list(IMDS_ADDRESSES)
    assert not normalise_bypass_list("no_proxy", [], imds_bypass=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http_proxy=http://u:secret@proxy:3128", f"http_proxy=http://u:{REDACTED}@proxy:3128"),
        ("u:secret@proxy:3128", f"u:{REDACTED}@proxy:3128"),
        ("http://u:se@cret@proxy:3128", f"http://u:{REDACTED}@proxy:3128"),
        ("http://proxy:3128", "http://proxy:3128"),
        ("http://u@proxy:3128", "http://u@proxy:3128"),
        ("FOO=bar", "FOO=bar"),
        ("a http://u:x@h and http://v:y@k", f"a http://u:{REDACTED}@h and http://v:{REDACTED}@k"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


PASSWORDS = st.text(alphabet=string.ascii_letters + string.digits + string.punctuation, min_size=4, max_size=30)


@given(password=PASSWORDS, user=st.text(alphabet=string.ascii_letters, min_size=1, max_size=10))
def test_written_url_never_leaks_password_when_redacted(password: str, user: str) -> None:
    url = parse_proxy_url("proxy", "http://proxy.example.com:3128", user, password)
    written = url.url()
    assert redact(written) == url.redacted()
    assert "=" not in written  # plugins that split on '=' would truncate it (spec §5)
    reparsed = parse_proxy_url("proxy", written)
    assert reparsed == url


def test_warnings() -> None:
    assert "https://" in proxy_warnings("proxy", parse_proxy_url("proxy", "https://p:443"))[0]
    assert not proxy_warnings("proxy", parse_proxy_url("proxy", "http://p:80"))
    assert len(value_warnings("http_proxy", "http://u:p%40ss=x@p:1")) == 2
    assert not value_warnings("http_proxy", "http://p:1")


def test_an_empty_password_is_never_shown_as_set() -> None:
    """user:@ is what an empty password writes; showing ******** there would claim a password that was never set."""
    url = parse_proxy_url("proxy", "http://proxy.example.com:3128", "svc-ssm", "")
    assert url.redacted() == "http://svc-ssm:@proxy.example.com:3128"
    assert redact("https_proxy=http://svc-ssm:@proxy.example.com:3128") == "https_proxy=http://svc-ssm:@proxy.example.com:3128"
    assert redact("http://svc-ssm:x@proxy.example.com:3128") == "http://svc-ssm:********@proxy.example.com:3128"
