# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Doc-only modules and their action plugins agree, and ansible-doc renders every module.

The modules are action plugins whose argument spec lives in Python; validate-modules cannot compare it
with the documentation (there is no AnsibleModule to introspect), so this test does.
"""

from __future__ import annotations

import importlib
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

from ansible_collections.ssm.proxy.plugins.plugin_utils._action import BACKUP_OPTION, RUN_OPTION, SettingsAction

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODULES = sorted(path.stem for path in (ROOT / "plugins" / "modules").glob("*.py") if path.stem != "__init__")
# Real (controller-side) modules such as ssm_instance_status build an AnsibleModule: validate-modules checks those.
ACTION_MODULES = [name for name in MODULES if (ROOT / "plugins" / "action" / f"{name}.py").exists()]


def documentation(name: str) -> dict:
    namespace: dict = {}
    exec(compile((ROOT / "plugins" / "modules" / f"{name}.py").read_text(encoding="utf-8"), name, "exec"), namespace)  # pylint: disable=exec-used
    return yaml.safe_load(namespace["DOCUMENTATION"])


def argument_spec(name: str) -> dict:
    """The spec the action plugin validates against (SettingsAction adds the backup and run options)."""
    module = importlib.import_module(f"ansible_collections.ssm.proxy.plugins.action.{name}")
    spec = dict(module.ARGUMENT_SPEC)
    if issubclass(module.ActionModule, SettingsAction) and module.ActionModule.SUPPORTS_BACKUP:
        spec["backup"] = BACKUP_OPTION
        spec["run"] = RUN_OPTION
    return spec


def documented_options(name: str) -> dict:
    """The module's options including those of the collection's own documentation fragments."""
    doc = documentation(name)
    options = dict(doc.get("options") or {})
    for fragment in doc.get("extends_documentation_fragment", []):
        if fragment.startswith("ssm.proxy."):
            source = (ROOT / "plugins" / "doc_fragments" / f"{fragment.split('.')[-1]}.py").read_text(encoding="utf-8")
            namespace: dict = {}
            exec(compile(source, fragment, "exec"), namespace)  # pylint: disable=exec-used
            options.update(yaml.safe_load(namespace["ModuleDocFragment"].DOCUMENTATION)["options"])
    return options


def test_modules_found() -> None:
    assert "ssm_agent_proxy" in MODULES


@pytest.mark.parametrize("name", ACTION_MODULES)
def test_documented_options_match_the_argument_spec(name: str) -> None:
    options = documented_options(name)
    spec = argument_spec(name)
    assert sorted(options) == sorted(spec)
    for option, doc in options.items():
        arg = spec[option]
        assert doc.get("type", "str") == arg.get("type", "str"), option
        assert doc.get("default") == arg.get("default"), option
        assert doc.get("choices") == arg.get("choices"), option
        assert doc.get("elements") == arg.get("elements"), option
        assert doc.get("required", False) == arg.get("required", False), option
        assert sorted(doc.get("aliases", [])) == sorted(arg.get("aliases", [])), option
        if arg.get("options") or doc.get("suboptions"):
            assert sorted(doc.get("suboptions") or {}) == sorted(arg.get("options") or {}), option
            for name, sub in (doc.get("suboptions") or {}).items():
                sub_arg = arg["options"][name]
                assert (sub.get("type", "str"), sub.get("default"), sub.get("required", False)) == (
                    sub_arg.get("type", "str"), sub_arg.get("default"), sub_arg.get("required", False)), f"{option}.{name}"
        if "password" in option:
            assert arg.get("no_log") is True, f"{option} must be no_log"


@pytest.mark.parametrize("name", MODULES)
def test_ansible_doc_renders(name: str) -> None:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=f"{ROOT}/.cache/self:{ROOT}/.cache/collections", ANSIBLE_NOCOLOR="1")
    if name not in ACTION_MODULES:
        # ansible-core 2.21's ansible-doc imports a real module, and amazon.aws 10's module_utils use a deprecated import.
        env["ANSIBLE_DEPRECATION_WARNINGS"] = "0"
    ansible_doc = pathlib.Path(sys.executable).with_name("ansible-doc")
    result = subprocess.run([str(ansible_doc), f"ssm.proxy.{name}"], capture_output=True, text=True, env=env, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "EXAMPLES" in result.stdout and "RETURN VALUES" in result.stdout
    assert "[WARNING]" not in result.stderr, result.stderr
