# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The simulated SSM Agent against scenarios from spec/agent-proxy.md (sections 1-4)."""

from __future__ import annotations

import datetime
import random
import re
import struct
import types
import typing as t

import pytest

SERVICE = 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent'
SYSTEM_ENV = 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment'
LOCALSYSTEM_ENV = 'HKU:\\S-1-5-18\\Environment'
IE_KEY = 'HKU:\\S-1-5-18\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections'
MACHINE_KEY = 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections'
POLICY_KEY = 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\\Internet Settings'
NOW = datetime.datetime(2024, 6, 10, 9, 10, 27, 901200)


# --- Test-side blob encoders (written from spec/registry-blobs.md, independent of the code under test) ---

def _counted(text: str) -> bytes:
    return struct.pack('<I', len(text)) + text.encode('ascii')


def winhttp_blob(proxy: str = '', bypass: str = '', flags: t.Optional[int] = None) -> dict[str, str]:
    flags = (3 if proxy else 1) if flags is None else flags
    return {'type': 'REG_BINARY', 'value': (struct.pack('<III', 0x28, 0, flags) + _counted(proxy) + _counted(bypass)).hex()}


def ie_blob(proxy: str = '', bypass: str = '', flags: t.Optional[int] = None, pac: str = '') -> dict[str, str]:
    flags = (3 if proxy else 1) if flags is None else flags
    blob = struct.pack('<III', 0x46, 7, flags) + _counted(proxy) + _counted(bypass) + _counted(pac) + bytes(32)
    return {'type': 'REG_BINARY', 'value': blob.hex()}


def service_env(*lines: str) -> dict[str, dict[str, t.Any]]:
    return {'Environment': {'type': 'REG_MULTI_SZ', 'value': list(lines)}}


def evaluate(agent: types.ModuleType, registry: dict[str, dict[str, t.Any]]) -> t.Any:
    folded = {key.casefold(): values for key, values in registry.items()}
    return agent.set_proxy_config(agent.gather_inputs(lambda path: folded.get(path.casefold())))


def messages(evaluation: t.Any) -> list[str]:
    return [f'{level} {message}' for level, message in evaluation.log]


# --- Blob decoding against public vectors (spec/blob-vectors.json) -------------------------------------------

@pytest.mark.parametrize('hex_blob, flags, proxy, bypass', [
    pytest.param('1800000000000000010000000000000000000000', 1, '', '', id='W1-default-direct'),
    pytest.param('2800000000000000010000000000000000000000', 1, '', '', id='W2-netsh-reset'),
])
def test_decode_winhttp_settings_vectors(sim_agent, hex_blob, flags, proxy, bypass):
    info = sim_agent.decode_winhttp_settings(bytes.fromhex(hex_blob))
    assert (info.flags, info.proxy, info.bypass) == (flags, proxy, bypass)


@pytest.mark.parametrize('hex_blob, flags, proxy, bypass, pac', [
    pytest.param('46000000510000000b0000000c0000003132372e302e302e313a3830070000003c6c6f63616c3e0000000000000000000000000000000000'
                 '00000000000000000000000000000000000000', 0x0B, '127.0.0.1:80', '<local>', '', id='I4-proxy-local-autodetect'),
    pytest.param('4600000003000000070000000e0000003139322e3136382e312e313a38300000000021000000687474703a2f2f7864756f7461692e636f6d'
                 '2f7052734f334e4752332d2e7061630000000000000000000000000000000000000000000000000000000000000000',
                 0x07, '192.168.1.1:80', '', 'http://xduotai.com/pRsO3NGR3-.pac', id='I6-proxy-and-pac'),
])
def test_decode_connection_settings_vectors(sim_agent, hex_blob, flags, proxy, bypass, pac):
    config = sim_agent.decode_connection_settings(bytes.fromhex(hex_blob))
    assert (config.flags, config.proxy, config.bypass, config.auto_config_url) == (flags, proxy, bypass, pac)


