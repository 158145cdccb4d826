# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What every stand-in module of the simulated Windows host shares.

- The host's state document: found through ``SIM_STATE`` (the ``sim.host.sh`` shell plugin exports
  the host variable ``sim_state`` as it), read and written under an exclusive lock, written atomically.
- The argument spec: built from the REAL ansible.windows module's DOCUMENTATION (found through
  ``SIM_UPSTREAM_COLLECTIONS``), so that an argument Windows would reject is rejected here too.
- The ``calls`` record: one entry per module execution, secrets redacted, so benchmarks can count
  round trips and tests can check what was sent.
- An optional per-execution latency (``latency.seconds`` in the state, or ``SIM_LATENCY_SECONDS``): a round
  trip to Windows takes about a second over WinRM and several over aws_ssm, a simulated one milliseconds.
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import fcntl
import json
import os
import sys
import tempfile
import time
import typing as t

from ansible.module_utils.basic import AnsibleModule, _load_params

from ansible_collections.ansible.windows.plugins.module_utils import _sim_acl, _sim_services
from ansible_collections.ansible.windows.plugins.module_utils._sim_registry import Registry, StateFormatError

try:
    import yaml
except ImportError:  # pragma: no cover - ansible-core requires PyYAML; the message says what is wrong
    yaml = None  # type: ignore[assignment]

REDACTED = '********'
STATE_ENV = 'SIM_STATE'
UPSTREAM_ENV = 'SIM_UPSTREAM_COLLECTIONS'
LATENCY_ENV = 'SIM_LATENCY_SECONDS'

# Ansible.Basic's types -> AnsibleModule's. `path` is Windows path text that Linux must not expand
# (`~`, `$VAR`); `sid` is an account name or SID string.
TYPE_MAP = {'path': 'str', 'sid': 'str'}

Handler = t.Callable[[AnsibleModule, 'HostState'], t.Dict[str, t.Any]]


def _exit_failed(msg: str) -> t.NoReturn:
    """Fail before an AnsibleModule exists (its constructor would already validate arguments)."""
    print(json.dumps({'failed': True, 'msg': msg}))
    sys.exit(1)


# --- The argument spec of the real module -----------------------------------------------------------------

def unhandled(module: AnsibleModule, message: str) -> t.NoReturn:
    """An exception nothing in the module catches: module_wrapper.ps1's result, without the module's own keys.

    Ansible.Basic modules run with $ErrorActionPreference Stop; an uncaught error reaches the wrapper, which prints
    ``{failed, msg: "Unhandled exception while executing module: $ErrorRecord", exception}`` (ansible-core
    executor/powershell/module_wrapper.ps1 ~L83-88); the module's Result (changed, data_changed, ...) is never written.
    """
    module.fail_json(msg=f'Unhandled exception while executing module: {message}', exception=message)


