# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ssm.proxy.step_failure against the result shapes of the modules the role runs with failed_when: false."""

from __future__ import annotations

import pytest

from ansible_collections.ssm.proxy.plugins.filter.core import step_failure

# win_powershell's error record (ansible.windows win_powershell.ps1, Result.error) for a throwing script.
RECORD = {"output": "preflight.ps1 : Cannot determine the AWS region", "error_details": None,
          "exception": {"message": "Cannot determine the AWS region: set ssm_proxy_region.", "type": "System.Exception"},
          "fully_qualified_error_id": "Cannot determine the AWS region", "category_info": {"category": "NotSpecified"}}


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (None, ""),
        ({"skipped": True, "changed": False}, ""),
        # Ansible.Basic's FailJson (win_service, win_acl) and an action plugin's failure, under failed_when: false.
        ({"failed": False, "failed_when_result": False, "msg": "Failed to start service 'AmazonSSMAgent'"},
         "Failed to start service 'AmazonSSMAgent'"),
        # The same failure without failed_when (a task that failed).
        ({"failed": True, "msg": "refused"}, "refused"),
        ({"failed": True}, "failed without a message"),
        # Success: win_powershell's empty error list, a module's result without msg.
        ({"failed": False, "failed_when_result": False, "changed": True, "error": [], "result": {"endpoints": []}}, ""),
        ({"failed": False, "changed": True, "msg": "a message on success without failed_when"}, ""),
        # A throwing script: its exception's message, not win_powershell's.
        ({"failed": False, "failed_when_result": False, "error": [RECORD]}, "Cannot determine the AWS region: set ssm_proxy_region."),
        ({"failed": False, "failed_when_result": False, "error": [{"output": "plain text"}]}, "plain text"),
        # A record with nothing to show still ended the script ($ErrorActionPreference = 'Stop').
        ({"failed": False, "failed_when_result": False, "error": [""]}, "the script wrote an error record"),
        ({"failed": False, "failed_when_result": False, "error": [{"output": "", "error_details": "details"}]}, "details"),
        # A loop's first failed item; a list of results' first failed result.
        ({"results": [{"changed": True}, {"failed_when_result": False, "msg": "second item refused"}]}, "second item refused"),
        ([{"skipped": True}, {"changed": True}, {"failed_when_result": False, "msg": "third"}, {"failed": True, "msg": "fourth"}],
         "third"),
        ([{"skipped": True}, None], ""),
    ],
)
def test_the_failure_of_each_result_shape(result, message: str) -> None:
    assert step_failure(result) == message
