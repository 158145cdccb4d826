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
        as a JSON REG_SZ value named after the module under C(HKLM\SOFTWARE\ssm.proxy\Backup).
      - An existing backup of the module is kept, not overwritten, so a run interrupted earlier can still be undone.
        M(ssm.proxy.rollback) restores or discards it.
      - The saved values stay on the host (they may hold proxy credentials); only RV(backup) comes back.
      - Reading the backup key is part of the module's single read; saving it costs one more write when something changes.
    type: bool
    default: false
"""
