# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""POSIX shell that tells the simulated Windows host's modules where the host's state is."""

from __future__ import annotations

DOCUMENTATION = r"""
name: sh
short_description: POSIX shell exporting SIM_STATE for simulated Windows hosts
description:
  - The C(sh) shell plugin, plus one thing - every module command (async ones included) starts with
    C(SIM_STATE=<sim_state>),
    the host variable naming the simulated host's state document. The C(ansible.windows) stand-ins
    of C(tests/sim) read and write that document.
  - Module code runs locally without access to host variables, and Ansible quotes the interpreter
    as one word (so C(ansible_python_interpreter) cannot carry C(env VAR=...)); the shell plugin is
    the one per-host hook on the command line that needs nothing in the inventory but C(sim_state).
  - Selected by C(tests/sim/playbook) with C(ansible_shell_type=sim.host.sh).
extends_documentation_fragment:
  - shell_common
options:
  sim_state:
    description: Absolute path of the simulated host's state document.
    type: str
    default: ''
    vars:
      - name: sim_state
"""

from ansible.plugins.shell.sh import ShellModule as PosixShellModule


class ShellModule(PosixShellModule):
    """``sh`` with ``SIM_STATE`` in the environment of every module it runs."""

    def env_prefix(self, **kwargs):
        """The ``VAR=value ...`` prefix of module commands, with ``SIM_STATE`` added.

        Ansible builds both the plain module command and the async_wrapper command from this
        prefix (``ActionBase._compute_environment_string``), so async tasks get it too.
        """
        # Empty when the host has no sim_state: the module then fails naming the missing variable.
        kwargs['SIM_STATE'] = self.get_option('sim_state') or ''
        return super().env_prefix(**kwargs)
