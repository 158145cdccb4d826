# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The simulated host's per-execution latency (``latency.seconds`` in the state, ``SIM_LATENCY_SECONDS``).

The setting is read in-process; the timing is checked on real module processes (the win_reg_stat stand-in run
directly, as Ansible runs it with pipelining: arguments on stdin, ``SIM_STATE`` in the environment).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time
import types
import typing as t

import pytest

SIM_DIR = pathlib.Path(__file__).resolve().parent
ROOT = SIM_DIR.parents[1]
WIN_REG_STAT = SIM_DIR / 'collections' / 'ansible_collections' / 'ansible' / 'windows' / 'plugins' / 'modules' / 'win_reg_stat.py'
KEY = 'HKLM:\\SOFTWARE\\Sim'
IMPORTED = time.monotonic()


@pytest.mark.parametrize(('data', 'environ', 'expected'), [
    ({}, {}, 0.0),
    ({}, {'SIM_LATENCY_SECONDS': ''}, 0.0),
    ({}, {'SIM_LATENCY_SECONDS': '4'}, 4.0),
    ({'latency': {'seconds': 0.25}}, {}, 0.25),
    # The host's own setting wins over the fleet-wide one, 0 included.
    ({'latency': {'seconds': 1}}, {'SIM_LATENCY_SECONDS': '4'}, 1.0),
    ({'latency': {'seconds': 0}}, {'SIM_LATENCY_SECONDS': '4'}, 0.0),
])
def test_latency_setting(sim_host: types.ModuleType, data: dict[str, t.Any], environ: dict[str, str],
                         expected: float) -> None:
    assert sim_host.execution_latency(data, environ) == expected


@pytest.mark.parametrize(('data', 'environ', 'named'), [
    ({'latency': {'seconds': -1}}, {}, 'latency.seconds'),
    ({'latency': {'seconds': True}}, {}, 'latency.seconds'),
    ({'latency': {'seconds': '1'}}, {}, 'latency.seconds'),
    ({'latency': 1.0}, {}, 'latency.seconds'),
    ({'latency': {}}, {}, 'latency.seconds'),
    ({}, {'SIM_LATENCY_SECONDS': 'fast'}, 'SIM_LATENCY_SECONDS'),
    ({}, {'SIM_LATENCY_SECONDS': '-0.5'}, 'SIM_LATENCY_SECONDS'),
    ({}, {'SIM_LATENCY_SECONDS': 'nan'}, 'SIM_LATENCY_SECONDS'),
])
def test_bad_latency_names_the_setting(sim_host: types.ModuleType, data: dict[str, t.Any], environ: dict[str, str],
                                       named: str) -> None:
    with pytest.raises(ValueError, match=named.replace('.', r'\.')):
        sim_host.execution_latency(data, environ)


def test_latency_counts_from_the_process_start(sim_host: types.ModuleType) -> None:
    """This process started before this test file was imported (the fallback would answer 0)."""
    assert time.monotonic() - IMPORTED <= sim_host.process_age() < 24 * 3600


def execute(tmp_path: pathlib.Path, state: dict[str, t.Any],
            latency_env: str | None) -> tuple[float, dict[str, t.Any], dict[str, t.Any]]:
    """One win_reg_stat execution in its own process: its wall time, its result and the state it left."""
    path = tmp_path / 'host.json'
    path.write_text(json.dumps(dict(state, calls=[])), encoding='utf-8')
    env = {key: value for key, value in os.environ.items() if key != 'SIM_LATENCY_SECONDS'}
    env.update(SIM_STATE=str(path), SIM_UPSTREAM_COLLECTIONS=str(ROOT / '.cache' / 'collections'),
               PYTHONPATH=str(SIM_DIR / 'collections'))
    if latency_env is not None:
        env['SIM_LATENCY_SECONDS'] = latency_env
    args = json.dumps({'ANSIBLE_MODULE_ARGS': {'path': KEY, 'name': 'Value'}})
    started = time.monotonic()
    process = subprocess.run([sys.executable, str(WIN_REG_STAT)], input=args, capture_output=True, text=True,
                             env=env, check=False)
    elapsed = time.monotonic() - started
    return elapsed, json.loads(process.stdout.strip().splitlines()[-1]), json.loads(path.read_text(encoding='utf-8'))


STATE = {'registry': {KEY: {'Value': {'type': 'REG_SZ', 'value': 'x'}}}}


def test_an_execution_lasts_at_least_its_latency(tmp_path: pathlib.Path) -> None:
    """1 s from the state, 1 s from the environment: each execution takes >= 1 s, answers and is recorded."""
    for state, env in ((dict(STATE, latency={'seconds': 1.0}), None), (STATE, '1.0')):
        elapsed, result, after = execute(tmp_path, state, env)
        assert result.get('value') == 'x', result
        assert len(after['calls']) == 1
        assert elapsed >= 1.0


def test_latency_zero_costs_nothing(tmp_path: pathlib.Path) -> None:
    """Without a latency an execution is as fast as before (well under the 1 s above); the host's 0 overrides
    the environment's 5 s."""
    for state, env in ((STATE, None), (dict(STATE, latency={'seconds': 0}), '5')):
        elapsed, result = execute(tmp_path, state, env)[:2]
        assert result.get('value') == 'x', result
        assert elapsed < 1.0


def test_bad_latency_fails_the_execution(tmp_path: pathlib.Path) -> None:
    """A malformed setting fails the module with a message naming it; the state is left as it was."""
    state = dict(STATE, latency={'seconds': 'slow'})
    result, after = execute(tmp_path, state, None)[1:]
    assert result['failed'] is True
    assert 'latency.seconds' in result['msg']
    assert after == dict(state, calls=[])
