#!/usr/bin/env python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet benchmark: ssm.proxy's configure playbook against the documented procedure, on simulated Windows fleets.

For each fleet size and each playbook (``playbooks/configure.yml`` and the upstream-only ``bench/baseline.yml``)
it measures three runs: check mode on the unconfigured fleet, the first run, and a run that changes nothing.
Per run: module executions and agent restarts per host (from the simulated hosts' ``calls`` record and agent
log), controller wall time, and CPU time of ansible-playbook and its children, split into the simulated
modules' share (on a real fleet that work runs on Windows) and the controller's. Run it through ``bench/run``.

Environment: BENCH_SIZES (default "10 100 500"; the no-change run is measured at these and every size below),
BENCH_FIRST_SIZES (first runs, default
"10 50"), BENCH_CHECK_SIZES (check mode, default "10 100"), BENCH_FORKS (20), BENCH_STRATEGY (linear),
BENCH_OUT (bench/results), BENCH_WORK (.cache/bench), BENCH_TAG (a suffix for the result file names).
The defaults keep ``make bench`` near 30 minutes on 2 cores: a first run of ssm.proxy costs about 20 module
executions per host, which the simulated hosts execute on the controller's own CPUs.

Estimated fleet time. A simulated execution costs milliseconds, a real one a round trip (WinRM/PSRP about 1 s,
aws_ssm about 4 s: an S3 upload and a session per command), so the measured wall time cannot be planned with.
For each playbook and phase the report estimates a run on BENCH_EST_HOSTS (1000) hosts per connection, with

    T = ceil(N / F) * E * L + S(N) + (C(N) - S(N)) / K

N hosts, F forks, E module executions per host (measured), L seconds per execution (the connection's), C(N)
the run's controller CPU and S(N) the part of it spent in ansible-playbook's main process (both measured;
a least-squares line through the runs' figures against fleet size, evaluated at N, or per host times N from one
size), K the controller's cores (BENCH_EST_CORES, default this machine's, on which C was measured). Why: with
the linear strategy every task waits until each of its ceil(N / F) batches of F hosts came back, so each
execution costs its batch L; the main process (the strategy: templating, queueing, result handling) runs on
one core, the workers' CPU (module packaging, the connection) is shared by the K cores. It assumes the
controller's work does not overlap the waiting, which holds when the F forks of a batch wait together
(linear strategy, equal latencies); with many forks per core, overlap brings T down towards
max(ceil(N / F) * E * L, S + (C - S) / K). Not in it: agent restart and start-up time on Windows, the role's
verify retries (3 s apart) when the agent logs late, connection set-up, and the real connections' own
controller CPU (message encryption, boto3). Forks (BENCH_EST_FORKS, one number for both; default per
connection, as docs/scale.md recommends starting scheduled runs): 4 per core over WinRM/PSRP, 12 per core over
aws_ssm.

Model check: the same invocation runs both playbooks (first and no-change runs) once more on
BENCH_MODEL_HOSTS (10) hosts with BENCH_MODEL_FORKS (5) forks and a simulated latency of BENCH_MODEL_LATENCY
(2.0) seconds per execution (``SIM_LATENCY_SECONDS``, tests/sim/README.md), and reports the measured wall time
beside T computed from that run's own E, C and S. The latency counts from the module process's start, so it must
exceed what the simulated modules themselves take at F forks on K cores (F / K x ~0.4 s), else their CPU, which a
real fleet spends on Windows, shows in the wall time. It adds about 3 minutes; BENCH_MODEL_HOSTS=0 skips it.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import json
import math
import os
import pathlib
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
import typing as t

ROOT = pathlib.Path(__file__).resolve().parents[1]
RUNNER = ROOT / "tests" / "sim" / "playbook"
STATES = ROOT / "tests" / "integration" / "states"
VENV_PYTHON = pathlib.Path(os.environ.get("SIM_VENV", ROOT / ".venv")) / "bin" / "python"
AGENT_LOG = "C:\\ProgramData\\Amazon\\SSM\\Logs\\amazon-ssm-agent.log"
SERVICE_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AmazonSSMAgent"
WINHTTP_KEY = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections"
# `netsh winhttp set proxy proxy.example.com:3128 "<local>"` (header 0x28, flags 3), as in the demo fleet.
NETSH_BLOB = "28000000000000000300000016000000" + b"proxy.example.com:3128".hex() + "07000000" + b"<local>".hex()
# One line per agent start in the simulated agent's log.
STARTUP_MARK = "Proxy environment variables:"

PLAYBOOKS = {
    "ssm.proxy": ROOT / "playbooks" / "configure.yml",
    "baseline": ROOT / "bench" / "baseline.yml",
}
# The same proxy and bypass list for both playbooks.
PLAYBOOK_VARS = {
    "ssm.proxy": {"ssm_proxy_url": "http://proxy.example.com:3128", "ssm_proxy_no_proxy": [".corp.example.com", "10.0.0.0/8"]},
    "baseline": {"baseline_proxy": "proxy.example.com:3128", "baseline_no_proxy": ["169.254.169.254", ".corp.example.com", "10.0.0.0/8"],
                 "baseline_windows_bypass": ["169.254.169.254", "*.corp.example.com", "10.*"]},
}
PHASES = ("first", "no-change", "check")
# Seconds per module execution of each connection (docs/scale.md) and the forks per controller core
# docs/scale.md recommends to start scheduled runs with.
CONNECTIONS = {"WinRM/PSRP": {"latency_s": 1.0, "forks_per_core": 4}, "aws_ssm": {"latency_s": 4.0, "forks_per_core": 12}}
# The model check's runs: (playbook, phase), on one fleet per playbook in this order.
MODEL_RUNS = (("baseline", "first"), ("baseline", "no-change"), ("ssm.proxy", "first"), ("ssm.proxy", "no-change"))
LATENCY_ENV = "SIM_LATENCY_SECONDS"


