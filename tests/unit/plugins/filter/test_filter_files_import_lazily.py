# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ansible-core loads every filter file of a collection in each worker that looks up any of its filters.

Jinja2Loader.get_with_context (ansible/plugins/loader.py) iterates over all modules of the collection's filter package
for every name it resolves, and ansible-core forks a worker per task and host. What a filter file imports at its top
is therefore paid by every task of the role whose templates use an ssm.proxy filter, in every host's worker. The
filter files import their implementation when called; this keeps it so.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

FILTERS = sorted((pathlib.Path(__file__).parents[4] / "plugins" / "filter").glob("*.py"))


def _top_level_imports(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def test_the_filter_files_are_found() -> None:
    assert len(FILTERS) >= 9


@pytest.mark.parametrize("path", FILTERS, ids=[path.stem for path in FILTERS])
def test_a_filter_file_imports_no_collection_code_at_its_top(path: pathlib.Path) -> None:
    collection = [name for name in _top_level_imports(path) if name.startswith((".", "ansible_collections"))]
    assert collection == [], f"{path.name} imports {collection} at its top: import inside the filter function"


@pytest.mark.parametrize("path", FILTERS, ids=[path.stem for path in FILTERS])
def test_a_filter_file_stays_small(path: pathlib.Path) -> None:
    # Documentation strings cost little to compile; code is what the implementation modules in plugin_utils hold.
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    assert len(functions) <= 4, f"{path.name} defines {len(functions)} functions: move the implementation to plugin_utils"
