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
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import json
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


@dataclasses.dataclass
class RunResult:
    """One ansible-playbook run against one fleet, per-host figures included."""

    playbook: str
    phase: str
    hosts: int
    returncode: int
    wall_s: float
    cpu_s: float
    module_cpu_s: float
    executions: list[int]
    restarts: list[int]
    changed_hosts: int
    modules: dict[str, int]
    load_1min: float

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
            "modules": self.modules,
            # The machine's 1-minute load average when the run ended (other work on the machine shows here).
            "load_1min": self.load_1min,
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


def changed_host_count(log: str) -> int:
    return len(re.findall(r"^\S+\s+: ok=\d+\s+changed=[1-9]", log, re.M))


def run_playbook(settings: Settings, playbook: str, phase: str, directory: pathlib.Path, names: t.Sequence[str]) -> RunResult:
    """One measured ansible-playbook run; executions and restarts are the per-host differences it made."""
    before = read_states(directory, names)
    wrapper = write_interpreter_wrapper(directory / f"run-{phase}")
    command = [str(RUNNER), "-i", str(directory / "inventory.yml"), str(PLAYBOOKS[playbook]),
               "-e", json.dumps(PLAYBOOK_VARS[playbook]), "-e", json.dumps({"ansible_python_interpreter": str(wrapper)}),
               "--forks", str(settings.forks)]
    if phase == "check":
        command.append("--check")
    env = dict(os.environ, ANSIBLE_PIPELINING="True", ANSIBLE_STRATEGY=settings.strategy, SIM_SEED="bench",
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    log_path = directory / f"run-{phase}.log"
    cpu_before = children_cpu_seconds()
    started = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env, check=False)
    wall = time.monotonic() - started
    cpu = children_cpu_seconds() - cpu_before
    after = read_states(directory, names)
    modules: dict[str, int] = {}
    for name in names:
        for call in after[name].get("calls", [])[len(before[name].get("calls", [])):]:
            short = call["module"].rsplit(".", 1)[-1]
            modules[short] = modules.get(short, 0) + 1
    return RunResult(
        playbook=playbook, phase=phase, hosts=len(names), returncode=process.returncode, wall_s=wall, cpu_s=cpu,
        module_cpu_s=module_cpu_seconds(directory / f"run-{phase}"),
        executions=[len(after[n].get("calls", [])) - len(before[n].get("calls", [])) for n in names],
        restarts=[startups(after[n]) - startups(before[n]) for n in names],
        changed_hosts=changed_host_count(log_path.read_text(encoding="utf-8")), modules=dict(sorted(modules.items())),
        load_1min=round(os.getloadavg()[0], 2),
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


# --- Reporting ---------------------------------------------------------------------------------------------

def ratio(numerator: float, denominator: float) -> float | str | None:
    """numerator / denominator; "0/0" when both are zero (nothing to compare), None when only the denominator is."""
    if not denominator:
        return "0/0" if not numerator else None
    return round(numerator / denominator, 2)


def comparisons(rows: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """ssm.proxy against the baseline of the same size and phase, measured in this invocation."""
    index = {(row["playbook"], row["phase"], row["hosts"]): row for row in rows}
    out = []
    for (playbook, phase, hosts), row in sorted(index.items(), key=lambda item: (item[0][2], PHASES.index(item[0][1]))):
        base = index.get(("baseline", phase, hosts))
        if playbook != "ssm.proxy" or base is None:
            continue
        out.append({
            "hosts": hosts, "phase": phase,
            "executions_ratio": ratio(row["executions_per_host"], base["executions_per_host"]),
            "restarts_ratio": ratio(row["restarts_per_host"], base["restarts_per_host"]),
            "wall_ratio": ratio(row["wall_s"], base["wall_s"]),
            "controller_cpu_ratio": ratio(row["controller_cpu_s"], base["controller_cpu_s"]),
        })
    return out


def least_squares_slope(points: t.Sequence[tuple[float, float]]) -> float:
    """Slope of the least-squares line through (x, y) points; 0 when x does not vary."""
    xs = [point[0] for point in points]
    ys = [point[1] for point in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    denominator = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / denominator if denominator else 0.0


def cpu_slopes(rows: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """Least-squares slope of controller CPU per host against fleet size, per playbook and phase."""
    out = []
    for playbook in PLAYBOOKS:
        for phase in PHASES:
            points = sorted((row["hosts"], row["controller_cpu_ms_per_host"]) for row in rows
                            if row["playbook"] == playbook and row["phase"] == phase and row["ok"])
            if len(points) < 2:
                continue
            slope = least_squares_slope(points)
            out.append({"playbook": playbook, "phase": phase, "points": points,
                        "slope_ms_per_host_per_100_hosts": round(100 * slope, 2),
                        "marginal_ms_per_host": marginal_cpu_ms(rows, playbook, phase),
                        "change_smallest_to_largest": ratio(points[-1][1], points[0][1])})
    return out


def marginal_cpu_ms(rows: list[dict[str, t.Any]], playbook: str, phase: str) -> float:
    """Least-squares slope of the run's total controller CPU against fleet size: the CPU one more host costs."""
    points = [(row["hosts"], 1000 * row["controller_cpu_s"]) for row in rows
              if row["playbook"] == playbook and row["phase"] == phase and row["ok"]]
    return round(least_squares_slope(points), 1)


def fmt(value: t.Any) -> str:
    return "n/a" if value is None else str(value)


def markdown(meta: dict[str, t.Any], rows: list[dict[str, t.Any]], compared: list[dict[str, t.Any]],
             slopes: list[dict[str, t.Any]]) -> str:
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
    lines += ["", "ssm.proxy / baseline (same size and phase, this run):", "",
              "| hosts | phase | executions | restarts | wall time | controller CPU |", "|---:|---|---:|---:|---:|---:|"]
    for item in compared:
        lines.append(f"| {item['hosts']} | {item['phase']} | {fmt(item['executions_ratio'])} | {fmt(item['restarts_ratio'])} | "
                     f"{fmt(item['wall_ratio'])} | {fmt(item['controller_cpu_ratio'])} |")
    lines += ["", "Controller CPU per host against fleet size (least squares):", "",
              "| playbook | phase | ms/host at each size | slope (ms/host per 100 more hosts) | marginal ms per added host |",
              "|---|---|---|---:|---:|"]
    for item in slopes:
        points = ", ".join(f"{x}: {y}" for x, y in item["points"])
        lines.append(f"| {item['playbook']} | {item['phase']} | {points} | {item['slope_ms_per_host_per_100_hosts']} | "
                     f"{item['marginal_ms_per_host']} |")
    measured = {(row["phase"], row["hosts"]) for row in rows}
    not_measured = [f"{phase} at {size}" for size in meta["sizes"] for phase in PHASES if (phase, size) not in measured]
    if not_measured:
        lines += ["", f"Not measured (too slow for `make bench` on 2 cores; BENCH_FIRST_SIZES / BENCH_CHECK_SIZES): "
                      f"{', '.join(not_measured)} hosts."]
    return "\n".join(lines) + "\n"


def plot(rows: list[dict[str, t.Any]], path: pathlib.Path) -> None:
    """Executions per host and wall time against fleet size, one line per playbook and phase."""
    import matplotlib  # pylint: disable=import-outside-toplevel  # installed by bench/run only
    matplotlib.use("Agg")
    from matplotlib import pyplot  # pylint: disable=import-outside-toplevel

    figure, (executions, wall) = pyplot.subplots(1, 2, figsize=(12, 4.5))
    for playbook, style in (("ssm.proxy", "-"), ("baseline", "--")):
        for phase, marker in (("first", "o"), ("no-change", "s"), ("check", "^")):
            points = sorted((r["hosts"], r["executions_per_host"], r["wall_s"]) for r in rows
                            if r["playbook"] == playbook and r["phase"] == phase and r["ok"])
            if not points:
                continue
            label = f"{playbook} {phase}"
            executions.plot([p[0] for p in points], [p[1] for p in points], style, marker=marker, label=label)
            wall.plot([p[0] for p in points], [p[2] for p in points], style, marker=marker, label=label)
    executions.set(xscale="log", xlabel="hosts", ylabel="module executions per host", title="Round trips per host")
    wall.set(xscale="log", yscale="log", xlabel="hosts", ylabel="controller wall time (s)", title="Wall time of the run (simulated hosts)")
    for axes in (executions, wall):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def ansible_core_version() -> str:
    output = subprocess.run([str(VENV_PYTHON), "-c", "import ansible.release as r; print(r.__version__)"],
                            capture_output=True, text=True, check=False)
    return output.stdout.strip() or "unknown"


def write_reports(settings: Settings, meta: dict[str, t.Any], rows: list[dict[str, t.Any]]) -> str:
    """The JSON, the Markdown table and the plot; returns the table."""
    compared, slopes = comparisons(rows), cpu_slopes(rows)
    name = "bench" + (f"-{settings.tag}" if settings.tag else "")
    document = {"meta": meta, "runs": rows, "ratios": compared, "cpu_slopes": slopes}
    (settings.out / f"{name}.json").write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    table = markdown(meta, rows, compared, slopes)
    (settings.out / f"{name}.md").write_text(table, encoding="utf-8")
    plot(rows, settings.out / f"{name}.png")
    return table


def report_only(settings: Settings, path: pathlib.Path) -> int:
    """Rebuild the Markdown, plot and derived figures from an earlier run's JSON (``--report-only FILE``)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    print(write_reports(settings, document["meta"], document["runs"]))
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
    }
    print(f"bench: no-change runs at {meta['sizes']}, first runs at {meta['first_sizes']}, check mode at "
          f"{meta['check_sizes']}; forks {settings.forks}, "
          f"strategy {settings.strategy}", flush=True)
    started = time.monotonic()
    seeds: dict[str, list[dict[str, t.Any]]] = {}
    # Sizes outermost: both playbooks of one size run back to back, under the same machine conditions.
    rows = [result.summary() for size in settings.sizes for playbook in PLAYBOOKS
            for result in bench_size(settings, playbook, size, seeds)]
    meta["bench_wall_s"] = round(time.monotonic() - started, 1)
    print(write_reports(settings, meta, rows))
    print(f"bench: {meta['bench_wall_s']} s; results in {settings.out}/")
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
