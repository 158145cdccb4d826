# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every PowerShell script the collection sends parses with the PowerShell grammar (no pwsh exists here)."""

from __future__ import annotations

import pathlib

import pytest

tree_sitter = pytest.importorskip("tree_sitter")
tree_sitter_powershell = pytest.importorskip("tree_sitter_powershell")

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "plugins").rglob("*.ps1"))


def parse(source: bytes):
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    return parser.parse(source)


def error_lines(node) -> list[int]:
    """1-based lines of every ERROR or MISSING node."""
    found = []
    if node.type == "ERROR" or node.is_missing:
        found.append(node.start_point[0] + 1)
    for child in node.children:
        found.extend(error_lines(child))
    return found


def test_scripts_exist() -> None:
    assert SCRIPTS, "no PowerShell scripts found under plugins/"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_script_parses(script: pathlib.Path) -> None:
    tree = parse(script.read_bytes())
    assert not error_lines(tree.root_node), f"{script.name}: syntax errors at lines {error_lines(tree.root_node)}"
    assert b"# ssm.proxy script: " in script.read_bytes()[:200], "the simulated host's twin dispatches on this marker"


def test_the_checker_finds_errors() -> None:
    assert error_lines(parse(b"if ($x { Write-Output }\n").root_node)
