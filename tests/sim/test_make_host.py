# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""tests/sim/make_host.py writes hosts the collection reads as the real ones they stand for."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

pytestmark = pytest.mark.integration

SIM_DIR = pathlib.Path(__file__).resolve().parent
ROOT = SIM_DIR.parents[1]
HOSTS = {
    "plain": [],
    "netsh2019": ["--windows", "2019", "--agent", "3.2.582.0", "--winhttp-netsh", "proxy.example.com:3128"],
    "old2008": ["--windows", "2008r2"],
    "stopped": ["--agent-proxy", "http://proxy.example.com:3128", "--agent-env", "AWS_REGION=eu-west-1", "--agent-stopped"],
    "bare": ["--no-agent", "--no-imds"],
}


def make(directory: pathlib.Path, name: str, *options: str) -> None:
    subprocess.run([sys.executable, str(SIM_DIR / "make_host.py"), str(directory / f"{name}.json"), *options,
                    "--inventory", str(directory / "inventory.yml")], check=True)


def test_hosts_read_as_what_they_stand_for(tmp_path: pathlib.Path) -> None:
    for name, options in HOSTS.items():
        make(tmp_path, name, *options)
    inventory = yaml.safe_load((tmp_path / "inventory.yml").read_text(encoding="utf-8"))
    assert list(inventory["windows"]["hosts"]) == list(HOSTS)
    assert json.loads((tmp_path / "bare.json").read_text())["services"] == {}

    report_dir = tmp_path / "report"
    result = subprocess.run([str(SIM_DIR / "playbook"), "-i", str(tmp_path / "inventory.yml"), str(ROOT / "playbooks" / "report.yml"),
                             "-e", f"ssm_proxy_report_dir={report_dir}"], capture_output=True, text=True, check=False,
                            env=dict(os.environ))
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {row["host"]: row for row in json.loads((report_dir / "report.json").read_text())["hosts"]}
    codes = {host: {item["code"] for item in row["findings"]} for host, row in rows.items()}
    assert rows["plain"]["status"] == "no_target" and rows["plain"]["ssm_direct"] and codes["plain"] == set()
    assert rows["netsh2019"]["effective_source"]["proxy"] == "winhttp" and "https_direct" in codes["netsh2019"]
    assert rows["netsh2019"]["agent_version"] == "3.2.582.0"
    assert rows["old2008"]["agent_version"] == "2.3.1644.0" and "windows_2008_agent_limit" in codes["old2008"]
    assert rows["stopped"]["effective"]["https_proxy"] == "http://proxy.example.com:3128"
    assert rows["stopped"]["effective_source"]["proxy"] == "service_registry" and not rows["stopped"]["ssm_direct"]
    assert "agent_not_installed" in codes["bare"]


def test_contradicting_options_are_refused(tmp_path: pathlib.Path) -> None:
    result = subprocess.run([sys.executable, str(SIM_DIR / "make_host.py"), str(tmp_path / "x.json"), "--no-agent", "--agent-stopped"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "--no-agent: there is no service" in result.stderr
    assert not (tmp_path / "x.json").exists()