@pytest.mark.parametrize('hex_blob', ['1800000000000000', '28000000000000000300000010000000686f7374'])
def test_truncated_winhttp_blob_is_an_error(sim_agent, hex_blob):
    with pytest.raises(ValueError, match='WinHttpSettings'):
        sim_agent.decode_winhttp_settings(bytes.fromhex(hex_blob))


# --- Go url.Parse / String normalisation through the agent's ValidateHost -----------------------------------

@pytest.mark.parametrize('given, expected', [
    ('proxy:3128', 'http://proxy:3128'),
    ('//10.0.0.1:80', 'http://10.0.0.1:80'),
    ('HTTP://Proxy.Corp:3128/', 'http://Proxy.Corp:3128/'),  # scheme lowercased, host kept
    ('user:p@ss@proxy:3128', 'http://user:p%40ss@proxy:3128'),  # last '@' ends the userinfo
    ('http://user:p%40ss@proxy:3128', 'http://user:p%40ss@proxy:3128'),
    ('pa!ss:x@proxy', 'http://pa%21ss:x@proxy'),  # '!' is escaped in userinfo by String()
    ('https://proxy:443', 'https://proxy:443'),
    ('socks5://proxy:1080', 'socks5://proxy:1080'),
])
def test_validate_host_normalises_like_go(sim_agent, given, expected):
    assert sim_agent.validate_host(given).string() == expected


@pytest.mark.parametrize('given, message', [
    ('proxy:abc', 'parse "http://proxy:abc": invalid port ":abc" after hosthttp://proxy:abc, skipped'),
    ('pro^xy:80', 'parse "http://pro^xy:80": invalid character "^" in host namehttp://pro^xy:80, skipped'),
    ('u:p%zz@proxy', 'parse "http://u:p%zz@proxy": invalid URL escape "%zz"http://u:p%zz@proxy, skipped'),
    ('<local>', '<local> host not supported, skipped'),
    ('<-loopback>', '<-loopback> host not supported, skipped'),
])
def test_validate_host_errors_read_like_the_agent(sim_agent, given, message):
    with pytest.raises(sim_agent.GoURLError) as caught:
        sim_agent.validate_host(given)
    assert str(caught.value) == message


@pytest.mark.parametrize('fmt, expected', [
    ('https_proxy: http://u:p%40ss@proxy:3128', 'https_proxy: http://u:p%!s(MISSING)s@proxy:3128'),
    ('no_proxy: 50%', 'no_proxy: 50%!(NOVERB)'),
    ('a%%b', 'a%b'),
    ('%-08.3f|%d', '%!f(MISSING)|%!d(MISSING)'),
    ('%*d', '%!(BADWIDTH)%!d(MISSING)'),
    ('plain', 'plain'),
])
def test_go_sprintf_without_args(sim_agent, fmt, expected):
    assert sim_agent.go_sprintf_without_args(fmt) == expected


# --- ParseProxySettings / the proxy algorithm ---------------------------------------------------------------

@pytest.mark.parametrize('proxy, http, https', [
    pytest.param('proxy:3128', 'http://proxy:3128', '', id='bare-host-port-sets-only-http_proxy'),
    pytest.param('http=h:1;https=s:2', 'http://h:1', 'http://s:2', id='both-schemes'),
    pytest.param('https=s:2', '', 'http://s:2', id='https-only'),
    pytest.param('http=h:1', 'http://h:1', '', id='http-only'),
    pytest.param('https=s:2;other:9', 'http://other:9', 'http://s:2', id='bare-piece-fills-http'),
    pytest.param('http=h:1 other:9', 'http://h:1', 'http://other:9', id='whitespace-separates-bare-piece-fills-https'),
    pytest.param('ftp=f:21;socks=s:1080', '', '', id='other-schemes-dropped'),
    pytest.param('HTTP=h:1', '', '', id='scheme-is-case-sensitive-HTTP=-dropped'),
    pytest.param('a:1,b:2', 'http://a:1,b:2', '', id='comma-is-not-a-separator'),
])
def test_ie_proxy_list_forms(sim_agent, proxy, http, https):
    evaluation = evaluate(sim_agent, {IE_KEY: {'DefaultConnectionSettings': ie_blob(proxy)}})
    assert evaluation.variables == {'https_proxy': https, 'http_proxy': http, 'no_proxy': ''}


