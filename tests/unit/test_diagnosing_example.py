# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/diagnosing.md's "where does this endpoint's traffic go" example is real: run it and compare."""

from __future__ import annotations

import pathlib
import re

import yaml

from ansible_collections.ssm.proxy.plugins.filter.core import effective_agent_proxy

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "diagnosing.md"


def block(marker: str) -> object:
    """The YAML code block right after ``<!-- marker -->`` in the guide."""
    match = re.search(rf"<!-- {marker} -->\n```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert match, f"{marker} block missing from {DOC.name}"
    return yaml.safe_load(match.group(1))


def test_routes_example_gives_what_the_guide_shows() -> None:
    result = effective_agent_proxy(block("routes-example-input"))
    assert result["routes"] == block("routes-example-output")
    codes = {finding["code"] for finding in result["findings"]}
    assert {"imds_not_bypassed", "ie_wildcard_ignored"} <= codes  # the findings the guide's reading names
