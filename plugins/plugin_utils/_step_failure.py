# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The filter ssm.proxy.step_failure: what a step that was kept from failing the host said.

Private to the ssm.proxy collection (internal use): no compatibility promises.

plugins/filter/core.py imports this module only when step_failure is called: ansible-core compiles the filter file from
source in every worker process that looks up one of the collection's filters (one per task and host). The pre-flight
(_preflight.py) reads a throwing script's error record with record_message too.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping, Sequence


def record_message(record: t.Any) -> str:
    """The exception message of a win_powershell error record (its ``exception.message``), else its text."""
    if not isinstance(record, Mapping):
        return str(record) or "the script wrote an error record"
    exception = record.get("exception")
    if isinstance(exception, Mapping) and exception.get("message"):
        return str(exception["message"])
    return str(record.get("output") or record.get("error_details") or "the script wrote an error record")


def step_failure(result: t.Any) -> str:
    """'' for a step that did not fail, else the message to show for it."""
    if isinstance(result, Sequence) and not isinstance(result, (str, bytes)):
        return next((message for message in map(step_failure, result) if message), "")
    if not isinstance(result, Mapping) or result.get("skipped"):
        return ""
    items = result.get("results")
    if isinstance(items, Sequence) and not isinstance(items, (str, bytes)):
        return step_failure(items)
    errors = result.get("error")
    if isinstance(errors, Sequence) and not isinstance(errors, (str, bytes)) and errors:
        return record_message(errors[0])
    if result.get("failed") is True or "failed_when_result" in result:
        # failed_when: false leaves `failed` False; a failure still says why in `msg`.
        if result.get("msg"):
            return str(result["msg"])
        if result.get("failed") is True:
            return "failed without a message"
    return ""