def _doc_string(path: str, variable: str, class_name: t.Optional[str] = None) -> str:
    """A string constant from a module or doc fragment file, read without importing (executing) it."""
    with open(path, encoding='utf-8') as handle:
        tree = ast.parse(handle.read(), path)
    body: list[ast.stmt] = tree.body
    if class_name:
        classes = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == class_name]
        body = classes[0].body if classes else []
    for node in body:
        if isinstance(node, ast.Assign) and any(isinstance(target, ast.Name) and target.id == variable for target in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return node.value.value
    raise ValueError(f'{path} has no string {variable}')


def upstream_documentation(module_name: str) -> dict[str, t.Any]:
    """The real module's DOCUMENTATION, with the options of ansible.windows doc fragments merged in."""
    root = os.environ.get(UPSTREAM_ENV, '')
    if not root:
        _exit_failed(f'{UPSTREAM_ENV} is not set: run playbooks through tests/sim/playbook, which points it at the '
                     'real ansible.windows whose documented argument specs the stand-in modules enforce')
    if yaml is None:
        _exit_failed('PyYAML is missing from the Python that runs the stand-in modules')
    windows = os.path.join(root, 'ansible_collections', 'ansible', 'windows', 'plugins')
    path = os.path.join(windows, 'modules', module_name + '.py')
    try:
        doc = yaml.safe_load(_doc_string(path, 'DOCUMENTATION'))
    except (OSError, ValueError) as exc:
        _exit_failed(f'cannot read the documentation of the real ansible.windows.{module_name} ({exc}); '
                     f'{UPSTREAM_ENV}={root} must hold ansible_collections/ansible/windows')
    options: dict[str, t.Any] = {}
    for fragment in doc.get('extends_documentation_fragment') or []:
        # Only ansible.windows' own fragments carry options these modules take (ansible.builtin's
        # hold attributes). `ansible.windows.web_request.url` is attribute URL of that fragment class.
        if not fragment.startswith('ansible.windows.'):
            continue
        parts = fragment.split('.')[2:]
        variable = parts[1].upper() if len(parts) > 1 else 'DOCUMENTATION'
        fragment_doc = yaml.safe_load(_doc_string(os.path.join(windows, 'doc_fragments', parts[0] + '.py'),
                                                  variable, 'ModuleDocFragment'))
        options.update(fragment_doc.get('options') or {})
    options.update(doc.get('options') or {})
    doc['options'] = options
    return doc


def is_secret_option(name: str) -> bool:
    """Options holding a password. Ansible.Basic marks them no_log; the docs do not say so."""
    return name == 'password' or name.endswith('_password')


def argument_spec_from_options(options: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """An AnsibleModule argument_spec from documented options (type, elements, choices, default, ...)."""
    spec: dict[str, t.Any] = {}
    for name, doc in options.items():
        doc = doc or {}
        option: dict[str, t.Any] = {'type': TYPE_MAP.get(doc.get('type', 'str'), doc.get('type', 'str'))}
        for key in ('elements', 'default', 'aliases', 'required'):
            if key in doc:
                option[key] = doc[key]
        if 'choices' in doc:
            choices = doc['choices']
            option['choices'] = list(choices) if isinstance(choices, dict) else choices
        if 'elements' in option:
            option['elements'] = TYPE_MAP.get(option['elements'], option['elements'])
        if doc.get('suboptions'):
            option['options'] = argument_spec_from_options(doc['suboptions'])
        # Always explicit: AnsibleModule warns about an unset no_log on any name containing "pass".
        option['no_log'] = bool(doc.get('no_log', is_secret_option(name)))
        spec[name] = option
    return spec


def redact_args(args: t.Mapping[str, t.Any], spec: t.Mapping[str, t.Any], value_args: t.Sequence[str],
                no_log: bool) -> dict[str, t.Any]:
    """The args for the calls record: no_log options (by name or alias) always, value args when no_log."""
    names: dict[str, tuple[str, dict[str, t.Any]]] = {}
    for name, option in spec.items():
        for alias in [name] + list(option.get('aliases') or []):
            names[alias] = (name, option)
    out: dict[str, t.Any] = {}
    for key, value in args.items():
        name, option = names.get(key, (key, {}))
        if value is not None and (option.get('no_log') or (no_log and name in value_args)):
            out[key] = REDACTED
        elif option.get('options') and isinstance(value, dict):
            out[key] = redact_args(value, option['options'], (), False)
        elif option.get('options') and isinstance(value, list):
            out[key] = [redact_args(item, option['options'], (), False) if isinstance(item, dict) else item for item in value]
        else:
            out[key] = value
    return out


# --- The state document ------------------------------------------------------------------------------------

class HostState:
    """The state document of one simulated host, loaded for the duration of one module execution."""

    def __init__(self, path: str, data: dict[str, t.Any]) -> None:
        self.path = path
        self.data = data
        self.registry = Registry(data.setdefault('registry', {}))

    @property
    def registry_acl(self) -> _sim_acl.AccessControl:
        """The keys' ACLs (``registry_acl``), for win_acl, win_acl_inheritance and the read_state twin."""
        return _sim_acl.registry_acl(self.data)

    @property
    def file_acl(self) -> _sim_acl.AccessControl:
        """The folders' ACLs (``file_acl``), for the read_state twin."""
        return _sim_acl.file_acl(self.data)

    @property
    def services(self) -> dict[str, dict[str, t.Any]]:
        return self.data.setdefault('services', {})

    @property
    def agent(self) -> dict[str, t.Any]:
        return self.data.setdefault('agent', {})

    @property
    def files(self) -> dict[str, str]:
        return self.data.setdefault('files', {})

    def find_file(self, path: str) -> t.Optional[str]:
        """The listed name of a file (Windows paths are case-insensitive; / and \\ are the same)."""
        want = path.replace('/', '\\').casefold()
        for name in self.files:
            if name.replace('/', '\\').casefold() == want:
                return name
        return None

    def append_file(self, path: str, text: str) -> None:
        name = self.find_file(path) or path
        self.files[name] = self.files.get(name, '') + text

    def restart_service_detached(self, name: str) -> t.Optional[str]:
        """Restart-Service run by a detached process, for twins (``_sim_twins`` cannot import ``_sim_services``).

        The same code path as win_service ``state: restarted`` (the agent's startup block, ``agent.running``,
        ``faults.agent_start``). Nobody sees a detached process fail: a failed start leaves the service
        stopped and returns the error message instead of raising it.
        """
        try:
            _sim_services.restart_service(self, name)
        except _sim_services.ServiceError as exc:
            return str(exc)
        return None

    def start_service_detached(self, name: str) -> t.Optional[str]:
        """Start-Service run by the detached process after a failed restart; the error message, or None."""
        try:
            _sim_services.start_service(self, name)
        except _sim_services.ServiceError as exc:
            return str(exc)
        return None

    def record_call(self, module_name: str, args: dict[str, t.Any], check_mode: bool) -> None:
        call: dict[str, t.Any] = {'module': 'ansible.windows.' + module_name, 'args': args}
        if check_mode:
            call['check_mode'] = True
        self.data.setdefault('calls', []).append(call)


def state_path_from_environment() -> str:
    path = os.environ.get(STATE_ENV, '')
    if not path:
        _exit_failed("this host has no 'sim_state' variable: every simulated Windows host needs sim_state, the "
                     "absolute path of its state JSON document, in the inventory (see tests/sim/README.md), and "
                     "must be run through tests/sim/playbook")
    if not os.path.isabs(path):
        _exit_failed(f'sim_state {path!r} is not an absolute path; give the state document as an absolute path')
    if not os.path.isfile(path):
        _exit_failed(f'sim_state {path} does not exist: write the host state document first (see tests/sim/README.md)')
    return path


@contextlib.contextmanager
def locked_state(path: str) -> t.Iterator[HostState]:
    """Load the state under an exclusive lock and write it back atomically when the block ends.

    The lock is a sibling ``<state>.lock`` file because the document itself is replaced by rename.
    The state is written back however the block ends (fail_json raises SystemExit): a call that
    failed was still a round trip, and Windows keeps what a failing module changed before failing.
    """
    with open(path + '.lock', 'a', encoding='utf-8') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(path, encoding='utf-8') as handle:
                data = json.load(handle)
        except ValueError as exc:
            _exit_failed(f'sim_state {path} is not valid JSON: {exc}')
        if not isinstance(data, dict):
            _exit_failed(f'sim_state {path} must hold a JSON object')
        state = HostState(path, data)
        try:
            yield state
        finally:
            _write_atomically(path, state.data)


def _write_atomically(path: str, data: dict[str, t.Any]) -> None:
    directory = os.path.dirname(path)
    fd, temp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', dir=directory)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            json.dump(data, handle, indent=1, ensure_ascii=False)
            handle.write('\n')
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


# --- Per-execution latency ---------------------------------------------------------------------------------

def execution_latency(data: t.Mapping[str, t.Any], environ: t.Mapping[str, str]) -> float:
    """Seconds one execution on this host lasts at least: the state's ``latency.seconds``, else
    ``SIM_LATENCY_SECONDS`` of the runner's environment (one setting for a whole fleet), else 0.

    A real module execution is a round trip (WinRM/PSRP: about a second; aws_ssm: an S3 upload and a session
    per command, several seconds); a simulated one costs milliseconds, so without this the retries, the role's
    verify loop and forks cannot be timed. Raises ValueError naming the setting when it is not a number >= 0.
    """
    if 'latency' in data:
        section = data['latency']
        seconds = section.get('seconds') if isinstance(section, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 3600:
            raise ValueError(f'latency.seconds must be a number of seconds from 0 to 3600, not {seconds!r} '
                             '(the state\'s latency section is {"seconds": <number>})')
        return float(seconds)
    text = environ.get(LATENCY_ENV, '').strip()
    if not text:
        return 0.0
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise ValueError(f'{LATENCY_ENV}={text!r} must be a number of seconds from 0 to 3600')
    return seconds


def process_age() -> float:
    """Seconds since this module process started (``/proc/self/stat`` field 22, starttime in clock ticks since
    boot, against CLOCK_BOOTTIME): the latency counts from there, so interpreter start-up is part of it; 0 where
    /proc cannot tell (the latency then counts from now)."""
    try:
        with open('/proc/self/stat', encoding='ascii') as handle:
            started = int(handle.read().rsplit(')', 1)[1].split()[19]) / os.sysconf('SC_CLK_TCK')
        return max(time.clock_gettime(time.CLOCK_BOOTTIME) - started, 0.0)
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0


def hold_for_latency(data: t.Mapping[str, t.Any]) -> None:
    """Make this execution last at least its latency: the process sleeps out the rest when it exits
    (atexit: after exit_json/fail_json, whichever way the module ends). Latency 0 registers nothing."""
    try:
        seconds = execution_latency(data, os.environ)
    except ValueError as exc:
        _exit_failed(str(exc))
    if seconds > 0:
        deadline = time.monotonic() + seconds - process_age()
        atexit.register(lambda: time.sleep(max(0.0, deadline - time.monotonic())))


# --- The module harness ------------------------------------------------------------------------------------

def run_module(module_name: str, handler: Handler, value_args: t.Sequence[str] = (),
               module_kwargs: t.Optional[dict[str, t.Any]] = None,
               adjust_spec: t.Optional[t.Callable[[dict[str, t.Any]], None]] = None,
               record_args: t.Optional[t.Callable[[dict[str, t.Any]], dict[str, t.Any]]] = None) -> None:
    """Run one stand-in module: record the call, validate like the real module, apply ``handler``.

    ``value_args`` are the options that carry the data a no_log task hides (win_regedit's ``data``).
    ``module_kwargs`` adds the real module's other spec rules (required_by, mutually_exclusive, ...).
    ``adjust_spec`` corrects the documented spec where the real code disagrees with its documentation.
    ``record_args`` rewrites the (redacted) args for the calls record (win_powershell's long ``script``).
    """
    doc = upstream_documentation(module_name)
    spec = argument_spec_from_options(doc['options'])
    if adjust_spec:
        adjust_spec(spec)
    raw = _load_params()
    path = state_path_from_environment()
    args = {key: value for key, value in raw.items() if not key.startswith('_ansible_')}
    with locked_state(path) as state:
        hold_for_latency(state.data)
        recorded = redact_args(args, spec, value_args, bool(raw.get('_ansible_no_log')))
        state.record_call(module_name, record_args(recorded) if record_args else recorded, bool(raw.get('_ansible_check_mode')))
        # The agent writes its startup block a while after the service reports running (agent.start_delay_executions).
        _sim_services.deliver_delayed_startup(state)
        module = AnsibleModule(argument_spec=spec, supports_check_mode=True, **(module_kwargs or {}))
        try:
            result = handler(module, state)
        except (StateFormatError, _sim_acl.AclFormatError) as exc:
            module.fail_json(msg=f'the sim_state document {path} is malformed: {exc}')
    module.exit_json(**result)
