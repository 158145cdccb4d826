# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filter ssm.proxy.step_failure: what a step that was kept from failing the host said."""

from __future__ import annotations

DOCUMENTATION = r"""
name: step_failure
author:
  - ssm.proxy maintainers (@ssm-proxy)
version_added: 0.2.0
short_description: The message of a registered result that failed, also under failed_when false
description:
  - A task that fails inside a C(block) prints its failure, and the C(rescue) that rolls back prints another one. The role
    C(ssm.proxy.agent_proxy) runs its steps with C(failed_when=false) instead, and fails the host once, after the rollback,
    with one message. C(failed_when) replaces the result's C(failed), so this filter recognises a failure from what the
    modules the role runs return when they fail.
  - A failure of an Ansible.Basic module (C(FailJson)) or of an action plugin carries C(msg); none of the modules the role
    runs this way returns C(msg) when it succeeds.
  - A C(ansible.windows.win_powershell) script that throws returns its error records in C(error); the role's scripts set
    C($ErrorActionPreference = 'Stop'), so any error record ended the script. The record's exception message is returned.
  - A loop's result fails with its first failed item, and a list of results with its first failed result, so that one call tells
    whether any of the steps so far failed. A skipped, undefined or C(none) result did not fail.
positional: _input
options:
  _input:
    description: A registered result, or a list of them.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Restart a service, and say what failed only after putting things back
  ansible.windows.win_service:
    name: NoSuchService
    state: restarted
  register: restart
  failed_when: false

- name: Fail the host once, with the step's own message
  ansible.builtin.debug:
    msg: "Restart failed: {{ restart | ssm.proxy.step_failure }}"
  when: restart | ssm.proxy.step_failure | length > 0
  # Restart failed: Service 'NoSuchService' is not installed, need to set 'path' to create a new service
"""

RETURN = r"""
_value:
  description: The failure's message, or an empty string when the step did not fail.
  type: string
"""

import typing as t
from collections.abc import Mapping, Sequence


def _record_message(record: t.Any) -> str:
    """The exception message of a win_powershell error record (its ``exception.message``), else its text."""
    if not isinstance(record, Mapping):
        return str(record)
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
        return _record_message(errors[0])
    if result.get("failed") is True or "failed_when_result" in result:
        # failed_when: false leaves `failed` False; a failure still says why in `msg`.
        if result.get("msg"):
            return str(result["msg"])
        if result.get("failed") is True:
            return "failed without a message"
    return ""


class FilterModule:
    """ssm.proxy filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"step_failure": step_failure}