def test_ie_wins_over_winhttp_and_winhttp_is_not_queried(sim_agent):
    evaluation = evaluate(sim_agent, {
        IE_KEY: {'DefaultConnectionSettings': ie_blob('http=ie:1;https=ie:1', '*.ie.corp')},
        MACHINE_KEY: {'WinHttpSettings': winhttp_blob('http=wh:2;https=wh:2', '*.wh.corp')},
    })
    assert evaluation.variables == {'https_proxy': 'http://ie:1', 'http_proxy': 'http://ie:1', 'no_proxy': '*.ie.corp'}
    assert messages(evaluation) == ['INFO Getting IE proxy configuration for current user: The operation completed successfully.']


def test_ie_strings_without_manual_flag_fall_back_to_winhttp(sim_agent):
    # "enabled" is the 0x2 flag, never "the string is non-empty" (spec/registry-blobs.md).
    evaluation = evaluate(sim_agent, {
        IE_KEY: {'DefaultConnectionSettings': ie_blob('ie:1', '', flags=0x1)},
        MACHINE_KEY: {'WinHttpSettings': winhttp_blob('http=wh:2;https=wh:2', 'a.corp;<local>')},
    })
    assert evaluation.variables == {'https_proxy': 'http://wh:2', 'http_proxy': 'http://wh:2', 'no_proxy': 'a.corp'}
    assert messages(evaluation) == [
        'INFO Getting IE proxy configuration for current user: The operation completed successfully.',
        'INFO Getting WinHTTP proxy default configuration: The operation completed successfully.',
        'WARN SetProxySettings invalid URL or host for no_proxy: <local> host not supported, skipped',
    ]


def test_ie_manual_flag_with_empty_proxy_falls_back_to_winhttp(sim_agent):
    # WinHttpGetIEProxyConfigForCurrentUser leaves lpszProxy NULL for an empty string even with flag 0x2
    # (Wine dlls/winhttp/session.c), and the agent's `enabled` is `lpszProxy != nil`.
    evaluation = evaluate(sim_agent, {
        IE_KEY: {'DefaultConnectionSettings': ie_blob('', 'ie.corp', flags=0x3)},
        MACHINE_KEY: {'WinHttpSettings': winhttp_blob('http=wh:2;https=wh:2', 'a.corp')},
    })
    assert evaluation.variables == {'https_proxy': 'http://wh:2', 'http_proxy': 'http://wh:2', 'no_proxy': 'a.corp'}
    assert 'INFO Getting WinHTTP proxy default configuration: The operation completed successfully.' in messages(evaluation)


def test_machine_wide_policy_reads_hklm_connections(sim_agent):
    registry = {
        POLICY_KEY: {'ProxySettingsPerUser': {'type': 'REG_DWORD', 'value': 0}},
        MACHINE_KEY: {'DefaultConnectionSettings': ie_blob('machine:8080')},
        IE_KEY: {'DefaultConnectionSettings': ie_blob('localsystem:8080')},
    }
    assert evaluate(sim_agent, registry).variables['http_proxy'] == 'http://machine:8080'
    registry[POLICY_KEY]['ProxySettingsPerUser']['value'] = 1
    assert evaluate(sim_agent, registry).variables['http_proxy'] == 'http://localsystem:8080'


