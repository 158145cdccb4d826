# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's list of its own variables (vars/main.yml) is its argument spec's: the unknown-variable warning relies on it."""

from __future__ import annotations

import pathlib

import yaml

ROLE = pathlib.Path(__file__).resolve().parents[2] / "roles" / "agent_proxy"


def test_known_variables_are_the_argument_spec_options() -> None:
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    listed = yaml.safe_load((ROLE / "vars" / "main.yml").read_text(encoding="utf-8"))["__ssm_proxy_known_variables"]
    assert listed == list(spec["argument_specs"]["main"]["options"])


def test_every_option_has_a_default() -> None:
    """A variable the role knows but does not default would be undefined in the tasks."""
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))["argument_specs"]["main"]["options"]
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
    assert set(spec) <= set(defaults)
