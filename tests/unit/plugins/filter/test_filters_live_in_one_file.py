# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection's filters live in one file that imports no collection code at its top, each documented beside it.

Jinja2Loader.get_with_context (ansible/plugins/loader.py) resolves a collection filter by loading every module of the
collection's filter package and asking each for its filters, again in every new template environment, and ansible-core
forks a worker per task and host. Every filter file is therefore paid for by each role task that uses an ssm.proxy
filter, on every host, and so is what that file imports at its top. ansible-doc reads the documentation of a filter
that shares a file from the YAML file of its name (the sidecar format ansible.builtin's core filters use).
"""

from __future__ import annotations

import ast
import pathlib

import yaml

from ansible_collections.ssm.proxy.plugins.filter.core import FilterModule

FILTER_DIR = pathlib.Path(__file__).parents[4] / "plugins" / "filter"


def _top_level_imports(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def test_the_filters_live_in_one_file() -> None:
    assert [path.name for path in FILTER_DIR.glob("*.py")] == ["core.py"]


def test_the_filter_file_imports_no_collection_code_at_its_top() -> None:
    collection = [name for name in _top_level_imports(FILTER_DIR / "core.py") if name.startswith((".", "ansible_collections"))]
    assert collection == [], f"core.py imports {collection} at its top: import inside the filter function"


def test_every_filter_has_its_documentation_and_every_documentation_a_filter() -> None:
    documented = {}
    for path in FILTER_DIR.glob("*.yml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert set(document) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}, path.name
        documented[path.stem] = document["DOCUMENTATION"]["name"]
    assert all(stem == name for stem, name in documented.items()), documented
    assert sorted(documented) == sorted(FilterModule().filters())
    assert len(documented) >= 9