def test_env_proxy_silences_ie_entirely_but_ie_bypass_still_applies(sim_agent):
    # Only https_proxy in the environment: IE's proxy is dropped for http too, its bypass list stays.
    evaluation = evaluate(sim_agent, {
        SERVICE: service_env('https_proxy=http://env:3128'),
        IE_KEY: {'DefaultConnectionSettings': ie_blob('http=ie:1;https=ie:1', '169.254.169.254;*.corp')},
    })
    assert evaluation.variables == {'https_proxy': 'http://env:3128', 'http_proxy': '', 'no_proxy': '169.254.169.254,*.corp'}


def test_env_no_proxy_with_winhttp_proxy(sim_agent):
    evaluation = evaluate(sim_agent, {
        SERVICE: service_env('no_proxy=169.254.169.254'),
        MACHINE_KEY: {'WinHttpSettings': winhttp_blob('http=wh:3128;https=wh:3128', 'winhttp.bypass')},
    })
    assert evaluation.variables == {'https_proxy': 'http://wh:3128', 'http_proxy': 'http://wh:3128', 'no_proxy': '169.254.169.254'}


def test_env_values_are_kept_verbatim(sim_agent):
    # The agent does not normalise what the environment holds (only values it computes go through url.Parse).
    evaluation = evaluate(sim_agent, {SERVICE: service_env('http_proxy=proxy:3128', 'HTTPS_PROXY=proxy:3128')})
    assert evaluation.variables == {'https_proxy': 'proxy:3128', 'http_proxy': 'proxy:3128', 'no_proxy': ''}


def test_bypass_entries_are_reduced_to_the_url_host(sim_agent):
    evaluation = evaluate(sim_agent, {IE_KEY: {'DefaultConnectionSettings': ie_blob('p:1', '<local>;10.0.0.0/8 host:8080;;.corp;<-loopback>')}})
    assert evaluation.variables['no_proxy'] == '10.0.0.0,host:8080,.corp'
    assert messages(evaluation)[1:] == [
        'WARN SetProxySettings invalid URL or host for no_proxy: <local> host not supported, skipped',
        'WARN SetProxySettings invalid URL or host for no_proxy: <-loopback> host not supported, skipped',
    ]


def test_unsupported_ie_options_warn(sim_agent):
    evaluation = evaluate(sim_agent, {IE_KEY: {'DefaultConnectionSettings': ie_blob('p:1', '', flags=0x0F, pac='http://pac/x.pac')}})
    assert messages(evaluation)[1:] == [
        "WARN IE option 'Automatically  detect settings' is not supported",
        "WARN IE option 'Use automatic configuration script' is not supported",
    ]


def test_corrupt_blobs_log_errors_and_go_direct(sim_agent):
    evaluation = evaluate(sim_agent, {
        IE_KEY: {'DefaultConnectionSettings': {'type': 'REG_BINARY', 'value': '4600'}},
        MACHINE_KEY: {'WinHttpSettings': {'type': 'REG_BINARY', 'value': '28000000000000000300000010000000'}},
    })
    assert evaluation.variables == {'https_proxy': '', 'http_proxy': '', 'no_proxy': ''}
    assert messages(evaluation) == [
        'ERROR Failed to get IE proxy configuration for current user: The data is invalid.',
        'ERROR Failed to get default machine WinHTTP proxy configuration: The data is invalid.',
    ]


# --- The environment the SCM hands the service ------------------------------------------------------------

def test_service_environment_precedence_and_case(sim_agent):
    registry = {
        SYSTEM_ENV: {'HTTP_PROXY': {'type': 'REG_SZ', 'value': 'system:1'},
                     'NO_PROXY': {'type': 'REG_SZ', 'value': 'system.corp'},
                     'Base': {'type': 'REG_SZ', 'value': 'corp'}},
        LOCALSYSTEM_ENV: {'http_proxy': {'type': 'REG_SZ', 'value': 'localsystem:2'},
                          'No_Proxy': {'type': 'REG_EXPAND_SZ', 'value': 'ls.%Base%'}},
        SERVICE: service_env('Http_Proxy=service:3', 'not a variable', '=C:=C:\\'),
    }
    environment = sim_agent.service_environment(registry.get)
    assert sim_agent.getenv(environment, 'http_proxy') == 'service:3'
    assert sim_agent.getenv(environment, 'no_proxy') == 'ls.corp'
    assert evaluate(sim_agent, registry).variables == {'https_proxy': '', 'http_proxy': 'service:3', 'no_proxy': 'ls.corp'}


