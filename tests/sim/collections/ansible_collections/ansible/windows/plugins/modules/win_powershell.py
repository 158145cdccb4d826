# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Simulated-host stand-in for ansible.windows.win_powershell (mirrors win_powershell.ps1 of 3.3.0).

The simulated host cannot run PowerShell: it runs only the collection's own scripts, through their
Python twins in ``_sim_twins`` (found by the ``# ssm.proxy script: <name>`` marker line). Around the
twin everything is the real module's: the argument spec, ``creates``/``removes``, check mode
(only scripts declaring ``[CmdletBinding(SupportsShouldProcess)]`` run in it), parameter binding,
``depth`` and the return values.

Not a documented module: its options are the real module's, read from the real DOCUMENTATION.
"""

from __future__ import annotations

import fnmatch
import json
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ansible.windows.plugins.module_utils._sim_host import HostState, run_module
from ansible_collections.ansible.windows.plugins.module_utils._sim_twins import (
    TWINS,
    MalformedState,
    PSCredential,
    ScriptError,
    ScriptFailed,
    SecureString,
    convert_output,
    find_file,
    script_label,
    script_name,
    supports_should_process,
)


def host_path_exists(files: t.Mapping[str, t.Any], pattern: str) -> bool:
    """Test-AnsiblePath for ``creates``/``removes``: a listed file, a folder above one, or a drive root.

    Wildcards (``*``, ``?``, ``[``) match as Test-Path's do, case-insensitively.
    """
    candidates = set()
    for name in files:
        parts = name.replace('/', '\\').casefold().split('\\')
        for depth in range(1, len(parts) + 1):
            candidates.add('\\'.join(parts[:depth]))
        candidates.add(parts[0] + '\\')
    want = pattern.replace('/', '\\').casefold().rstrip('\\') or '\\'
    if want.endswith(':'):
        want += '\\'
    if any(char in want for char in '*?['):
        return any(fnmatch.fnmatchcase(candidate, want) for candidate in candidates)
    return want in candidates


def merged_parameters(params: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """``$parameters``: ``parameters`` then ``sensitive_parameters`` over them (a case-insensitive hashtable)."""
    merged: dict[str, tuple[str, t.Any]] = {}
    for name, value in (params['parameters'] or {}).items():
        merged[str(name).casefold()] = (str(name), value)
    for entry in params['sensitive_parameters'] or []:
        if entry.get('username'):
            value: t.Any = PSCredential(entry['username'], entry.get('password') or '')
        else:
            value = SecureString(entry.get('value') or '')
        merged[entry['name'].casefold()] = (entry['name'], value)
    return dict(merged.values())


def powershell(module: AnsibleModule, state: HostState) -> dict[str, t.Any]:
    params = module.params
    depth: int = params['depth']
    result: dict[str, t.Any] = {
        'changed': False, 'result': {}, 'host_out': '', 'host_err': '', 'output': [], 'error': [],
        'warning': [], 'verbose': [], 'debug': [], 'information': [],
    }
    if params['creates'] and host_path_exists(state.files, params['creates']):
        result['msg'] = f"skipped, since {params['creates']} exists"
        return result
    if params['removes'] and not host_path_exists(state.files, params['removes']):
        result['msg'] = f"skipped, since {params['removes']} does not exist"
        return result

    script = params['script']
    if script is None:
        # `path` with remote_src (the action plugin turns a controller path into `script`).
        listed = find_file(state.files, params['path'])
        if listed is None:
            module.fail_json(msg=f"Could not find or access '{params['path']}' on Windows host", **result)
        script = state.files[listed]
    should_process = supports_should_process(script)
    if module.check_mode and not should_process:
        # Never run, so no twin is needed.
        result.update(changed=True, msg='skipped, running in check mode')
        return result

    name = script_name(script)
    twin = TWINS.get(name or '')
    if twin is None:
        what = f'script {name!r}' if name else 'a script without an "# ssm.proxy script: <name>" marker line'
        module.fail_json(msg=f"the simulated host runs only the collection's own scripts; no twin for {what} "
                             f"(known: {', '.join(sorted(TWINS))}; twins live in module_utils/_sim_twins.py)", **result)
    if should_process != getattr(twin, 'should_process'):
        module.fail_json(msg=f"the twin of script {name!r} is out of date: the script "
                             f"{'declares' if should_process else 'does not declare'} SupportsShouldProcess, its twin "
                             f"{'does not' if should_process else 'does'}", **result)

    for option in ('executable', 'arguments'):
        if params[option]:
            module.fail_json(msg=f'win_powershell option {option} is not simulated by the sim host', **result)

    try:
        changed, value = twin(state, merged_parameters(params), module.check_mode)
    except ScriptFailed as failure:
        # $Ansible.Failed = $true and a normal return: failed, $Ansible.Result, no error record (win_powershell.ps1
        # `$module.Result.failed = $module.Result.failed -or $result.Failed`).
        result.update(changed=failure.changed, result=_round_trip(convert_output(failure.result, depth)), failed=True)
    except ScriptError as error:
        # A terminating error: the record in `error`, failed, $Ansible as the script left it.
        result.update(changed=error.changed, result=_round_trip(convert_output(error.result, depth)),
                      error=[_round_trip(error.record(depth))], failed=True)
    except MalformedState as exc:
        module.fail_json(msg=f'the sim_state document {state.path} is malformed: {exc}', **result)
    else:
        result.update(changed=changed, result=_round_trip(convert_output(value, depth)))
    # Convert-OutputObject of the (empty) output list: '' when depth < 0, as the real module.
    result['output'] = convert_output([], depth)
    return result


def _round_trip(value: t.Any) -> t.Any:
    """What reaches the controller: JSON (as Ansible.Basic's ExitJson)."""
    return json.loads(json.dumps(value))


def adjust_spec(spec: dict[str, t.Any]) -> None:
    """win_powershell.ps1's spec rules the documentation does not carry."""
    sensitive = spec['sensitive_parameters']
    sensitive['options']['value']['no_log'] = True
    sensitive['mutually_exclusive'] = [['value', 'username'], ['value', 'password']]
    sensitive['required_one_of'] = [['username', 'value']]
    sensitive['required_together'] = [['username', 'password']]


def record_args(args: dict[str, t.Any]) -> dict[str, t.Any]:
    """The script text is long: the calls record names it as ``<script: NAME sha256:xxxxxxxx>``."""
    if isinstance(args.get('script'), str):
        args = dict(args, script=script_label(args['script']))
    return args


def main() -> None:
    run_module('win_powershell', powershell, value_args=('parameters',), adjust_spec=adjust_spec, record_args=record_args,
               module_kwargs={'required_one_of': [['path', 'script']], 'mutually_exclusive': [['path', 'script']]})


if __name__ == '__main__':
    main()
