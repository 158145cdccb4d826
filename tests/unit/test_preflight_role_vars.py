# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which endpoints the role's pre-flight requests and which of them block, per connection and ssm_proxy_preflight_s3.

The simulated hosts always run over the `local` connection (tests/sim/playbook sets it as an extra variable), so
the aws_ssm case of roles/agent_proxy/vars/main.yml is templated here with Ansible's own Templar.
"""

from __future__ import annotations

import pathlib
import typing as t

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLE = pathlib.Path(__file__).resolve().parents[2] / "roles" / "agent_proxy"
SSM = ["ssm", "ec2messages", "ssmmessages"]


def _trusted(value: t.Any) -> t.Any:
    """Role files as the play loader hands them to the templar: their strings are trusted templates."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: _trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    return value


def _template(expression: str, **variables: t.Any) -> t.Any:
    loader = DataLoader()
    role = {**loader.load_from_file(str(ROLE / "defaults" / "main.yml")), **loader.load_from_file(str(ROLE / "vars" / "main.yml"))}
    return Templar(loader=loader, variables={**_trusted(role), **variables}).template(trust_as_template(expression))


@pytest.mark.parametrize("connection, s3, probed, required", [
    ("amazon.aws.aws_ssm", "auto", SSM + ["s3"], SSM + ["s3"]),
    ("community.aws.aws_ssm", "auto", SSM + ["s3"], SSM + ["s3"]),
    ("psrp", "auto", SSM + ["s3"], SSM),
    ("winrm", "auto", SSM + ["s3"], SSM),
    ("winrm", "required", SSM + ["s3"], SSM + ["s3"]),
    ("amazon.aws.aws_ssm", "warn", SSM + ["s3"], SSM),
    ("amazon.aws.aws_ssm", "skip", SSM, SSM),
])
def test_s3_blocks_over_aws_ssm_only(connection: str, s3: str, probed: list[str], required: list[str]) -> None:
    assert _template("{{ __ssm_proxy_preflight_probed }}", ansible_connection=connection, ssm_proxy_preflight_s3=s3) == probed
    assert _template("{{ __ssm_proxy_preflight_required }}", ansible_connection=connection, ssm_proxy_preflight_s3=s3) == required


def test_s3_listed_by_the_user_is_probed_once_and_blocks() -> None:
    services = SSM + ["s3"]
    variables = {"ansible_connection": "psrp", "ssm_proxy_preflight_s3": "auto", "ssm_proxy_preflight_services": services}
    assert _template("{{ __ssm_proxy_preflight_probed }}", **variables) == services
    assert _template("{{ __ssm_proxy_preflight_required }}", **variables) == services
