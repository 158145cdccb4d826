# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The twins of preflight.ps1 and restart_agent.ps1, and the agent-start faults of the state.

Unit tests call the twins with a real ``HostState`` (the object the win_powershell stand-in hands
them); the integration tests run scenarios/agent_scripts.yml once through tests/sim/playbook with the
collection's real scripts.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import re
import subprocess
import types
import typing as t

import pytest

SIM_DIR = pathlib.Path(__file__).resolve().parent
ROOT = SIM_DIR.parent.parent
RUNNER = SIM_DIR / 'playbook'
SERVICE_KEY = 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent'
RESTART_KEY = 'HKLM:\\SOFTWARE\\ssm.proxy'
LOG = 'C:\\ProgramData\\Amazon\\SSM\\Logs\\amazon-ssm-agent.log'
PROXY_ENV = ['https_proxy=http://proxy.corp:3128', 'http_proxy=http://proxy.corp:3128', 'no_proxy=169.254.169.254']
PROXIED = {'https_proxy': 'http://proxy.corp:3128', 'http_proxy': 'http://proxy.corp:3128', 'no_proxy': '169.254.169.254'}
EMPTY = {'https_proxy': '', 'http_proxy': '', 'no_proxy': ''}
CONNECT_FAILURE = 'Unable to connect to the remote server'
IMDS_FAILED = ("Cannot determine the AWS region: instance metadata (IMDSv2, http://169.254.169.254) did not answer "
               "(Unable to connect to the remote server). Set ssm_proxy_region to the host's region.")

# A host behind a proxy: no direct internet, instance metadata answers, one proxy that is down.
STATE: dict[str, t.Any] = {
    'registry': {SERVICE_KEY: {'Environment': {'type': 'REG_MULTI_SZ', 'value': PROXY_ENV}}},
    'services': {'AmazonSSMAgent': {'state': 'running', 'start_mode': 'auto'}},
    'agent': {'version': '3.3.987.0'},
    'files': {LOG: ''},
    'imds': {'region': 'eu-west-1'},
    'network': {'unreachable_proxies': ['dead.corp:3128'], 'direct_blocked': True},
    'calls': [],
}


def _state(sim_host: types.ModuleType, data: dict[str, t.Any], **changes: t.Any) -> t.Any:
    """A HostState over a copy of ``data`` with top-level sections replaced (None removes one)."""
    data = json.loads(json.dumps(dict(data, **changes)))
    return sim_host.HostState('/nonexistent/state.json', {key: value for key, value in data.items() if value is not None})


def _endpoint(service: str, region: str, domain: str = 'amazonaws.com', **changes: t.Any) -> dict[str, t.Any]:
    """One entry of preflight's result: the endpoint's own answer unless ``changes`` say otherwise."""
    entry = {'service': service, 'url': f'https://{service}.{region}.{domain}/', 'reachable': True, 'outcome': 'reachable',
             'answered_by': 'endpoint', 'status': 404, 'reason': 'Not Found', 'proxy_auth': [], 'credentials_sent': False,
             'error': None}
    entry.update(changes)
    return entry


UNREACHABLE = {'reachable': False, 'outcome': 'unreachable', 'answered_by': None, 'status': None, 'reason': None,
               'error': f'ConnectFailure: {CONNECT_FAILURE}'}


def _endpoints(region: str, reachable: bool, services: t.Sequence[str] = ('ssm', 'ec2messages', 'ssmmessages'),
               domain: str = 'amazonaws.com') -> list[dict[str, t.Any]]:
    return [_endpoint(service, region, domain, **({} if reachable else UNREACHABLE)) for service in services]


SHUTDOWN_MESSAGES = ('[amazon-ssm-agent] Stopping Core Agent', '[amazon-ssm-agent] Bye.')


def _log_blocks(text: str) -> list[list[str]]:
    """The agent log's startup blocks, each a list of messages (timestamps and levels cut off)."""
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        message = line.split(' ', 3)[3]
        if message in SHUTDOWN_MESSAGES:  # what a stopping agent logs between two starts
            continue
        blocks[-1].append(message)
        if line.endswith('Starting Core Agent'):
            blocks.append([])
    return blocks[:-1]


def _variables(block: list[str]) -> dict[str, str]:
    start = block.index('Proxy environment variables:') + 1
    return dict(line.split(': ', 1) for line in block[start:start + 3])


# --- preflight ------------------------------------------------------------------------------------------------

