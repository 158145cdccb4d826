# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What stopped preflight.ps1, read from win_powershell's result as the role's step_failure filter reads it."""

from __future__ import annotations

import pytest

from ansible_collections.ssm.proxy.plugins.plugin_utils._preflight import script_error
from ansible_collections.ssm.proxy.plugins.plugin_utils._step_failure import step_failure

# win_powershell's error record (ansible.windows win_powershell.ps1, Result.error) for a throwing script.
RECORD = {"output": "preflight.ps1 : Cannot determine the AWS region", "error_details": None,
          "exception": {"message": "Cannot determine the AWS region: set ssm_proxy_region.", "type": "System.Exception"}}


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ({"changed": False, "error": [], "output": []}, ""),
        ({"changed": False, "error": [RECORD]}, "Cannot determine the AWS region: set ssm_proxy_region."),
        ({"error": [{"output": "", "error_details": "details"}]}, "details"),
        ({"error": [""]}, "the script wrote an error record"),
        ({"failed": True, "msg": "Failed to create the runspace"}, "Failed to create the runspace"),
        ({"failed": True}, "win_powershell failed without a message"),
    ],
)
def test_what_stopped_the_script(result, message: str) -> None:
    assert script_error(result) == message


def test_a_record_reads_the_same_for_the_pre_flight_and_for_step_failure() -> None:
    for record in (RECORD, {"output": "plain text"}, {"output": "", "error_details": "details"}, ""):
        assert script_error({"error": [record]}) == step_failure({"failed_when_result": False, "error": [record]})
