# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared fixtures of the simulated-host tests.

The stand-in's module_utils are loaded by file path under private names: importing them as
``ansible_collections.ansible.windows`` would clash with the real collection and with Ansible's
collection loader, which other test directories may have installed in this process. The files that
import their siblings through that package name see it only while they load.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys
import types

import pytest

SIM_DIR = pathlib.Path(__file__).resolve().parent
MODULE_UTILS = SIM_DIR / 'collections' / 'ansible_collections' / 'ansible' / 'windows' / 'plugins' / 'module_utils'
PACKAGE = 'ansible_collections.ansible.windows.plugins.module_utils'


def load_module_utils(name: str) -> types.ModuleType:
    """Load a self-contained module_utils file of the stand-in (no imports of the collection itself)."""
    module_name = f'ssm_proxy_tests_sim_{name.lstrip("_")}'
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, MODULE_UTILS / f'{name}.py')
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses looks the module up in sys.modules while the class body runs.
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def load_module_utils_importing(name: str, siblings: tuple[str, ...]) -> types.ModuleType:
    """Load a module_utils file that imports ``siblings`` through the stand-in's package name.

    The siblings (loaded by file path first) are put in ``sys.modules`` under
    ``ansible_collections.ansible.windows.plugins.module_utils`` only while the file executes; whatever
    was there before (the real collection's package, say) is put back afterwards.
    """
    module_name = f'ssm_proxy_tests_sim_{name.lstrip("_")}'
    if module_name in sys.modules:
        return sys.modules[module_name]
    loaded = {sibling: load_module_utils(sibling) for sibling in siblings}
    names = [PACKAGE] + [f'{PACKAGE}.{sibling}' for sibling in siblings]
    saved = {entry: sys.modules[entry] for entry in names if entry in sys.modules}
    package = types.ModuleType(PACKAGE)
    package.__path__ = []
    for sibling, module in loaded.items():
        setattr(package, sibling, module)
        sys.modules[f'{PACKAGE}.{sibling}'] = module
    sys.modules[PACKAGE] = package
    try:
        return load_module_utils(name)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    finally:
        for entry in names:
            sys.modules.pop(entry, None)
        sys.modules.update(saved)


@pytest.fixture(scope='session')
def sim_agent() -> types.ModuleType:
    return load_module_utils('_sim_agent')


@pytest.fixture(scope='session')
def sim_registry() -> types.ModuleType:
    return load_module_utils('_sim_registry')


@pytest.fixture(scope='session')
def sim_twins() -> types.ModuleType:
    """_sim_twins; it imports the self-contained _sim_network."""
    return load_module_utils_importing('_sim_twins', ('_sim_network', '_sim_registry'))


@pytest.fixture(scope='session')
def sim_network() -> types.ModuleType:
    return load_module_utils('_sim_network')


@pytest.fixture(scope='session')
def sim_services() -> types.ModuleType:
    """_sim_services (services and the agent start, with faults); it imports _sim_agent and _sim_registry."""
    return load_module_utils_importing('_sim_services', ('_sim_agent', '_sim_registry', '_sim_network'))


@pytest.fixture(scope='session')
def sim_host(sim_services: types.ModuleType) -> types.ModuleType:
    """_sim_host, for ``HostState`` (what the twins get in the module, with ``restart_service_detached``)."""
    del sim_services  # loaded first: _sim_host imports it
    return load_module_utils_importing('_sim_host', ('_sim_acl', '_sim_registry', '_sim_services'))