def test_preflight_region_from_parameter_and_from_imds(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    run = sim_twins.TWINS['preflight']
    changed, result = run(_state(sim_host, STATE), {'Proxy': 'http://proxy.corp:3128', 'Region': 'us-east-2'}, False)
    assert changed is False
    assert result == {'region': 'us-east-2', 'region_source': 'parameter', 'endpoints': _endpoints('us-east-2', True)}
    changed, result = run(_state(sim_host, STATE), {'Proxy': 'http://proxy.corp:3128'}, True)
    assert changed is False
    assert result == {'region': 'eu-west-1', 'region_source': 'imds', 'endpoints': _endpoints('eu-west-1', True)}
    _changed, result = run(_state(sim_host, STATE), {'Proxy': 'http://proxy.corp:3128', 'Region': 'cn-north-1', 'Services': 'ssm'}, False)
    assert result['endpoints'] == _endpoints('cn-north-1', True, ['ssm'], 'amazonaws.com.cn')


@pytest.mark.parametrize('imds, message', [
    (None, IMDS_FAILED),
    ({}, "Cannot determine the AWS region: instance metadata (IMDSv2, http://169.254.169.254) returned no region. "
         "Set ssm_proxy_region to the host's region."),
])
def test_preflight_without_region_or_imds_fails(sim_twins: types.ModuleType, sim_host: types.ModuleType, imds: t.Any,
                                                message: str) -> None:
    with pytest.raises(sim_twins.ScriptError) as caught:
        sim_twins.TWINS['preflight'](_state(sim_host, STATE, imds=imds), {'Proxy': 'http://proxy.corp:3128'}, False)
    assert caught.value.message == message
    assert caught.value.changed is False and caught.value.result == {}


def test_preflight_network(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    run = sim_twins.TWINS['preflight']
    state = _state(sim_host, STATE)
    # host:port compared case-insensitively; the default port of http:// is 80.
    assert run(state, {'Proxy': 'http://DEAD.corp:3128/'}, False)[1]['endpoints'] == _endpoints('eu-west-1', False)
    assert run(state, {'Proxy': 'http://dead.corp'}, False)[1]['endpoints'] == _endpoints('eu-west-1', True)
    assert run(_state(sim_host, STATE, network={'unreachable_proxies': ['dead.corp:80']}), {'Proxy': 'http://dead.corp'},
               False)[1]['endpoints'] == _endpoints('eu-west-1', False)
    # Direct: blocked here, open on a host with internet access (no network section at all).
    assert run(state, {'Proxy': ''}, False)[1]['endpoints'] == _endpoints('eu-west-1', False)
    assert run(_state(sim_host, STATE, network=None), {}, False)[1]['endpoints'] == _endpoints('eu-west-1', True)


def test_preflight_takes_a_credential_and_never_returns_it(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    state = _state(sim_host, STATE)
    credential = sim_twins.PSCredential('proxyuser', 'S3cret!')
    _changed, result = sim_twins.TWINS['preflight'](state, {'Proxy': 'http://proxy.corp:3128', 'ProxyCredential': credential}, False)
    assert result['endpoints'] == _endpoints('eu-west-1', True)
    assert 'S3cret!' not in json.dumps([result, state.data]) and 'proxyuser' not in json.dumps([result, state.data])
    # A [PSCredential] parameter takes no plain value (no [Credential()] attribute: no prompt).
    with pytest.raises(sim_twins.ScriptError, match='Cannot convert the "System.Security.SecureString" value of type '
                                                    '"System.Security.SecureString" to type "System.Management.Automation.PSCredential"'):
        sim_twins.TWINS['preflight'](state, {'ProxyCredential': sim_twins.SecureString('S3cret!')}, False)


@pytest.mark.parametrize('parameters, message', [
    ({'Proxy': 'http://user:Hunter2@proxy.corp:3128'}, 'Proxy must be an http://host:port URL without credentials'),
    ({'Proxy': 'proxy.corp:3128'}, 'Proxy must be an http://host:port URL'),
    ({'Proxy': 'https://proxy.corp:3128'}, 'Proxy must be an http://host:port URL'),
    ({'Proxy': 'http://proxy.corp:port'}, 'Proxy must be an http://host:port URL'),
    ({'Region': 'eu west 1'}, "Region 'eu west 1' is not an AWS region name such as eu-west-1."),
    ({'Services': ['ssm', 'ssm.messages']}, "Service 'ssm.messages' is not an endpoint name such as ssm."),
    ({'TimeoutSeconds': 0}, 'TimeoutSeconds must be at least 1 (got 0).'),
    ({'TimeoutSeconds': 3601}, 'TimeoutSeconds must be at most 3600 (got 3601).'),
])
def test_preflight_rejects_bad_parameters(sim_twins: types.ModuleType, sim_host: types.ModuleType, parameters: dict[str, t.Any],
                                          message: str) -> None:
    with pytest.raises(sim_twins.ScriptError) as caught:
        sim_twins.TWINS['preflight'](_state(sim_host, STATE), parameters, False)
    assert caught.value.message.startswith(message)
    assert 'Hunter2' not in caught.value.message and caught.value.changed is False


def test_preflight_fault_and_malformed_state(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    with pytest.raises(sim_twins.ScriptError) as caught:
        sim_twins.TWINS['preflight'](_state(sim_host, STATE, faults={'preflight': 'Access is denied.'}), {}, False)
    assert caught.value.message == 'Access is denied.' and caught.value.changed is False
    for network in ({'unreachable_proxies': 'dead.corp:3128'}, {'direct_blocked': 'yes'}, ['x']):
        with pytest.raises(sim_twins.MalformedState, match='network'):
            sim_twins.TWINS['preflight'](_state(sim_host, STATE, network=network), {}, False)
    with pytest.raises(sim_twins.MalformedState, match='imds'):
        sim_twins.TWINS['preflight'](_state(sim_host, STATE, imds='eu-west-1'), {}, False)


PROXY = 'http://proxy.corp:3128'
CREDENTIAL = {'ProxyCredential': ('proxyuser', 'S3cret!')}
REFUSED = 'the proxy refused CONNECT to {service}.eu-west-1.amazonaws.com:443 with '


def _refused(service: str, status: int, reason: str, **changes: t.Any) -> dict[str, t.Any]:
    return _endpoint(service, 'eu-west-1', reachable=False, outcome='connect_refused', answered_by='proxy', status=status,
                     reason=reason, error=REFUSED.format(service=service) + f'{status} {reason}', **changes)


def _auth_required(service: str, schemes: list[str], sent: bool, detail: str) -> dict[str, t.Any]:
    return _endpoint(service, 'eu-west-1', reachable=False, outcome='proxy_auth_required', answered_by='proxy', status=407,
                     reason='Proxy Authentication Required', proxy_auth=schemes, credentials_sent=sent,
                     error=REFUSED.format(service=service) + f'407 Proxy Authentication Required: {detail}')


SERVICES = ('ssm', 'ec2messages', 'ssmmessages', 's3')
NEGOTIATE_ONLY = 'it offers only Negotiate, NTLM and the SSM Agent can authenticate to a proxy only with Basic (no credentials were sent)'
TRUST = ("the certificate presented for {service}.eu-west-1.amazonaws.com:443 is not trusted by this host (TrustFailure): a "
         "TLS-intercepting proxy, or a root CA missing from the host's store; the SSM Agent fails the same way")


@pytest.mark.parametrize('proxy, credential, expected', [
    pytest.param({'connect_status': status}, False, [_refused(service, status, reason) for service in SERVICES], id=f'connect-{status}')
    for status, reason in ((403, 'Forbidden'), (502, 'Bad Gateway'), (503, 'Service Unavailable'), (504, 'Gateway Timeout'))
] + [
    pytest.param({'connect_status': 200}, False, [_endpoint(service, 'eu-west-1') for service in SERVICES], id='connect-200'),
    pytest.param({'deny': ['s3.*', 'SSMMESSAGES.*.amazonaws.com']}, False,
                 [_endpoint('ssm', 'eu-west-1'), _endpoint('ec2messages', 'eu-west-1'), _refused('ssmmessages', 403, 'Forbidden'),
                  _refused('s3', 403, 'Forbidden')], id='deny'),
    pytest.param({'auth': 'basic'}, False,
                 [_auth_required(service, ['Basic'], False, 'it asks for Basic credentials and none were sent') for service in SERVICES],
                 id='basic-without-credentials'),
    pytest.param({'auth': 'basic'}, True, [_endpoint(service, 'eu-west-1') for service in SERVICES], id='basic-with-credentials'),
    pytest.param({'auth': 'negotiate'}, True,
                 [_auth_required(service, ['Negotiate', 'NTLM'], False, NEGOTIATE_ONLY) for service in SERVICES], id='negotiate-only'),
    pytest.param({'auth': 'negotiate'}, False,
                 [_auth_required(service, ['Negotiate', 'NTLM'], False, NEGOTIATE_ONLY) for service in SERVICES],
                 id='negotiate-only-without-credentials'),
    pytest.param({'intercept_tls': True}, False,
                 [_endpoint(service, 'eu-west-1', reachable=False, outcome='tls_untrusted', answered_by=None, status=None, reason=None,
                            error=TRUST.format(service=service)) for service in SERVICES], id='tls-interception'),
    pytest.param({'timeout': True, 'auth': 'basic'}, True,
                 [_endpoint(service, 'eu-west-1', reachable=False, outcome='timeout', answered_by=None, status=None, reason=None,
                            error='no answer within 7 s (Timeout)') for service in SERVICES], id='timeout'),
    # Authentication comes first, then the allow-list, then the upstream status.
    pytest.param({'auth': 'basic', 'deny': ['ssm.*'], 'connect_status': 502}, True,
                 [_refused('ssm', 403, 'Forbidden')] + [_refused(service, 502, 'Bad Gateway') for service in SERVICES[1:]], id='order'),
])
def test_preflight_proxy_behaviours(sim_twins: types.ModuleType, sim_host: types.ModuleType, proxy: dict[str, t.Any],
                                    credential: bool, expected: list[dict[str, t.Any]]) -> None:
    """Each behaviour of network.proxies, as preflight.ps1 reports it: only the endpoint's own answer counts."""
    state = _state(sim_host, STATE, network={'proxies': {'PROXY.corp:3128': proxy}, 'direct_blocked': True})
    parameters: dict[str, t.Any] = {'Proxy': PROXY, 'Region': 'eu-west-1', 'Services': list(SERVICES), 'TimeoutSeconds': 7}
    if credential:
        parameters['ProxyCredential'] = sim_twins.PSCredential('proxyuser', 'S3cret!')
    changed, result = sim_twins.TWINS['preflight'](state, parameters, False)
    assert changed is False and result['endpoints'] == expected
    assert 'S3cret!' not in json.dumps(result)
    # Another proxy of the same host is not affected; neither is the direct path by a proxy's model.
    other = sim_twins.TWINS['preflight'](state, dict(parameters, Proxy='http://other.corp:3128'), False)[1]['endpoints']
    assert all(entry['reachable'] for entry in other)


@pytest.mark.parametrize('proxy, message', [
    ({'connect_status': 302}, 'connect_status: expected 200 or an error status'),
    ({'connect_status': True}, 'connect_status'),
    ({'auth': 'ntlm'}, 'auth: expected one of none, basic, negotiate'),
    ({'deny': '*.amazonaws.com'}, 'deny: expected a list of host globs'),
    ({'intercept_tls': 'yes'}, 'intercept_tls: expected true or false'),
    ({'intercept': True}, 'unknown field'),
])
def test_preflight_malformed_proxy_model(sim_twins: types.ModuleType, sim_host: types.ModuleType, proxy: dict[str, t.Any],
                                         message: str) -> None:
    with pytest.raises(sim_twins.MalformedState, match=re.escape(message)):
        sim_twins.TWINS['preflight'](_state(sim_host, STATE, network={'proxies': {'proxy.corp:3128': proxy}}), {'Proxy': PROXY}, False)


# --- the script and its twin, side by side -----------------------------------------------------------------

PREFLIGHT_PS1 = ROOT / 'plugins' / 'plugin_utils' / 'powershell' / 'preflight.ps1'


def _script_entry_keys(script: str) -> list[str]:
    """The keys of Get-ProbeResult's ``$entry = [Ordered]@{...}``, in order."""
    block = re.search(r'\$entry = \[Ordered\]@\{(.*?)\n    \}', script, re.DOTALL)
    assert block, 'preflight.ps1 no longer builds $entry as an [Ordered] hashtable'
    return re.findall(r'(\w+) = ', block.group(1))


def test_twin_and_script_have_the_same_parameters_and_result_shape(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    """Same param block (names, types, defaults), same keys in the same order, same outcome names, same words."""
    script = PREFLIGHT_PS1.read_text(encoding='utf-8')
    param_block = re.search(r'param \((.*?)\n\)', script, re.DOTALL).group(1)
    declared = {name: kind.lower() for kind, name in re.findall(r'\[(\w+(?:\[\])?)\]\$(\w+)', param_block)}
    twin = sim_twins.TWINS['preflight']
    assert declared == {name: kind for name, (kind, _default) in twin.parameters.items()}
    assert "@('ssm', 'ec2messages', 'ssmmessages')" in param_block and twin.parameters['Services'][1] == ['ssm', 'ec2messages', 'ssmmessages']
    assert '[int]$TimeoutSeconds = 10' in param_block and twin.parameters['TimeoutSeconds'][1] == 10
    assert re.search(r'\$Ansible\.Result = @\{\s*region = \$Region\s*region_source = \$regionSource\s*endpoints = \$endpoints\s*\}', script)

    outcomes = set(re.findall(r"outcome = '(\w+)'", script)) | set(re.findall(r"\$entry\.outcome = '(\w+)'", script))
    seen: dict[str, dict[str, t.Any]] = {}
    for model in ({}, {'connect_status': 503}, {'auth': 'basic'}, {'auth': 'negotiate'}, {'intercept_tls': True}, {'timeout': True}):
        for credential in (None, sim_twins.PSCredential('u', 'p')):
            state = _state(sim_host, STATE, network={'proxies': {'proxy.corp:3128': model}, 'unreachable_proxies': ['dead.corp:3128']})
            for proxy in (PROXY, 'http://dead.corp:3128'):
                for entry in sim_twins.TWINS['preflight'](state, {'Proxy': proxy, 'Region': 'eu-west-1', 'ProxyCredential': credential,
                                                                  'Services': 'ssm', 'TimeoutSeconds': 3}, False)[1]['endpoints']:
                    assert list(entry) == _script_entry_keys(script)
                    seen[entry['error'] or ''] = entry
    # The twin reaches every outcome the script names but the one the sim cannot produce (a failed handshake).
    assert {entry['outcome'] for entry in seen.values()} == outcomes - {'tls_failed'}
    assert len(seen) == 7  # reachable, refused, timeout, untrusted, no connection, Basic asked for, only Negotiate/NTLM
    # Every word of the twin's messages is in the script, around the values it inserts.
    values = ['ssm.eu-west-1.amazonaws.com:443', '503 Service Unavailable', '407 Proxy Authentication Required', 'Negotiate, NTLM',
              '3', 'ConnectFailure', CONNECT_FAILURE]
    for entry in seen.values():
        if entry['error'] is None:
            continue
        text = entry['error']
        for value in values:
            text = text.replace(value, '\0')
        for fragment in filter(None, (piece.strip(' :') for piece in text.split('\0'))):
            assert fragment in script, f'{entry["outcome"]}: {fragment!r} is not what preflight.ps1 says'


# --- the simulated agent on the same network --------------------------------------------------------------------

def _start(sim_services: types.ModuleType, sim_host: types.ModuleType, environment: list[str], network: dict[str, t.Any]) -> t.Any:
    state = _state(sim_host, STATE, network=network,
                   registry={SERVICE_KEY: {'Environment': {'type': 'REG_MULTI_SZ', 'value': environment}}})
    sim_services.restart_service(state, 'AmazonSSMAgent')
    return state


@pytest.mark.parametrize('model, proxy, go_error', [
    ({'connect_status': 403}, 'http://proxy.corp:3128', 'Forbidden'),
    ({'deny': ['ssm.*']}, 'http://proxy.corp:3128', 'Forbidden'),
    ({'auth': 'negotiate'}, 'http://svc:p%40ss@proxy.corp:3128', 'Proxy Authentication Required'),
    ({'auth': 'basic'}, 'http://proxy.corp:3128', 'Proxy Authentication Required'),
    ({'intercept_tls': True}, 'http://proxy.corp:3128', 'tls: failed to verify certificate: x509: certificate signed by unknown authority'),
])
def test_agent_refused_by_its_proxy_runs_but_cannot_register(sim_services: types.ModuleType, sim_host: types.ModuleType,
                                                             model: dict[str, t.Any], proxy: str, go_error: str) -> None:
    """The same network model: the agent starts, logs its startup block, then logs why it cannot reach Systems Manager."""
    state = _start(sim_services, sim_host, [f'https_proxy={proxy}', 'no_proxy=169.254.169.254'],
                   {'proxies': {'proxy.corp:3128': model}, 'direct_blocked': True})
    assert state.data['services']['AmazonSSMAgent']['state'] == 'running'
    assert state.data['agent']['running']['https_proxy'] == proxy and state.data['agent']['registered'] is False
    log = state.data['files'][LOG]
    assert len(_log_blocks(log)) == 1
    errors = [line for line in log.splitlines() if ' ERROR ' in line]
    assert errors and errors[0].endswith(f'Post "https://ssm.eu-west-1.amazonaws.com/": {go_error}')
    assert log.index('Starting Core Agent') < log.index(errors[0])


@pytest.mark.parametrize('environment, network, registered', [
    (['https_proxy=http://svc:pw@proxy.corp:3128'], {'proxies': {'proxy.corp:3128': {'auth': 'basic'}}, 'direct_blocked': True}, True),
    (['https_proxy=proxy.corp:3128'], {'proxies': {'proxy.corp:3128': {}}, 'direct_blocked': True}, True),  # no scheme: http://
    # no_proxy sends the endpoints direct: blocked here, open there.
    (['https_proxy=http://proxy.corp:3128', 'no_proxy=amazonaws.com'], {'direct_blocked': True}, False),
    (['https_proxy=http://proxy.corp:3128', 'no_proxy=.amazonaws.com'], {'proxies': {'proxy.corp:3128': {'connect_status': 403}}}, True),
    ([], {'direct_blocked': True}, False),
    ([], {}, True),
])
def test_agent_registration_follows_its_proxy(sim_services: types.ModuleType, sim_host: types.ModuleType, environment: list[str],
                                              network: dict[str, t.Any], registered: bool) -> None:
    state = _start(sim_services, sim_host, environment, network)
    assert state.data['agent']['registered'] is registered
    assert (' ERROR ' in state.data['files'][LOG]) is not registered


def test_agent_without_a_region_is_not_judged(sim_services: types.ModuleType, sim_host: types.ModuleType) -> None:
    state = _state(sim_host, STATE, imds=None)
    sim_services.restart_service(state, 'AmazonSSMAgent')
    assert state.data['agent']['registered'] is None and ' ERROR ' not in state.data['files'][LOG]


# --- restart_agent --------------------------------------------------------------------------------------------

def test_restart_agent_once_per_request(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    run = sim_twins.TWINS['restart_agent']
    state = _state(sim_host, STATE)
    assert run(state, {'RequestId': 'r1'}, False) == (True, {'request_id': 'r1', 'scheduled': True})
    assert state.registry.get_value(RESTART_KEY, 'RestartRequestId') == ('RestartRequestId', {'type': 'REG_SZ', 'value': 'r1'})
    assert state.data['services']['AmazonSSMAgent']['state'] == 'running'
    assert state.data['agent']['running'] == PROXIED
    assert len(_log_blocks(state.data['files'][LOG])) == 1
    # The connection plugin re-runs the same command: nothing happens.
    assert run(state, {'RequestId': 'r1', 'DelaySeconds': 0}, False) == (False, {'request_id': 'r1', 'scheduled': False})
    assert len(_log_blocks(state.data['files'][LOG])) == 1
    # Request ids compare case-sensitively (-ceq).
    assert run(state, {'RequestId': 'R1'}, False) == (True, {'request_id': 'R1', 'scheduled': True})
    assert len(_log_blocks(state.data['files'][LOG])) == 2


@pytest.mark.parametrize('changes, parameters, message', [
    ({}, {}, "RequestId must be 1 to 128 characters of A-Z a-z 0-9 . _ : / + - unique to this restart request (got '')."),
    ({}, {'RequestId': "r1'; Stop-Computer; '"},
     "RequestId must be 1 to 128 characters of A-Z a-z 0-9 . _ : / + - unique to this restart request (got 'r1'; Stop-Computer; '')."),
    ({}, {'RequestId': 'r1', 'DelaySeconds': -1}, 'DelaySeconds must not be negative (got -1).'),
    ({'services': {}}, {'RequestId': 'r1'}, "Cannot find any service with service name 'AmazonSSMAgent'."),
    ({'faults': {'restart_agent': 'Access is denied.'}}, {'RequestId': 'r1'}, 'Access is denied.'),
])
def test_restart_agent_failures_change_nothing(sim_twins: types.ModuleType, sim_host: types.ModuleType, changes: dict[str, t.Any],
                                               parameters: dict[str, t.Any], message: str) -> None:
    state = _state(sim_host, STATE, **changes)
    with pytest.raises(sim_twins.ScriptError) as caught:
        sim_twins.TWINS['restart_agent'](state, parameters, False)
    assert caught.value.message == message
    # The script sets $Ansible.Changed = $false first and true only once the restart is scheduled.
    assert caught.value.changed is False and caught.value.result == {}
    assert not state.registry.key_exists(RESTART_KEY) and state.data['files'][LOG] == ''


def _outcome(state: t.Any) -> dict[str, t.Any]:
    return json.loads(state.registry.get_value(RESTART_KEY, 'RestartOutcome')[1]['value'])


def test_restart_agent_retries_a_failed_start_and_records_the_outcome(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    """The detached process starts the service again after a failed restart (three attempts in all)."""
    state = _state(sim_host, STATE, faults={'agent_start': 'fails', 'agent_start_faults_remaining': 2})
    assert sim_twins.TWINS['restart_agent'](state, {'RequestId': 'r1'}, False) == (True, {'request_id': 'r1', 'scheduled': True})
    assert state.data['services']['AmazonSSMAgent']['state'] == 'running' and state.data['agent']['running'] == PROXIED
    assert state.data['faults']['agent_start_faults_remaining'] == 0
    assert _outcome(state)['outcome'] == 'running' and _outcome(state)['request_id'] == 'r1'


def test_restart_agent_with_a_failing_agent(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    """Every attempt fails: the agent is left stopped, and RestartOutcome says so for the next read."""
    state = _state(sim_host, STATE, faults={'agent_start': 'fails', 'agent_start_faults_remaining': 3})
    assert sim_twins.TWINS['restart_agent'](state, {'RequestId': 'r1'}, False) == (True, {'request_id': 'r1', 'scheduled': True})
    assert state.data['services']['AmazonSSMAgent']['state'] == 'stopped'
    assert state.data['agent']['running'] is None and state.data['files'][LOG] == ''
    assert state.data['faults']['agent_start_faults_remaining'] == 0
    outcome = _outcome(state)
    assert outcome['outcome'] == 'failed' and 'Failed to start service' in outcome['message']
    sim_twins.TWINS['restart_agent'](state, {'RequestId': 'r2'}, False)
    assert state.data['services']['AmazonSSMAgent']['state'] == 'running' and state.data['agent']['running'] == PROXIED
    assert _outcome(state)['outcome'] == 'running'


def test_restart_agent_without_settings(sim_twins: types.ModuleType, sim_host: types.ModuleType) -> None:
    state = _state(sim_host, STATE, faults={'agent_start': 'without_settings'})
    sim_twins.TWINS['restart_agent'](state, {'RequestId': 'r1'}, False)
    assert state.data['agent']['running'] == EMPTY
    [block] = _log_blocks(state.data['files'][LOG])
    assert _variables(block) == EMPTY


# --- agent-start faults ---------------------------------------------------------------------------------------

@pytest.mark.parametrize('faults, expected', [
    ({}, [None, None]),
    ({'agent_start': 'fails'}, ['fails', 'fails', 'fails']),
    ({'agent_start': 'fails', 'agent_start_faults_remaining': 2}, ['fails', 'fails', None]),
    ({'agent_start': 'without_settings', 'agent_start_faults_remaining': 0}, [None]),
    ({'read_state': 'Access is denied.'}, [None]),
])
def test_agent_start_faults_count_down(sim_services: types.ModuleType, sim_host: types.ModuleType, faults: dict[str, t.Any],
                                       expected: list[t.Optional[str]]) -> None:
    state = _state(sim_host, STATE, faults=faults)
    assert [sim_services.take_agent_start_fault(state) for _start in expected] == expected


@pytest.mark.parametrize('faults', [{'agent_start': 'crash'}, {'agent_start': 'fails', 'agent_start_faults_remaining': -1},
                                    {'agent_start': 'fails', 'agent_start_faults_remaining': '1'}])
def test_malformed_agent_start_faults(sim_services: types.ModuleType, sim_host: types.ModuleType, faults: dict[str, t.Any]) -> None:
    with pytest.raises(sim_services.StateFormatError, match='faults.agent_start'):
        sim_services.take_agent_start_fault(_state(sim_host, STATE, faults=faults))


def test_failed_start_raises_like_start_service(sim_services: types.ModuleType, sim_host: types.ModuleType) -> None:
    state = _state(sim_host, STATE, faults={'agent_start': 'fails'})
    with pytest.raises(sim_services.ServiceError, match=r"^Failed to start service 'Amazon SSM Agent \(AmazonSSMAgent\)'\.$"):
        sim_services.restart_service(state, 'AmazonSSMAgent')
    assert state.data['services']['AmazonSSMAgent']['state'] == 'stopped' and state.data['agent']['running'] is None
    # A disabled service fails before the fault counts.
    state = _state(sim_host, STATE, faults={'agent_start': 'fails', 'agent_start_faults_remaining': 1},
                   services={'AmazonSSMAgent': {'state': 'stopped', 'start_mode': 'disabled'}})
    with pytest.raises(sim_services.ServiceError, match='cannot be started'):
        sim_services.start_service(state, 'AmazonSSMAgent')
    assert state.data['faults']['agent_start_faults_remaining'] == 1


# --- Through the runner ---------------------------------------------------------------------------------------

@dataclasses.dataclass
class Run:
    results: dict[str, dict[str, t.Any]]
    states: dict[str, dict[str, t.Any]]


HOSTS: dict[str, dict[str, t.Any]] = {
    'proxied': STATE,
    'no_imds': dict(STATE, imds=None),
    'fails_once': dict(STATE, faults={'agent_start': 'fails', 'agent_start_faults_remaining': 1}),
    'always_fails': dict(STATE, faults={'agent_start': 'fails'}),
    'without_settings': dict(STATE, faults={'agent_start': 'without_settings'}),
}


@pytest.fixture(scope='module')
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Run scenarios/agent_scripts.yml once against five hosts."""
    work = tmp_path_factory.mktemp('agent_scripts')
    inventory: dict[str, t.Any] = {'all': {'children': {}}}
    for host, state in HOSTS.items():
        document = {key: value for key, value in state.items() if value is not None}
        (work / f'{host}.json').write_text(json.dumps(document, indent=1), encoding='utf-8')
        inventory['all']['children'][host] = {'hosts': {f'{host}-host': {'sim_state': str(work / f'{host}.json')}}}
    (work / 'inventory.json').write_text(json.dumps(inventory), encoding='utf-8')
    (work / 'results').mkdir()
    process = subprocess.run(
        [str(RUNNER), '-i', str(work / 'inventory.json'), str(SIM_DIR / 'scenarios' / 'agent_scripts.yml'),
         '-e', json.dumps({'results_dir': str(work / 'results'), 'collection_root': str(ROOT)})],
        cwd=work, env=dict(os.environ, ANSIBLE_NOCOLOR='1', SIM_SEED='7'), capture_output=True, text=True, timeout=300,
        check=False,
    )
    assert process.returncode == 0, process.stdout + process.stderr
    return Run(
        results={host: json.loads((work / 'results' / f'{host}-host.json').read_text(encoding='utf-8')) for host in HOSTS},
        states={host: json.loads((work / f'{host}.json').read_text(encoding='utf-8')) for host in HOSTS},
    )


@pytest.mark.integration
def test_preflight_through_the_runner(run: Run) -> None:
    results = run.results['proxied']
    through_proxy = results['through_proxy']
    assert through_proxy['changed'] is False and not through_proxy.get('failed')
    assert through_proxy['result'] == {'region': 'eu-west-1', 'region_source': 'imds', 'endpoints': _endpoints('eu-west-1', True)}
    dead = results['dead_proxy_check']
    assert dead['changed'] is False and 'msg' not in dead  # ran in check mode
    assert dead['result'] == {'region': 'eu-central-1', 'region_source': 'parameter', 'endpoints': _endpoints('eu-central-1', False, ['ssm'])}
    assert results['direct']['result']['endpoints'] == _endpoints('eu-west-1', False)
    refused = results['proxy_with_userinfo']
    assert refused['failed'] is True and refused['changed'] is False
    assert refused['error'][0]['exception']['message'].startswith('Proxy must be an http://host:port URL without credentials')
    no_region = run.results['no_imds']['no_region']
    assert no_region['failed'] is True and no_region['error'][0]['exception']['message'] == IMDS_FAILED


@pytest.mark.integration
def test_preflight_records_no_secret(run: Run) -> None:
    calls = run.states['proxied']['calls']
    assert calls[0]['args']['script'].startswith('<script: preflight sha256:')
    assert calls[0]['args']['sensitive_parameters'] == [{'name': 'ProxyCredential', 'username': 'proxyuser', 'password': '********'}]
    assert 'S3cret!' not in json.dumps(run.states['proxied']) and 'S3cret!' not in json.dumps(run.results['proxied'])


@pytest.mark.integration
def test_restart_agent_through_the_runner(run: Run) -> None:
    results = run.results['proxied']
    assert results['restart']['changed'] is True and results['restart']['result'] == {'request_id': 'r1', 'scheduled': True}
    assert results['restart_again']['changed'] is False
    assert results['restart_again']['result'] == {'request_id': 'r1', 'scheduled': False}
    skipped = results['restart_other_check']
    assert skipped['changed'] is True and skipped['msg'] == 'skipped, running in check mode'
    assert results['restart_other']['result'] == {'request_id': 'r2', 'scheduled': True}
    state = run.states['proxied']
    assert state['registry'][RESTART_KEY]['RestartRequestId'] == {'type': 'REG_SZ', 'value': 'r2'}
    assert json.loads(state['registry'][RESTART_KEY]['RestartOutcome']['value'])['outcome'] == 'running'
    blocks = _log_blocks(state['files'][LOG])
    assert len(blocks) == 2 and all(_variables(block) == PROXIED for block in blocks)
    assert state['agent']['running'] == PROXIED and state['services']['AmazonSSMAgent']['state'] == 'running'
    assert [call.get('check_mode', False) for call in state['calls'][4:]] == [False, False, True, False]


@pytest.mark.integration
def test_win_service_start_faults(run: Run) -> None:
    failed = run.results['fails_once']['failed_restart']
    assert failed['failed'] is True and failed['changed'] is False
    assert failed['msg'] == "Unhandled exception while executing module: Failed to start service 'Amazon SSM Agent (AmazonSSMAgent)'."
    assert run.results['fails_once']['second_restart']['changed'] is True
    state = run.states['fails_once']
    assert state['faults']['agent_start_faults_remaining'] == 0
    assert len(_log_blocks(state['files'][LOG])) == 1 and state['agent']['running'] == PROXIED
    assert state['services']['AmazonSSMAgent']['state'] == 'running'

    always = run.results['always_fails']
    assert always['detached']['changed'] is True and always['detached']['result'] == {'request_id': 'r1', 'scheduled': True}
    assert always['start']['failed'] is True and 'Failed to start service' in always['start']['msg']
    state = run.states['always_fails']
    assert state['services']['AmazonSSMAgent']['state'] == 'stopped' and state['agent']['running'] is None
    assert state['files'][LOG] == ''

    state = run.states['without_settings']
    assert run.results['without_settings']['restart']['changed'] is True
    assert state['agent']['running'] == EMPTY and [_variables(block) for block in _log_blocks(state['files'][LOG])] == [EMPTY]


# --- the agent's timing -----------------------------------------------------------------------------------------

def test_a_stopping_agent_logs_shutdown_lines_and_no_startup_block(sim_services: types.ModuleType, sim_host: types.ModuleType) -> None:
    """core/app/agent.go Stop: "Stopping Core Agent", "Bye." - the log grows although nothing started."""
    state = _state(sim_host, STATE)
    sim_services.start_service(state, 'AmazonSSMAgent')
    started = state.data['files'][LOG]
    sim_services.stop_service(state, 'AmazonSSMAgent')
    grown = state.data['files'][LOG]
    assert grown.startswith(started) and len(grown) > len(started)
    assert [line.split(' ', 3)[3] for line in grown[len(started):].splitlines()] == list(SHUTDOWN_MESSAGES)
    assert len(_log_blocks(grown)) == 1


def test_start_delay_holds_the_startup_block_back(sim_services: types.ModuleType, sim_host: types.ModuleType) -> None:
    """agent.start_delay_executions: the service runs at once, the block reaches the log N executions later."""
    state = _state(sim_host, STATE, agent={'version': '3.3.987.0', 'start_delay_executions': 2})
    sim_services.start_service(state, 'AmazonSSMAgent')
    assert state.data['services']['AmazonSSMAgent']['state'] == 'running' and state.data['agent']['running'] == PROXIED
    assert state.data['files'][LOG] == ''
    sim_services.deliver_delayed_startup(state)  # the first execution after the start
    assert state.data['files'][LOG] == ''
    sim_services.deliver_delayed_startup(state)  # the second one sees the block
    assert len(_log_blocks(state.data['files'][LOG])) == 1 and 'pending_startup' not in state.data['agent']
    with pytest.raises(sim_services.StateFormatError, match='start_delay_executions'):
        sim_services.start_service(_state(sim_host, STATE, agent={'start_delay_executions': -1}), 'AmazonSSMAgent')