# --- The startup block --------------------------------------------------------------------------------------

def _block(agent: types.ModuleType, variables: dict[str, str], version: str, seed: int = 1, log: t.Optional[list] = None) -> list[str]:
    evaluation = agent.ProxyEvaluation(variables=variables, log=log or [('INFO', 'first')])
    return agent.startup_log_lines(evaluation, version, NOW, random.Random(seed))


VARIABLES = {'https_proxy': 'http://u:p%40ss@proxy:3128', 'http_proxy': 'http://proxy:3128', 'no_proxy': ''}


def test_startup_block_for_agent_3(sim_agent):
    lines = _block(sim_agent, VARIABLES, '3.3.987.0')
    assert all(re.match(r'2024-06-10 09:10:27\.9\d{3} INFO ', line) for line in lines)
    text = [line.split(' ', 3)[3] for line in lines]
    assert text[:2] == ['first', 'Proxy environment variables:']
    assert sorted(text[2:5]) == ['http_proxy: http://proxy:3128', 'https_proxy: http://u:p%!s(MISSING)s@proxy:3128', 'no_proxy: ']
    assert text[5:] == ['[amazon-ssm-agent] amazon-ssm-agent - v3.3.987.0', '[amazon-ssm-agent] OS: windows, Arch: amd64',
                        '[amazon-ssm-agent] Starting Core Agent']


@pytest.mark.parametrize('version, stamp', [
    ('3.3.808.0', r'2024-06-10 09:10:27\.9012 '),
    ('3.3.807.0', r'2024-06-10 09:10:27 '),
    ('3.2.582.0', r'2024-06-10 09:10:27 '),
])
def test_timestamp_fraction_from_3_3_808(sim_agent, version, stamp):
    assert re.match(stamp + 'INFO first$', _block(sim_agent, VARIABLES, version)[0])


def test_agent_2_prints_fixed_order_and_starting_agent(sim_agent):
    text = [line.split(' ', 3)[3] for line in _block(sim_agent, VARIABLES, '2.3.1644.0')]
    assert text[1:] == ['Proxy environment variables:', 'http_proxy: http://proxy:3128', 'https_proxy: http://u:p%!s(MISSING)s@proxy:3128',
                        'no_proxy: ', 'Starting Agent: amazon-ssm-agent - v2.3.1644.0', 'OS: windows, Arch: amd64']


def test_agent_3_variable_order_is_a_random_rotation(sim_agent):
    orders = set()
    for seed in range(200):
        text = [line.split(' ', 3)[3] for line in _block(sim_agent, VARIABLES, '3.3.987.0', seed=seed)]
        orders.add(tuple(entry.split(':', 1)[0] for entry in text[2:5]))
    # Go's map iteration starts at a random slot of the bucket and wraps: rotations only, all of them.
    assert orders == {('https_proxy', 'http_proxy', 'no_proxy'), ('http_proxy', 'no_proxy', 'https_proxy'),
                      ('no_proxy', 'https_proxy', 'http_proxy')}


def test_same_seed_same_order(sim_agent):
    assert _block(sim_agent, VARIABLES, '3.3.987.0', seed=7) == _block(sim_agent, VARIABLES, '3.3.987.0', seed=7)


def test_bad_version_is_named(sim_agent):
    with pytest.raises(ValueError, match="'latest'"):
        _block(sim_agent, VARIABLES, 'latest')
