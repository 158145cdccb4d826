# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The shape every settings module of the collection shares: validate, plan, read once, write what differs.

Private to the ssm.proxy collection (internal use): no compatibility promises.
"""

from __future__ import annotations

import functools
import typing as t

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ._backup import BACKUP_KEY, DEFAULT_STALE_AFTER, BackupHost, RunInfo
from ._blobs import BlobError
from ._host import HostError, ModuleHost, WindowsHost
from ._proxy import ProxyInputError

# Every settings module takes them; documented by the ssm.proxy.backup documentation fragment.
BACKUP_OPTION = {"type": "bool", "default": False}
RUN_OPTION = {
    "type": "dict",
    "options": {
        "id": {"type": "str", "required": True},
        "owner": {"type": "str", "default": ""},
        "started": {"type": "str", "default": ""},
        "wants": {"type": "str", "default": ""},
        "stale_after": {"type": "int", "default": DEFAULT_STALE_AFTER},
    },
}


RunMethod = t.Callable[..., t.Dict[str, t.Any]]


def failures_as_results(run: RunMethod) -> RunMethod:
    """Return an AnsibleActionFail as a failed result instead of letting it leave ``run()``.

    ansible-core applies a task's ``failed_when``, ``until`` and ``register`` to what ``run()`` returns: an
    exception raised from it ends the task before any of them (TaskExecutor._execute calls ``handler.run()``
    outside the try that evaluates the conditionals, ansible-core 2.17 to 2.21). The role agent_proxy runs its
    steps with ``failed_when: false`` and fails the host once, after the rollback; used alone, the task fails
    just the same, with the same ``msg``.
    """

    @functools.wraps(run)
    def wrapper(self: ActionBase, tmp: t.Any = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        try:
            return run(self, tmp, task_vars)
        except AnsibleActionFail as error:
            return {"failed": True, "changed": False, "msg": error.message}

    return wrapper


class SettingsAction(ActionBase):
    """Base of the action plugins that manage one kind of proxy setting on a Windows host.

    Subclasses give ``ARGUMENT_SPEC`` and two functions: ``build_plan(args)``, pure, raising ProxyInputError
    on bad input before the host is touched; and ``apply(host, plan, check_mode)``, which reads through the
    seam, writes only what differs (nothing in check mode) and returns the result with ``diff`` and
    ``warnings``.
    """

    TRANSFERS_FILES = False
    _requires_connection = True
    ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {}
    # Whether the module takes the backup option, and the name of its backup value under BACKUP_KEY.
    SUPPORTS_BACKUP = True
    COMPONENT = ""

    @staticmethod
    def build_plan(args: dict[str, t.Any]) -> t.Any:
        raise NotImplementedError

    @staticmethod
    def apply(host: WindowsHost, plan: t.Any, check_mode: bool) -> dict[str, t.Any]:
        raise NotImplementedError

    @failures_as_results
    def run(self, tmp: t.Any = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        self._supports_check_mode = True
        self._supports_async = False
        result = super().run(tmp, task_vars)
        del tmp

        spec = {**self.ARGUMENT_SPEC, "backup": BACKUP_OPTION, "run": RUN_OPTION} if self.SUPPORTS_BACKUP else self.ARGUMENT_SPEC
        _validation, args = self.validate_argument_spec(argument_spec=spec)
        backup = args.pop("backup", False)
        run_options = args.pop("run", None)
        try:
            run = RunInfo.from_options(run_options)
            plan = self.build_plan(args)
            host: WindowsHost = ModuleHost(self, task_vars or {})
            if backup:
                host = BackupHost(host, self.COMPONENT, run)
            outcome = self.apply(host, plan, bool(self._task.check_mode))
            if isinstance(host, BackupHost):
                host.flush()
                outcome["backup"] = {"key": BACKUP_KEY, "name": host.name, "saved": host.saved}
        except (ProxyInputError, HostError, BlobError) as error:
            raise AnsibleActionFail(str(error)) from None

        if not self._task.diff:
            outcome.pop("diff", None)
        if not outcome.get("warnings"):
            outcome.pop("warnings", None)
        result.update(outcome)
        return result
