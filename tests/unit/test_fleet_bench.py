# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fleet benchmark's arithmetic (bench/fleet_bench.py): the fleet-time model, its inputs and the ratios.

The benchmark itself takes half an hour; these check, on made-up runs, that what it reports follows from what
it measured (docs/scale.md, "Estimated fleet time").
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys
import types
import typing as t

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[2] / 'bench' / 'fleet_bench.py'


@pytest.fixture(scope='module')
def bench() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location('ssm_proxy_fleet_bench', BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses looks the module up while the class bodies run
    spec.loader.exec_module(module)
    return module


def run(playbook: str, phase: str, hosts: int, executions: float, cpu_ms_per_host: float, main_ms_per_host: float,
        **extra: t.Any) -> dict[str, t.Any]:
    """A run's summary row as RunResult.summary() writes it (the fields the report reads)."""
    row = {"playbook": playbook, "phase": phase, "hosts": hosts, "ok": True, "executions_per_host": executions,
           "executions_max": executions, "restarts_per_host": 0.0, "changed_hosts": 0, "wall_s": 10.0,
           "controller_cpu_s": cpu_ms_per_host * hosts / 1000, "controller_cpu_ms_per_host": cpu_ms_per_host,
           "main_cpu_s": main_ms_per_host * hosts / 1000, "module_cpu_s": 1.0, "latency_s": 0.0, "forks": 20,
           "load_1min": 0.5}
    row.update(extra)
    return row


def test_the_model_counts_batches_waiting_and_cpu(bench: types.ModuleType) -> None:
    # 10 hosts at 5 forks: 2 batches x 4 executions x 2 s = 16 s; main process 2 s on one core; workers 4 s on 2.
    assert bench.estimated_seconds(10, 5, 4, 2.0, 2.0, 6.0, 2) == pytest.approx(16 + 2 + 2)
    # One host more is one batch more.
    assert bench.estimated_seconds(11, 5, 4, 2.0, 2.0, 6.0, 2) == pytest.approx(24 + 2 + 2)
    # No latency: only the CPU share; a main process that took it all does not spread over cores.
    assert bench.estimated_seconds(1000, 8, 1, 0.0, 3.0, 3.0, 4) == pytest.approx(3.0)


def test_cpu_is_extrapolated_along_the_measured_line(bench: types.ModuleType) -> None:
    # Total CPU 1 s + 0.2 s per host at 10 and 100 hosts: 201 s at 1000 hosts (not 1000 x 0.3 s from 10 hosts).
    rows = [run("ssm.proxy", "no-change", 10, 1, 300, 100), run("ssm.proxy", "no-change", 100, 1, 210, 100),
            # a model-check run (with latency) is not a measurement of the controller
            run("ssm.proxy", "no-change", 100, 1, 9999, 100, latency_s=2.0)]
    value, source = bench.cpu_at(rows, "ssm.proxy", "no-change", "controller_cpu_s", 1000)
    assert value == pytest.approx(201.0)
    assert source == "line through 10/100 hosts"
    value, source = bench.cpu_at(rows[:1], "ssm.proxy", "no-change", "controller_cpu_s", 1000)
    assert value == pytest.approx(300.0)
    assert source == "10 hosts x 100"
    assert bench.cpu_at(rows, "baseline", "no-change", "controller_cpu_s", 1000) is None


def test_fleet_estimates_use_each_connections_latency_and_forks(bench: types.ModuleType) -> None:
    meta = {"est_hosts": 1000, "est_cores": 2, "est_forks": None}
    rows = [run("ssm.proxy", "no-change", 10, 1, 400, 100), run("ssm.proxy", "no-change", 500, 1, 400, 100),
            run("baseline", "no-change", 10, 4, 200, 100), run("baseline", "no-change", 500, 4, 200, 100)]
    estimates = {item["playbook"]: item for item in bench.fleet_estimates(meta, rows)}
    mine = estimates["ssm.proxy"]
    # CPU share: main 100 s + the workers' 300 s over 2 cores.
    assert mine["cpu_share_s"] == pytest.approx(250.0)
    # WinRM/PSRP: 8 forks (4 per core), 125 batches x 1 execution x 1 s; aws_ssm: 24 forks, 42 batches x 4 s.
    assert mine["WinRM/PSRP"] == {"forks": 8, "latency_s": 1.0, "estimated_s": 375.0, "waiting_s": 125.0}
    assert mine["aws_ssm"] == {"forks": 24, "latency_s": 4.0, "estimated_s": 418.0, "waiting_s": 168.0}
    base = estimates["baseline"]
    assert base["WinRM/PSRP"]["estimated_s"] == pytest.approx(125 * 4 + 100 + 50)
    assert bench.estimate_ratios(list(estimates.values())) == [
        {"phase": "no-change", "WinRM/PSRP": round(375 / 650, 2), "aws_ssm": round(418 / (42 * 16 + 150), 2)}]
    # One fork count for both connections when BENCH_EST_FORKS is given.
    forced = bench.fleet_estimates(dict(meta, est_forks=50), rows)
    assert {item["WinRM/PSRP"]["forks"] for item in forced} | {item["aws_ssm"]["forks"] for item in forced} == {50}


def test_every_figure_is_compared_with_the_baseline_of_the_same_size(bench: types.ModuleType) -> None:
    rows = [run("ssm.proxy", "no-change", 10, 1, 400, 100, wall_s=5.0), run("baseline", "no-change", 10, 4, 200, 100),
            run("ssm.proxy", "no-change", 100, 1, 300, 100)]  # no baseline at 100 hosts: no ratio row
    compared = bench.comparisons(rows)
    assert len(compared) == 1
    assert set(compared[0]) == {"hosts", "phase"} | {field[0] for field in bench.RATIO_FIELDS}
    assert compared[0]["executions_per_host"] == 0.25
    assert compared[0]["controller_cpu_ms_per_host"] == 2.0
    assert compared[0]["wall_s"] == 0.5
    assert compared[0]["restarts_per_host"] == "0/0"


def test_slopes_of_both_playbooks_and_their_ratio(bench: types.ModuleType) -> None:
    # Total CPU: ssm.proxy 2 s + 0.3 s per host, the baseline 2 s + 0.2 s per host.
    rows = [run(playbook, "no-change", hosts, 1, (2000 + per_host * hosts) / hosts, 0)
            for playbook, per_host in (("ssm.proxy", 300), ("baseline", 200)) for hosts in (10, 100, 500)]
    slopes = {item["playbook"]: item for item in bench.cpu_slopes(rows)}
    assert slopes["ssm.proxy"]["marginal_ms_per_host"] == pytest.approx(300.0)
    assert slopes["baseline"]["marginal_ms_per_host"] == pytest.approx(200.0)
    assert slopes["ssm.proxy"]["marginal_ratio"] == 1.5
    line = bench.summary_lines([], list(slopes.values()), [])[0]
    assert "ssm.proxy 300.0 ms/host, baseline 200.0 ms/host, ratio 1.5" in line


def test_model_check_compares_the_estimate_with_the_measured_time(bench: types.ModuleType) -> None:
    checked = [run("baseline", "no-change", 10, 4, 500, 250, forks=5, latency_s=2.0, wall_s=20.0)]
    (row,) = bench.model_estimates(checked, 2)
    # 2 batches x 4 x 2 s + 2.5 s main + 2.5 s workers / 2 cores
    assert row["estimated_s"] == pytest.approx(19.8, abs=0.05)
    assert row["estimate_ratio"] == 0.99
    assert "measured 20.0 s, estimated 19.8 s" in bench.summary_lines([], [], [row])[-1]
