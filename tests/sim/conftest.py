# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared fixtures of the simulated-host tests.

The stand-in's module_utils are loaded by file path under private names: importing them as
``ansible_collections.ansible.windows`` would clash with the real collection and with Ansible's
collection loader, which other test directories may have installed in this process.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys
import types

import pytest

SIM_DIR = pathlib.Path(__file__).resolve().parent
MODULE_UTILS = SIM_DIR / 'collections' / 'ansible_collections' / 'ansible' / 'windows' / 'plugins' / 'module_utils'


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


@pytest.fixture(scope='session')
def sim_agent() -> types.ModuleType:
    return load_module_utils('_sim_agent')


@pytest.fixture(scope='session')
def sim_registry() -> types.ModuleType:
    return load_module_utils('_sim_registry')


@pytest.fixture(scope='session')
def sim_twins() -> types.ModuleType:
    return load_module_utils('_sim_twins')
