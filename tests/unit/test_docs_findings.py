# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/diagnosing.md lists every finding code the collection emits, with its severity."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Where findings are made: the diagnosis core (diagnosis.add("code", SEVERITY, ...)) and the info module's own
# ({"code": "...", "severity": "..."}).
EMITTERS = [ROOT / "plugins" / "plugin_utils" / "_diagnosis.py", ROOT / "plugins" / "action" / "ssm_agent_proxy_info.py",
            ROOT / "plugins" / "plugin_utils" / "_backup.py"]
SEVERITIES = {"ERROR": "error", "WARNING": "warning", "INFO": "info"}


def emitted() -> dict[str, set[str]]:
    codes: dict[str, set[str]] = {}
    for path in EMITTERS:
        text = path.read_text(encoding="utf-8")
        for code, severity in re.findall(r'\.add\(\s*"([a-z0-9_]+)",\s*(ERROR|WARNING|INFO)\b', text):
            codes.setdefault(code, set()).add(SEVERITIES[severity])
        for code, severity in re.findall(r'"code": "([a-z0-9_]+)",\s*"severity": "([a-z]+)"', text):
            codes.setdefault(code, set()).add(severity)
        # A severity chosen by a conditional expression: "code", A if ... else B.
        for code, first, second in re.findall(r'\.add\(\s*"([a-z0-9_]+)",\s*(ERROR|WARNING|INFO) if .*? else (ERROR|WARNING|INFO)\b', text):
            codes.setdefault(code, set()).update({SEVERITIES[first], SEVERITIES[second]})
        # A code chosen by a conditional expression: "a" if ... else "b", SEVERITY.
        for first, second, severity in re.findall(r'\.add\(\s*"([a-z0-9_]+)" if .*? else "([a-z0-9_]+)",\s*(ERROR|WARNING|INFO)\b', text):
            for code in (first, second):
                codes.setdefault(code, set()).add(SEVERITIES[severity])
    return codes


def documented() -> dict[str, set[str]]:
    """Code -> the severities its row names (``warning / info``, ``warning (info for ...)``)."""
    text = (ROOT / "docs" / "diagnosing.md").read_text(encoding="utf-8")
    table = text.split("## Every finding code", 1)[1]
    rows = re.findall(r"^\| `([a-z0-9_]+)` \| ([^|]+) \|", table, flags=re.MULTILINE)
    return {code: set(re.findall(r"\b(error|warning|info)\b", cell)) for code, cell in rows}


def test_every_emitted_code_is_documented_with_its_severity() -> None:
    codes, table = emitted(), documented()
    assert len(codes) >= 19
    assert set(codes) == set(table), {"undocumented": set(codes) - set(table), "no longer emitted": set(table) - set(codes)}
    wrong = {code: (severities, table[code]) for code, severities in codes.items() if severities != table[code]}
    assert not wrong, wrong