@dataclasses.dataclass(frozen=True)
class Settings:
    """What one benchmark invocation measures."""

    sizes: tuple[int, ...]
    first_sizes: tuple[int, ...]
    check_sizes: tuple[int, ...]
    forks: int
    strategy: str
    out: pathlib.Path
    work: pathlib.Path
    tag: str
    est_hosts: int
    est_forks: int | None
    est_cores: int
    model_hosts: int
    model_forks: int
    model_latency_s: float


@dataclasses.dataclass
class RunResult:
    """One ansible-playbook run against one fleet, per-host figures included."""

    playbook: str
    phase: str
    hosts: int
    returncode: int
    wall_s: float
    cpu_s: float
    main_cpu_s: float
    module_cpu_s: float
    executions: list[int]
    restarts: list[int]
    changed_hosts: int
    modules: dict[str, int]
    load_1min: float
    forks: int
    latency_s: float

    @property
    def controller_cpu_s(self) -> float:
        return max(self.cpu_s - self.module_cpu_s, 0.0)

    def summary(self) -> dict[str, t.Any]:
        count = max(self.hosts, 1)
        return {
            "playbook": self.playbook, "phase": self.phase, "hosts": self.hosts, "ok": self.returncode == 0,
            "returncode": self.returncode,
            "executions_per_host": round(sum(self.executions) / count, 3),
            "executions_max": max(self.executions, default=0),
            "restarts_per_host": round(sum(self.restarts) / count, 3),
            "changed_hosts": self.changed_hosts,
            "wall_s": round(self.wall_s, 2), "wall_ms_per_host": round(1000 * self.wall_s / count, 1),
            "cpu_s": round(self.cpu_s, 2), "module_cpu_s": round(self.module_cpu_s, 2),
            "controller_cpu_s": round(self.controller_cpu_s, 2),
            "controller_cpu_ms_per_host": round(1000 * self.controller_cpu_s / count, 1),
            # ansible-playbook's main process alone (the strategy: one core), part of controller_cpu_s.
            "main_cpu_s": round(self.main_cpu_s, 2),
            "modules": self.modules,
            # The machine's 1-minute load average when the run ended (other work on the machine shows here).
            "load_1min": self.load_1min,
            "forks": self.forks, "latency_s": self.latency_s,
        }


def int_list(text: str) -> tuple[int, ...]:
    return tuple(int(item) for item in text.split())


def settings_from_environment() -> Settings:
    first = int_list(os.environ.get("BENCH_FIRST_SIZES", "10 50"))
    check = int_list(os.environ.get("BENCH_CHECK_SIZES", "10 100"))
    sizes = tuple(sorted(set(int_list(os.environ.get("BENCH_SIZES", "10 100 500"))) | set(first) | set(check)))
    return Settings(
        sizes=sizes, first_sizes=first, check_sizes=check, forks=int(os.environ.get("BENCH_FORKS", "20")),
        strategy=os.environ.get("BENCH_STRATEGY", "linear"),
        out=pathlib.Path(os.environ.get("BENCH_OUT", ROOT / "bench" / "results")),
        work=pathlib.Path(os.environ.get("BENCH_WORK", ROOT / ".cache" / "bench")),
        tag=os.environ.get("BENCH_TAG", ""),
        est_hosts=int(os.environ.get("BENCH_EST_HOSTS", "1000")),
        est_forks=int(os.environ["BENCH_EST_FORKS"]) if os.environ.get("BENCH_EST_FORKS") else None,
        est_cores=int(os.environ.get("BENCH_EST_CORES", str(os.cpu_count() or 1))),
        model_hosts=int(os.environ.get("BENCH_MODEL_HOSTS", "10")),
        model_forks=int(os.environ.get("BENCH_MODEL_FORKS", "5")),
        model_latency_s=float(os.environ.get("BENCH_MODEL_LATENCY", "2.0")),
    )


# --- Fleets ----------------------------------------------------------------------------------------------

def load_state(name: str) -> dict[str, t.Any]:
    return json.loads((STATES / f"{name}.json").read_text(encoding="utf-8"))


def starting_states() -> dict[str, dict[str, t.Any]]:
    """The unconfigured starting states, dealt round-robin: as in the demo fleet."""
    netsh = load_state("server2019")
    netsh["registry"][WINHTTP_KEY]["WinHttpSettings"] = {"type": "REG_BINARY", "value": NETSH_BLOB}
    netsh["registry"][SERVICE_KEY]["Environment"] = {"type": "REG_MULTI_SZ", "value": ["AWS_REGION=eu-west-1", "HTTP_PROXY=http://old-proxy:8080"]}
    return {"server2022-clean": load_state("server2022"), "server2019-clean": load_state("server2019"), "server2019-netsh": netsh}


def host_names(size: int) -> list[str]:
    return [f"win{index:04d}" for index in range(size)]


