# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Merging the proxy variables into the service Environment lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.ssm.proxy.plugins.plugin_utils._environment import (
    line_name,
    read_variables,
    redact_lines,
    set_variables,
)

WANTED = {"http_proxy": "http://p:3128", "https_proxy": "http://p:3128", "no_proxy": "169.254.169.254"}
RESET = {"http_proxy": None, "https_proxy": None, "no_proxy": None}


def test_new_variables_are_appended_after_foreign_lines() -> None:
    assert set_variables(["FOO=bar", "Path=C:\\x"], WANTED) == [
        "FOO=bar", "Path=C:\\x", "http_proxy=http://p:3128", "https_proxy=http://p:3128", "no_proxy=169.254.169.254",
    ]


def test_existing_variables_keep_their_place_any_case_and_duplicates_go() -> None:
    lines = ["HTTP_PROXY=http://old:1", "FOO=bar", "http_proxy=http://older:2", "No_Proxy=x", "ZED=1"]
    assert set_variables(lines, WANTED) == [
        "http_proxy=http://p:3128", "FOO=bar", "no_proxy=169.254.169.254", "ZED=1", "https_proxy=http://p:3128",
    ]


def test_reset_removes_only_proxy_lines() -> None:
    lines = ["A=1", "https_proxy=x", "weird line", "", "HTTP_PROXY=y", "B==2"]
    assert set_variables(lines, RESET) == ["A=1", "weird line", "", "B==2"]


def test_unchanged_block_is_identical() -> None:
    lines = ["FOO=bar", "http_proxy=http://p:3128", "https_proxy=http://p:3128", "no_proxy=169.254.169.254"]
    assert set_variables(lines, WANTED) == lines


def test_read_variables_first_wins() -> None:
    assert read_variables(["HTTP_PROXY=a", "http_proxy=b", "x"]) == {"http_proxy": "a", "https_proxy": None, "no_proxy": None}


def test_line_name() -> None:
    assert line_name("A=b=c") == "a"
    assert line_name("=C:=C:\\") is None
    assert line_name("no equals") is None


def test_redact_lines() -> None:
    assert redact_lines(["http_proxy=http://u:pw@p:1", "FOO=bar"]) == ["http_proxy=http://u:********@p:1", "FOO=bar"]


FOREIGN = st.lists(st.from_regex(r"[A-Z][A-Z0-9_]{0,8}=[ -~]{0,12}", fullmatch=True).filter(
    lambda line: line_name(line) not in WANTED), max_size=6)


@given(foreign=FOREIGN)
def test_foreign_lines_survive_set_and_reset_in_order(foreign: list[str]) -> None:
    applied = set_variables(foreign, WANTED)
    assert [line for line in applied if line_name(line) not in WANTED] == foreign
    assert set_variables(applied, WANTED) == applied  # idempotent
    assert set_variables(applied, RESET) == foreign


def test_a_line_with_the_wanted_value_keeps_its_name_case() -> None:
    # Windows and the agent read names case-insensitively: HTTP_PROXY=<wanted> is already right.
    lines = ["HTTP_PROXY=http://p:3128", "HTTPS_PROXY=http://p:3128", "NO_PROXY=169.254.169.254"]
    assert set_variables(lines, WANTED) == lines


def test_a_value_that_differs_only_in_case_is_rewritten() -> None:
    lines = ["http_proxy=http://u:Secret@p:3128"]
    assert set_variables(lines, {"http_proxy": "http://u:secret@p:3128"}) == ["http_proxy=http://u:secret@p:3128"]
