# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    """The backup option of the settings modules."""

    DOCUMENTATION = r"""
options:
  backup:
    description:
      - Before the first change, save the previous bytes of every registry value the module changes on the host itself,
        as a JSON REG_SZ value named after the module (C(<module>@<run id>) with O(run)) under
        C(HKLM\SOFTWARE\ssm.proxy\Backup), with what the module wrote, so that a rollback leaves alone a value changed since.
      - An existing backup of the module is kept, not overwritten, so a run interrupted earlier can still be undone.
        M(ssm.proxy.rollback) restores or discards it.
      - The saved values stay on the host (they may hold proxy credentials); only RV(backup) comes back.
      - Reading the backup key is part of the module's single read; saving it costs one more write when something changes.
    type: bool
    default: false
  run:
    description:
      - The run this change belongs to, so that overlapping runs on one host never undo each other (the
        C(ssm.proxy.agent_proxy) role passes its own).
      - With O(backup), the backup is named C(<module>@<id>) and records the run; while a run that started earlier
        has backups on the host and is not older than O(run.stale_after) seconds, the module changes nothing and
        fails naming that run.
    type: dict
    suboptions:
      id:
        description: "The run's identifier, 1 to 100 characters of C(A-Z a-z 0-9 . _ : + -)."
        type: str
        required: true
      owner:
        description: Who runs it (an AWX job, a user on a controller), for messages.
        type: str
        default: ""
      started:
        description: When the run started, ISO 8601 UTC (C(2026-12-01T20:45:31Z)); orders overlapping runs.
        type: str
        default: ""
      wants:
        description: What the run wants, for messages; never credentials.
        type: str
        default: ""
      stale_after:
        description: After how many seconds a run that left backups is taken for dead and no longer blocks others.
        type: int
        default: 3600
"""