def write_fleet(directory: pathlib.Path, states: t.Sequence[dict[str, t.Any]], size: int) -> list[str]:
    """State files (host i gets states[i % len(states)], calls emptied) and an inventory of group ``windows``."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    inventory: dict[str, t.Any] = {"windows": {"hosts": {}}}
    names = host_names(size)
    for index, name in enumerate(names):
        state = copy.deepcopy(states[index % len(states)])
        state["calls"] = []
        path = directory / f"{name}.json"
        path.write_text(json.dumps(state, indent=1), encoding="utf-8")
        inventory["windows"]["hosts"][name] = {"sim_state": str(path)}
    (directory / "inventory.yml").write_text(json.dumps(inventory, indent=1), encoding="utf-8")
    return names


def read_states(directory: pathlib.Path, names: t.Sequence[str]) -> dict[str, dict[str, t.Any]]:
    return {name: json.loads((directory / f"{name}.json").read_text(encoding="utf-8")) for name in names}


def startups(state: dict[str, t.Any]) -> int:
    return str(state.get("files", {}).get(AGENT_LOG, "")).count(STARTUP_MARK)


# --- Running and measuring ---------------------------------------------------------------------------------

def write_interpreter_wrapper(directory: pathlib.Path) -> pathlib.Path:
    """A module interpreter that records each module process's CPU time (bash ``time``) in a per-pid file.

    On a real fleet the modules run on Windows; in the simulation they run here, so their CPU is measured
    and subtracted from the children's total to give the controller's share. Each line is ``user sys``.
    """
    times = directory / "module-times"
    times.mkdir(parents=True, exist_ok=True)
    wrapper = directory / "python"
    wrapper.write_text(
        "#!/usr/bin/env bash\n"
        "TIMEFORMAT='%3U %3S'\n"
        f"{{ time {shell_quote(str(VENV_PYTHON))} \"$@\" 2>&4; }} 4>&2 2>>{shell_quote(str(times))}/t.$$\n",
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    return wrapper


def shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def module_cpu_seconds(directory: pathlib.Path) -> float:
    total = 0.0
    for path in (directory / "module-times").glob("t.*"):
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) == 2:
                total += float(parts[0]) + float(parts[1])
    return total


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_reading_own_cpu(command: list[str], env: dict[str, str], log: t.IO[str]) -> tuple[int, float]:
    """Run ansible-playbook; its return code and the CPU of its main process alone (not of its workers).

    The main process runs the strategy (templating, queueing, result handling) on one core, so its CPU does
    not spread over the controller's cores as the workers' does. Read from ``/proc/<pid>/stat`` (utime +
    stime, fields 14 and 15) once it has exited but before it is reaped (``waitid`` with ``WNOWAIT``); 0 where
    /proc cannot tell. (tests/sim/playbook ``exec``s ansible-playbook, so the pid is ansible-playbook's.)
    """
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)  # pylint: disable=consider-using-with
    own = 0.0
    try:
        os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
        with open(f"/proc/{process.pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    return process.wait(), own


def changed_host_count(log: str) -> int:
    return len(re.findall(r"^\S+\s+: ok=\d+\s+changed=[1-9]", log, re.M))


def run_playbook(settings: Settings, playbook: str, phase: str, directory: pathlib.Path, names: t.Sequence[str],
                 forks: int | None = None, latency_s: float = 0.0) -> RunResult:
    """One measured ansible-playbook run; executions and restarts are the per-host differences it made.

    ``latency_s``: the simulated hosts' per-execution latency (``SIM_LATENCY_SECONDS``); 0 for the measured
    runs, whatever the caller's environment says, so that they measure the controller and not the sleeps.
    """
    forks = forks or settings.forks
    before = read_states(directory, names)
    wrapper = write_interpreter_wrapper(directory / f"run-{phase}")
    command = [str(RUNNER), "-i", str(directory / "inventory.yml"), str(PLAYBOOKS[playbook]),
               "-e", json.dumps(PLAYBOOK_VARS[playbook]), "-e", json.dumps({"ansible_python_interpreter": str(wrapper)}),
               "--forks", str(forks)]
    if phase == "check":
        command.append("--check")
    env = dict(os.environ, ANSIBLE_PIPELINING="True", ANSIBLE_STRATEGY=settings.strategy, SIM_SEED="bench",
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env[LATENCY_ENV] = str(latency_s) if latency_s else ""
    log_path = directory / f"run-{phase}.log"
    cpu_before = children_cpu_seconds()
    started = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        returncode, main_cpu = run_reading_own_cpu(command, env, log)
    wall = time.monotonic() - started
    cpu = children_cpu_seconds() - cpu_before
    after = read_states(directory, names)
    modules: dict[str, int] = {}
    for name in names:
        for call in after[name].get("calls", [])[len(before[name].get("calls", [])):]:
            short = call["module"].rsplit(".", 1)[-1]
            modules[short] = modules.get(short, 0) + 1
    return RunResult(
        playbook=playbook, phase=phase, hosts=len(names), returncode=returncode, wall_s=wall, cpu_s=cpu, main_cpu_s=main_cpu,
        module_cpu_s=module_cpu_seconds(directory / f"run-{phase}"),
        executions=[len(after[n].get("calls", [])) - len(before[n].get("calls", [])) for n in names],
        restarts=[startups(after[n]) - startups(before[n]) for n in names],
        changed_hosts=changed_host_count(log_path.read_text(encoding="utf-8")), modules=dict(sorted(modules.items())),
        load_1min=round(os.getloadavg()[0], 2), forks=forks, latency_s=latency_s,
    )


def report_progress(result: RunResult) -> None:
    row = result.summary()
    status = "ok" if row["ok"] else f"FAILED rc={row['returncode']}"
    print(f"  {row['playbook']:<9} {row['phase']:<9} {row['hosts']:>4} hosts: {row['executions_per_host']:>5} exec/host, "
          f"{row['restarts_per_host']} restarts/host, {row['wall_s']} s wall, {row['controller_cpu_ms_per_host']} ms controller CPU/host "
          f"load {row['load_1min']} [{status}]", flush=True)


def configured_seeds(settings: Settings, playbook: str, starts: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """Configured states, one per starting state, from a first run of the playbook on one host of each (not measured)."""
    directory = settings.work / playbook / "seed"
    names = write_fleet(directory, starts, len(starts))
    result = run_playbook(settings, playbook, "first", directory, names)
    if result.returncode != 0:
        raise SystemExit(f"bench: the seed run of {playbook} failed; see {directory / 'run-first.log'}")
    return list(read_states(directory, names).values())


def bench_size(settings: Settings, playbook: str, size: int, seeds: dict[str, list[dict[str, t.Any]]]) -> list[RunResult]:
    """One playbook on one fleet size: check mode and the first run on a fresh fleet, then the no-change run.

    Without a first run at this size the no-change run starts from configured states (``seeds``: what the
    first run of the same playbook made of each starting state at a smaller size, or on a seed fleet of one
    host per starting state).
    """
    starts = list(starting_states().values())
    directory = settings.work / playbook / str(size)
    results: list[RunResult] = []
    names = write_fleet(directory, starts, size)
    phases = [phase for phase, sizes in (("check", settings.check_sizes), ("first", settings.first_sizes)) if size in sizes]
    for phase in phases:
        results.append(run_playbook(settings, playbook, phase, directory, names))
        report_progress(results[-1])
    if "first" in phases:
        seeds.setdefault(playbook, list(read_states(directory, names[:len(starts)]).values()))
    else:
        if playbook not in seeds:
            seeds[playbook] = configured_seeds(settings, playbook, starts)
        names = write_fleet(directory, seeds[playbook], size)
    results.append(run_playbook(settings, playbook, "no-change", directory, names))
    report_progress(results[-1])
    return results


def model_check(settings: Settings, seeds: dict[str, list[dict[str, t.Any]]]) -> list[dict[str, t.Any]]:
    """MODEL_RUNS once more with the simulated latency on: measured wall time against the model's estimate.

    The estimate takes this run's own executions and controller CPU, so the check tests the model (batches x
    executions x latency + CPU / cores), not the extrapolation to 1,000 hosts. No-change runs start from the
    configured states of the measured runs (``seeds``).
    """
    out: list[dict[str, t.Any]] = []
    fleets: dict[str, list[str]] = {}
    for playbook, phase in MODEL_RUNS:
        directory = settings.work / "model" / playbook
        if playbook not in fleets:
            fleets[playbook] = write_fleet(directory, list(starting_states().values()) if phase == "first" else seeds[playbook],
                                           settings.model_hosts)
        result = run_playbook(settings, playbook, phase, directory, fleets[playbook], forks=settings.model_forks,
                              latency_s=settings.model_latency_s)
        report_progress(result)
        out.append(result.summary())
    return out


def model_estimates(checked: list[dict[str, t.Any]], cores: int) -> list[dict[str, t.Any]]:
    """The model-check runs with the model's estimate from each run's own figures, and estimated / measured."""
    out = []
    for row in checked:
        estimate = estimated_seconds(row["hosts"], row["forks"], row["executions_per_host"], row["latency_s"],
                                     row.get("main_cpu_s", 0.0), row["controller_cpu_s"], cores)
        out.append(dict(row, estimated_s=round(estimate, 1), estimate_ratio=ratio(estimate, row["wall_s"])))
    return out


# --- The fleet-time model ----------------------------------------------------------------------------------

def estimated_seconds(hosts: int, forks: int, executions_per_host: float, latency_s: float, main_cpu_s: float,
                      controller_cpu_s: float, cores: int) -> float:
    """T = ceil(N / F) * E * L + S + (C - S) / K (module docstring): the batches' waiting on Windows, the main
    process's CPU (one core) and the workers' CPU (shared by the cores)."""
    workers = max(controller_cpu_s - main_cpu_s, 0.0)
    return math.ceil(hosts / max(forks, 1)) * executions_per_host * latency_s + main_cpu_s + workers / max(cores, 1)


def cpu_at(rows: list[dict[str, t.Any]], playbook: str, phase: str, key: str, hosts: int) -> tuple[float, str] | None:
    """CPU (s, ``key`` of the rows) of a run on ``hosts`` hosts, from the measured runs of this playbook and phase:
    the least-squares line through (hosts, CPU) where two sizes or more were measured (Ansible's start-up is
    shared by more hosts), else per host times ``hosts``; and how it was obtained."""
    points = sorted((row["hosts"], row.get(key, 0.0)) for row in rows
                    if row["playbook"] == playbook and row["phase"] == phase and row["ok"] and not row.get("latency_s"))
    if not points:
        return None
    if len(points) == 1 or points[0][0] == points[-1][0]:
        return points[-1][1] / points[-1][0] * hosts, f"{points[-1][0]} hosts x {hosts / points[-1][0]:g}"
    slope = least_squares_slope(points)
    sizes = [point[0] for point in points]
    mean_x = sum(sizes) / len(points)
    mean_y = sum(point[1] for point in points) / len(points)
    return max(mean_y + slope * (hosts - mean_x), 0.0), "line through " + "/".join(str(x) for x in sizes) + " hosts"


def fleet_estimates(meta: dict[str, t.Any], rows: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """Per playbook and phase: the estimated time of a run on meta["est_hosts"] hosts over each connection.

    A JSON from before ``main_cpu_s`` was measured counts all controller CPU as the workers' (S = 0).
    """
    hosts, cores = meta["est_hosts"], meta["est_cores"]
    out = []
    for phase in PHASES:
        for playbook in PLAYBOOKS:
            measured = [row for row in rows if row["playbook"] == playbook and row["phase"] == phase and row["ok"]
                        and not row.get("latency_s")]
            cpu, main = cpu_at(rows, playbook, phase, "controller_cpu_s", hosts), cpu_at(rows, playbook, phase, "main_cpu_s", hosts)
            if not measured or cpu is None or main is None:
                continue
            main_s = min(main[0], cpu[0])
            executions = max(measured, key=lambda row: row["hosts"])["executions_per_host"]
            item: dict[str, t.Any] = {"playbook": playbook, "phase": phase, "hosts": hosts, "cores": cores,
                                      "executions_per_host": executions, "controller_cpu_s": round(cpu[0], 1),
                                      "main_cpu_s": round(main_s, 1),
                                      "controller_cpu_ms_per_host": round(1000 * cpu[0] / hosts, 1), "cpu_from": cpu[1]}
            cpu_share = main_s + (cpu[0] - main_s) / cores
            item["cpu_share_s"] = round(cpu_share, 1)
            for name, connection in CONNECTIONS.items():
                forks = meta["est_forks"] or connection["forks_per_core"] * cores
                seconds = estimated_seconds(hosts, forks, executions, connection["latency_s"], main_s, cpu[0], cores)
                item[name] = {"forks": forks, "latency_s": connection["latency_s"], "estimated_s": round(seconds, 1),
                              "waiting_s": round(seconds - cpu_share, 1)}
            out.append(item)
    return out


def estimate_ratios(estimates: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """ssm.proxy's estimated fleet times as ratios of the baseline's (same phase)."""
    index = {(item["playbook"], item["phase"]): item for item in estimates}
    out = []
    for phase in PHASES:
        mine, base = index.get(("ssm.proxy", phase)), index.get(("baseline", phase))
        if mine and base:
            out.append({"phase": phase, **{name: ratio(mine[name]["estimated_s"], base[name]["estimated_s"])
                                           for name in CONNECTIONS}})
    return out


# --- Reporting ---------------------------------------------------------------------------------------------

# Every per-run figure of the table, compared with the baseline's: (row key, column title).
RATIO_FIELDS = (("executions_per_host", "exec/host"), ("executions_max", "max"), ("restarts_per_host", "restarts/host"),
                ("changed_hosts", "changed hosts"), ("wall_s", "wall"), ("controller_cpu_ms_per_host", "controller CPU/host"),
                ("module_cpu_s", "module CPU"))


def ratio(numerator: float, denominator: float) -> float | str | None:
    """numerator / denominator; "0/0" when both are zero (nothing to compare), None when only the denominator is."""
    if not denominator:
        return "0/0" if not numerator else None
    return round(numerator / denominator, 2)


def comparisons(rows: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """ssm.proxy against the baseline of the same size and phase, measured in this invocation: every figure."""
    index = {(row["playbook"], row["phase"], row["hosts"]): row for row in rows if not row.get("latency_s")}
    out = []
    for (playbook, phase, hosts), row in sorted(index.items(), key=lambda item: (item[0][2], PHASES.index(item[0][1]))):
        base = index.get(("baseline", phase, hosts))
        if playbook != "ssm.proxy" or base is None:
            continue
        out.append({"hosts": hosts, "phase": phase, **{field[0]: ratio(row[field[0]], base[field[0]]) for field in RATIO_FIELDS}})
    return out


def least_squares_slope(points: t.Sequence[tuple[float, float]]) -> float:
    """Slope of the least-squares line through (x, y) points; 0 when x does not vary."""
    xs = [point[0] for point in points]
    ys = [point[1] for point in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    denominator = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / denominator if denominator else 0.0


def cpu_slopes(rows: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """Per playbook and phase: controller CPU per host against fleet size, and the CPU one more host costs.

    ``marginal_ms_per_host`` (the slope of the run's total controller CPU against fleet size, in ms per host)
    is the figure that scales to large fleets; ``marginal_ratio`` compares it with the baseline's.
    """
    out = []
    for playbook in PLAYBOOKS:
        for phase in PHASES:
            points = sorted((row["hosts"], row["controller_cpu_ms_per_host"]) for row in rows
                            if row["playbook"] == playbook and row["phase"] == phase and row["ok"] and not row.get("latency_s"))
            if len(points) < 2:
                continue
            slope = least_squares_slope(points)
            out.append({"playbook": playbook, "phase": phase, "points": points,
                        "slope_ms_per_host_per_100_hosts": round(100 * slope, 2),
                        "marginal_ms_per_host": marginal_cpu_ms(rows, playbook, phase),
                        "change_smallest_to_largest": ratio(points[-1][1], points[0][1])})
    index = {(item["playbook"], item["phase"]): item for item in out}
    for item in out:
        base = index.get(("baseline", item["phase"]))
        item["marginal_ratio"] = ratio(item["marginal_ms_per_host"], base["marginal_ms_per_host"]) if base else None
    return out


def marginal_cpu_ms(rows: list[dict[str, t.Any]], playbook: str, phase: str) -> float:
    """Least-squares slope of the run's total controller CPU against fleet size: the CPU one more host costs."""
    points = [(row["hosts"], 1000 * row["controller_cpu_s"]) for row in rows
              if row["playbook"] == playbook and row["phase"] == phase and row["ok"] and not row.get("latency_s")]
    return round(least_squares_slope(points), 1)


def fmt(value: t.Any) -> str:
    return "n/a" if value is None else str(value)


def duration(seconds: float) -> str:
    """Seconds as "12.3 min" (or "45 s" under two minutes), for the estimate table."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def markdown_runs(meta: dict[str, t.Any], rows: list[dict[str, t.Any]], compared: list[dict[str, t.Any]]) -> list[str]:
    lines = [
        f"# Fleet benchmark ({meta['date']})", "",
        f"Simulated Windows hosts (tests/sim), forks {meta['forks']}, strategy {meta['strategy']}, pipelining on, "
        f"{meta['cpus']} CPUs, ansible-core {meta['ansible_core']}, Python {meta['python']}. Per host: module executions "
        "(round trips to Windows) and agent restarts; wall time and CPU for the whole run. Controller CPU = CPU of "
        "ansible-playbook and its children minus the simulated modules' own CPU (which a real fleet spends on Windows).",
        "",
        "| hosts | phase | playbook | exec/host | max | restarts/host | changed hosts | wall s | wall ms/host "
        "| controller CPU ms/host | module CPU s | status |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in sorted(rows, key=lambda r: (r["hosts"], PHASES.index(r["phase"]), r["playbook"] != "ssm.proxy")):
        lines.append(f"| {row['hosts']} | {row['phase']} | {row['playbook']} | {row['executions_per_host']} | {row['executions_max']} | "
                     f"{row['restarts_per_host']} | {row['changed_hosts']} | {row['wall_s']} | {row['wall_ms_per_host']} | "
                     f"{row['controller_cpu_ms_per_host']} | {row['module_cpu_s']} | {'ok' if row['ok'] else 'FAILED'} |")
    lines += ["", "ssm.proxy / baseline, every figure above (same size and phase, this run; wall ms/host has the wall's ratio):", "",
              "| hosts | phase | " + " | ".join(field[1] for field in RATIO_FIELDS) + " |",
              "|---:|---|" + "---:|" * len(RATIO_FIELDS)]
    for item in compared:
        lines.append(f"| {item['hosts']} | {item['phase']} | " + " | ".join(fmt(item[field[0]]) for field in RATIO_FIELDS) + " |")
    return lines


def markdown_slopes(slopes: list[dict[str, t.Any]]) -> list[str]:
    lines = ["", "Controller CPU per host against fleet size (least squares; marginal = slope of the run's total, "
                 "the ms one more host costs):", "",
             "| playbook | phase | ms/host at each size | slope (ms/host per 100 more hosts) | marginal ms per added host "
             "| marginal / baseline's |", "|---|---|---|---:|---:|---:|"]
    for item in slopes:
        points = ", ".join(f"{x}: {y}" for x, y in item["points"])
        lines.append(f"| {item['playbook']} | {item['phase']} | {points} | {item['slope_ms_per_host_per_100_hosts']} | "
                     f"{item['marginal_ms_per_host']} | {fmt(item['marginal_ratio'])} |")
    return lines


def markdown_estimates(meta: dict[str, t.Any], estimates: list[dict[str, t.Any]], estimate_ratio_rows: list[dict[str, t.Any]],
                       checked: list[dict[str, t.Any]]) -> list[str]:
    forks = ", ".join(f"{name} {item['latency_s']:g} s per execution at {meta['est_forks'] or item['forks_per_core'] * meta['est_cores']} forks"
                      for name, item in CONNECTIONS.items())
    lines = ["", f"Estimated fleet time, {meta['est_hosts']} hosts, {meta['est_cores']} controller cores ({forks}): "
                 "T = ceil(hosts / forks) x exec/host x latency + main-process CPU + other controller CPU / cores "
                 "(docs/scale.md, 'Estimated fleet time'); waiting = the first term, the rest is the CPU share:", "",
             "| phase | playbook | exec/host | controller CPU ms/host (from) | CPU share | " + " | ".join(CONNECTIONS) + " |",
             "|---|---|---:|---:|---:|" + "---:|" * len(CONNECTIONS)]
    for item in estimates:
        times = " | ".join(f"{duration(item[name]['estimated_s'])} ({duration(item[name]['waiting_s'])} waiting)" for name in CONNECTIONS)
        lines.append(f"| {item['phase']} | {item['playbook']} | {item['executions_per_host']} | "
                     f"{item['controller_cpu_ms_per_host']} ({item['cpu_from']}) | {duration(item['cpu_share_s'])} | {times} |")
    if any(" x " in item["cpu_from"] for item in estimates):
        lines += ["", "CPU from one size ('N hosts x M') carries Ansible's start-up per host and overstates a large fleet's; "
                      "measure two sizes or more."]
    if estimate_ratio_rows:
        lines += ["", "| phase | estimated time, ssm.proxy / baseline: " + " | ".join(CONNECTIONS) + " |",
                  "|---|" + "---:|" * len(CONNECTIONS)]
        for item in estimate_ratio_rows:
            lines.append(f"| {item['phase']} | " + " | ".join(fmt(item[name]) for name in CONNECTIONS) + " |")
    if checked:
        first = checked[0]
        lines += ["", f"Model check: {first['hosts']} hosts, forks {first['forks']}, simulated latency {first['latency_s']:g} s "
                      f"per execution, {meta.get('cpus') or meta['est_cores']} cores, measured wall time against the model with the run's own "
                      "executions and CPU (load: the machine's 1-minute load average at the end; above the core count "
                      "other work took cores and the measured time is inflated):", "",
                  "| playbook | phase | exec/host | controller CPU s | of it main process s | measured s | estimated s "
                  "| estimated / measured | load |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for row in checked:
            lines.append(f"| {row['playbook']} | {row['phase']} | {row['executions_per_host']} | {row['controller_cpu_s']} | "
                         f"{row['main_cpu_s']} | {row['wall_s']} | {row['estimated_s']} | {fmt(row['estimate_ratio'])} | "
                         f"{row['load_1min']} |")
    return lines


def summary_lines(estimate_ratio_rows: list[dict[str, t.Any]], slopes: list[dict[str, t.Any]],
                  checked: list[dict[str, t.Any]]) -> list[str]:
    """The one-line findings the table is read for (printed last)."""
    lines = []
    index = {(item["playbook"], item["phase"]): item for item in slopes}
    mine, base = index.get(("ssm.proxy", "no-change")), index.get(("baseline", "no-change"))
    if not (mine and base):
        lines.append("controller CPU slope: needs no-change runs at two sizes or more (BENCH_SIZES)")
    else:
        lines.append(f"controller CPU slope, no-change, {mine['points'][0][0]} to {mine['points'][-1][0]} hosts: ssm.proxy "
                     f"{mine['marginal_ms_per_host']} ms/host, baseline {base['marginal_ms_per_host']} ms/host, ratio "
                     f"{fmt(mine['marginal_ratio'])} (per-host slope {mine['slope_ms_per_host_per_100_hosts']} and "
                     f"{base['slope_ms_per_host_per_100_hosts']} ms/host per 100 more hosts)")
    for item in estimate_ratio_rows:
        lines.append(f"estimated fleet time ratio, {item['phase']}: " +
                     ", ".join(f"{name} {fmt(item[name])}" for name in CONNECTIONS))
    for row in checked:
        lines.append(f"model check: {row['playbook']} {row['phase']}, {row['hosts']} hosts, forks {row['forks']}, latency "
                     f"{row['latency_s']:g} s: measured {row['wall_s']} s, estimated {row['estimated_s']} s "
                     f"(estimated/measured {fmt(row['estimate_ratio'])}, load {row['load_1min']})")
    return lines


def plot(rows: list[dict[str, t.Any]], estimates: list[dict[str, t.Any]], meta: dict[str, t.Any], path: pathlib.Path) -> None:
    """Executions, controller CPU and wall time per host against fleet size, and the estimated fleet times."""
    import matplotlib  # pylint: disable=import-outside-toplevel  # installed by bench/run only
    matplotlib.use("Agg")
    from matplotlib import pyplot  # pylint: disable=import-outside-toplevel

    figure, grid = pyplot.subplots(2, 2, figsize=(13, 9))
    executions, cpu, wall, fleet = grid[0][0], grid[0][1], grid[1][0], grid[1][1]
    measured = [row for row in rows if not row.get("latency_s")]
    for playbook, style in (("ssm.proxy", "-"), ("baseline", "--")):
        for phase, marker in (("first", "o"), ("no-change", "s"), ("check", "^")):
            points = sorted((r["hosts"], r["executions_per_host"], r["controller_cpu_ms_per_host"], r["wall_s"]) for r in measured
                            if r["playbook"] == playbook and r["phase"] == phase and r["ok"])
            if not points:
                continue
            label = f"{playbook} {phase}"
            for axes, column in ((executions, 1), (cpu, 2), (wall, 3)):
                axes.plot([p[0] for p in points], [p[column] for p in points], style, marker=marker, label=label)
    executions.set(xscale="log", xlabel="hosts", ylabel="module executions per host", title="Round trips per host (measured)")
    cpu.set(xscale="log", xlabel="hosts", ylabel="controller CPU per host (ms)", title="Controller CPU per host (measured)")
    wall.set(xscale="log", yscale="log", xlabel="hosts", ylabel="controller wall time (s)", title="Wall time of the run (simulated hosts)")
    plot_estimates(fleet, estimates, meta)
    for axes in (executions, cpu, wall):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def plot_estimates(axes: t.Any, estimates: list[dict[str, t.Any]], meta: dict[str, t.Any]) -> None:
    """Grouped bars: per phase, ssm.proxy and baseline over each connection (estimated minutes)."""
    phases = [phase for phase in PHASES if any(item["phase"] == phase for item in estimates)]
    series = [(playbook, name) for name in CONNECTIONS for playbook in PLAYBOOKS]
    width = 0.8 / max(len(series), 1)
    index = {(item["playbook"], item["phase"]): item for item in estimates}
    for number, (playbook, name) in enumerate(series):
        heights = [index[(playbook, phase)][name]["estimated_s"] / 60 if (playbook, phase) in index else 0 for phase in phases]
        offsets = [position + (number - (len(series) - 1) / 2) * width for position in range(len(phases))]
        bars = axes.bar(offsets, heights, width, label=f"{playbook}, {name}", hatch="//" if playbook == "baseline" else None,
                        color=f"C{list(CONNECTIONS).index(name)}", alpha=0.55 if playbook == "baseline" else 0.9)
        axes.bar_label(bars, fmt="%.0f", fontsize=7)
    axes.set_xticks(range(len(phases)), phases)
    title = f"Estimated run on {meta['est_hosts']} hosts ({meta['est_cores']} cores; ceil(N/F) x E x L + S + (C-S)/K)"
    axes.set(ylabel="estimated minutes", title=title)
    axes.grid(True, axis="y", alpha=0.3)
    axes.legend(fontsize=7)


def ansible_core_version() -> str:
    output = subprocess.run([str(VENV_PYTHON), "-c", "import ansible.release as r; print(r.__version__)"],
                            capture_output=True, text=True, check=False)
    return output.stdout.strip() or "unknown"


def write_reports(settings: Settings, meta: dict[str, t.Any], rows: list[dict[str, t.Any]],
                  checked: list[dict[str, t.Any]]) -> str:
    """The JSON, the Markdown tables and the plot; returns the tables and the summary lines."""
    compared, slopes = comparisons(rows), cpu_slopes(rows)
    checked = model_estimates(checked, meta.get("cpus") or meta["est_cores"])  # the check ran on this machine's cores
    estimates = fleet_estimates(meta, rows)
    estimate_ratio_rows = estimate_ratios(estimates)
    name = "bench" + (f"-{settings.tag}" if settings.tag else "")
    document = {"meta": meta, "runs": rows, "ratios": compared, "cpu_slopes": slopes, "fleet_estimates": estimates,
                "fleet_estimate_ratios": estimate_ratio_rows, "model_check": checked}
    (settings.out / f"{name}.json").write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    lines = markdown_runs(meta, rows, compared) + markdown_slopes(slopes)
    lines += markdown_estimates(meta, estimates, estimate_ratio_rows, checked)
    measured = {(row["phase"], row["hosts"]) for row in rows}
    not_measured = [f"{phase} at {size}" for size in meta["sizes"] for phase in PHASES if (phase, size) not in measured]
    if not_measured:
        lines += ["", f"Not measured (too slow for `make bench` on 2 cores; BENCH_FIRST_SIZES / BENCH_CHECK_SIZES): "
                      f"{', '.join(not_measured)} hosts."]
    lines += [""] + [f"- {line}" for line in summary_lines(estimate_ratio_rows, slopes, checked)]
    table = "\n".join(lines) + "\n"
    (settings.out / f"{name}.md").write_text(table, encoding="utf-8")
    plot(rows, estimates, meta, settings.out / f"{name}.png")
    return table


def estimate_meta(settings: Settings) -> dict[str, t.Any]:
    """The fleet-time model's inputs (kept in the JSON; --report-only uses the run's own)."""
    return {"est_hosts": settings.est_hosts, "est_forks": settings.est_forks, "est_cores": settings.est_cores,
            "connections": CONNECTIONS}


def report_only(settings: Settings, path: pathlib.Path) -> int:
    """Rebuild the Markdown, plot and derived figures from an earlier run's JSON (``--report-only FILE``).

    The model's inputs are the run's, except those set in the environment (BENCH_EST_*: to recompute for another
    controller or fleet); a JSON from before the fleet-time model takes them from the environment or the defaults.
    """
    document = json.loads(path.read_text(encoding="utf-8"))
    names = {"est_hosts": "BENCH_EST_HOSTS", "est_forks": "BENCH_EST_FORKS", "est_cores": "BENCH_EST_CORES"}
    chosen = {key: value for key, value in estimate_meta(settings).items() if os.environ.get(names.get(key, ""))}
    meta = {**estimate_meta(settings), **document["meta"], **chosen}
    print(write_reports(settings, meta, document["runs"], document.get("model_check", [])))
    return 0


def main() -> int:
    settings = settings_from_environment()
    if sys.argv[1:2] == ["--report-only"] and len(sys.argv) == 3:
        return report_only(settings, pathlib.Path(sys.argv[2]))
    settings.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "sizes": list(settings.sizes), "first_sizes": list(settings.first_sizes),
        "check_sizes": list(settings.check_sizes), "forks": settings.forks,
        "strategy": settings.strategy, "pipelining": True, "cpus": os.cpu_count(), "python": platform.python_version(),
        "ansible_core": ansible_core_version(), "starting_states": list(starting_states()),
        **estimate_meta(settings),
    }
    print(f"bench: no-change runs at {meta['sizes']}, first runs at {meta['first_sizes']}, check mode at "
          f"{meta['check_sizes']}; forks {settings.forks}, "
          f"strategy {settings.strategy}", flush=True)
    started = time.monotonic()
    seeds: dict[str, list[dict[str, t.Any]]] = {}
    # Sizes outermost: both playbooks of one size run back to back, under the same machine conditions.
    rows = [result.summary() for size in settings.sizes for playbook in PLAYBOOKS
            for result in bench_size(settings, playbook, size, seeds)]
    checked: list[dict[str, t.Any]] = []
    if settings.model_hosts > 0:
        print(f"bench: model check, {settings.model_hosts} hosts, forks {settings.model_forks}, simulated latency "
              f"{settings.model_latency_s:g} s per execution", flush=True)
        checked = model_check(settings, seeds)
    meta["bench_wall_s"] = round(time.monotonic() - started, 1)
    print(write_reports(settings, meta, rows, checked))
    print(f"bench: {meta['bench_wall_s']} s; results in {settings.out}/")
    return 0 if all(row["ok"] for row in rows + checked) else 1


if __name__ == "__main__":
    sys.exit(main())
