# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The PowerShell the simulated host can run: Python twins of the collection's own scripts.

The simulated host has no PowerShell. The collection sends PowerShell only as its own files
``plugins/plugin_utils/powershell/*.ps1``, each carrying a marker line ``# ssm.proxy script: <name>``;
the win_powershell stand-in finds the marker and runs the twin registered here under that name.

Also here, because both the module and pytest use them: what win_powershell.ps1 (ansible.windows 3.3.0)
does around a script that a twin has to reproduce - detecting ``SupportsShouldProcess``, binding
``parameters`` as PowerShell binds them, ``Convert-OutputObject`` (the ``depth`` handling) and the error
records of a failing script.

Standard library only, plus the self-contained ``_sim_network`` (the network model the preflight twin
shares with the simulated agent); pytest loads both by file path. A twin receives the host state as
an object with ``registry`` (``_sim_registry.Registry``), ``data`` (the whole state document) and
``restart_service_detached(name)`` (``_sim_host.HostState``'s: Restart-Service through the code path
win_service uses, returning the error of a failed start instead of raising it).

Adding a twin: one function decorated with ``@twin('<name>', ...)`` declaring the script's ``param``
block; it returns ``(changed, result)`` (``$Ansible.Changed``, ``$Ansible.Result``) or raises
:class:`ScriptError` where the script would throw.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import re
import typing as t
import urllib.parse

from ansible_collections.ansible.windows.plugins.module_utils import _sim_network, _sim_registry

# --- The script and its marker ---------------------------------------------------------------------------

MARKER = re.compile(r'^#[ \t]*ssm\.proxy script:[ \t]*(\S+)[ \t]*\r?$', re.MULTILINE)


def script_name(script: str) -> t.Optional[str]:
    """The name in the script's first ``# ssm.proxy script: <name>`` line, or None."""
    match = MARKER.search(script)
    return match.group(1) if match else None


def script_label(script: str) -> str:
    """What the calls record shows instead of the script text: ``<script: NAME sha256:xxxxxxxx>``."""
    digest = hashlib.sha256(script.encode('utf-8')).hexdigest()[:8]
    return f'<script: {script_name(script) or "(no marker)"} sha256:{digest}>'


def _strip_comments(script: str) -> str:
    """The script without ``<# ... #>`` blocks and ``#`` line comments (enough for the param block)."""
    script = re.sub(r'<#.*?#>', ' ', script, flags=re.DOTALL)
    return re.sub(r'#[^\n]*', '', script)


def _bracketed(text: str, start: int, opening: str, closing: str) -> int:
    """Index just past the bracket group opened at ``text[start]``, or -1 when it is not closed."""
    level = 0
    for index in range(start, len(text)):
        if text[index] == opening:
            level += 1
        elif text[index] == closing:
            level -= 1
            if level == 0:
                return index + 1
    return -1


def script_attributes(script: str) -> t.Optional[list[str]]:
    """The attributes of the script's ``param`` block (``CmdletBinding(SupportsShouldProcess)``, ...).

    None when the script has no script-level param block. ``using`` statements may precede it.
    """
    text = _strip_comments(script)
    position = 0
    attributes: list[str] = []
    while True:
        match = re.compile(r'\s*(?:using\s[^\n;]*[\n;]\s*)*').match(text, position)
        position = match.end() if match else position
        if text.startswith('[', position):
            end = _bracketed(text, position, '[', ']')
            if end < 0:
                return None
            attributes.append(text[position + 1:end - 1].strip())
            position = end
            continue
        return attributes if re.compile(r'param\s*\(', re.IGNORECASE).match(text, position) else None


def _split_top_level(text: str) -> list[str]:
    parts, level, current = [], 0, ''
    for char in text:
        level += char in '([{'
        level -= char in ')]}'
        if char == ',' and level == 0:
            parts.append(current)
            current = ''
        else:
            current += char
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def supports_should_process(script: str) -> bool:
    """win_powershell.ps1's test: the param block's ``CmdletBinding`` has ``SupportsShouldProcess`` bare or ``= $true``.

    The real module reads the AST (names compared case-insensitively); ``SupportsShouldProcess = 1``
    does not count there either.
    """
    for attribute in script_attributes(script) or []:
        match = re.fullmatch(r'CmdletBinding\s*\((.*)\)', attribute, re.IGNORECASE | re.DOTALL)
        if not match:
            continue
        for argument in _split_top_level(match.group(1)):
            name, _sep, value = argument.partition('=')
            if name.strip().casefold() == 'supportsshouldprocess' and (not _sep or value.strip().casefold() == '$true'):
                return True
        return False
    return False


# --- PowerShell values -----------------------------------------------------------------------------------

class SecureString(str):
    """A ``sensitive_parameters`` entry with ``value``: the script gets a SecureString."""


class PSCredential(t.NamedTuple):
    """A ``sensitive_parameters`` entry with ``username``/``password``: the script gets a PSCredential."""

    username: str
    password: str


def ps_string(value: t.Any) -> str:
    """``[string]$value`` for the values a twin can hold (arrays join with blanks, as with the default $OFS)."""
    if isinstance(value, (list, tuple)) and not isinstance(value, PSCredential):
        return ' '.join(_element_string(item) for item in value)
    return _element_string(value)


def _element_string(value: t.Any) -> str:
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'True' if value else 'False'
    if isinstance(value, SecureString):
        return 'System.Security.SecureString'
    if isinstance(value, PSCredential):
        return 'System.Management.Automation.PSCredential'
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return 'System.Collections.Hashtable'
    if isinstance(value, (list, tuple)):
        return 'System.Object[]'
    return str(value)


def convert_output(value: t.Any, depth: int) -> t.Any:
    """win_powershell.ps1's ``Convert-OutputObject``: below ``depth`` levels, containers become strings.

    Strings, numbers, booleans and null survive at any depth; a hashtable or array deeper than
    ``depth`` becomes ``[string]`` of itself (``System.Collections.Hashtable``, ``a b``), as ConvertTo-Json does.
    """
    if value is None or isinstance(value, (str, bool, int, float)) and not isinstance(value, SecureString):
        return value
    if depth < 0:
        return ps_string(value)
    if isinstance(value, dict):
        return {str(key): convert_output(item, depth - 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)) and not isinstance(value, PSCredential):
        return [convert_output(item, depth - 1) for item in value]
    # SecureString and PSCredential have properties of their own; nothing a twin returns.
    return ps_string(value)


# --- Errors ----------------------------------------------------------------------------------------------

# System.Management.Automation.ErrorCategory
ERROR_CATEGORIES = {
    'NotSpecified': 0, 'InvalidArgument': 5, 'InvalidData': 6, 'InvalidOperation': 7, 'ObjectNotFound': 13,
    'OperationStopped': 14, 'PermissionDenied': 18, 'ReadError': 22, 'WriteError': 23,
}


class ScriptError(Exception):
    """A terminating error in the script: win_powershell returns ``failed`` and one ``error`` record.

    ``changed`` and ``result`` are ``$Ansible.Changed``/``$Ansible.Result`` as the script had set them
    when it failed. The defaults describe ``throw "<message>"``.
    """

    def __init__(self, message: str, changed: bool = True, result: t.Any = None, *,
                 exception_type: str = 'System.Management.Automation.RuntimeException',
                 category: str = 'OperationStopped', error_id: t.Optional[str] = None,
                 target: t.Any = None, hresult: int = -2146233087) -> None:
        super().__init__(message)
        self.message = message
        self.changed = changed
        self.result = {} if result is None else result
        self.exception_type = exception_type
        self.category = category
        self.error_id = message if error_id is None else error_id
        self.target = message if target is None and category == 'OperationStopped' else target
        self.hresult = hresult

    def record(self, depth: int) -> dict[str, t.Any]:
        """The entry of win_powershell's ``error`` list (keys as win_powershell.ps1 builds them)."""
        reason = self.exception_type.rsplit('.', 1)[-1]
        target_type = 'String' if isinstance(self.target, str) else ''
        target_name = ps_string(self.target)
        return {
            'output': (f'{self.message}\n'
                       f'    + CategoryInfo          : {self.category}: ({target_name}:{target_type}) [], {reason}\n'
                       f'    + FullyQualifiedErrorId : {self.error_id}\n'),
            'error_details': None,
            'exception': {
                'message': self.message,
                'type': self.exception_type,
                'help_link': None,
                'source': None,
                'hresult': self.hresult,
                'inner_exception': None,
            },
            'target_object': convert_output(self.target, depth),
            'category_info': {
                'category': self.category,
                'category_id': ERROR_CATEGORIES.get(self.category, 0),
                'activity': '',
                'reason': reason,
                'target_name': target_name,
                'target_type': target_type,
            },
            'fully_qualified_error_id': self.error_id,
            'script_stack_trace': 'at <ScriptBlock>, <No file>: line 1',
            'pipeline_iteration_info': [],
        }


class MalformedState(ValueError):
    """The state document holds something a twin cannot read; the message names it."""


def raise_fault(state: t.Any, name: str, changed: bool = True, result: t.Any = None) -> None:
    """Fail as the script would if the state's ``faults`` section holds an error message for it.

    ``<name>_runs_before_fault`` (an integer >= 0) lets that many runs of the script succeed first, each counting it
    down: a host that goes wrong during a run (a session lost, a key's ACL changed by a policy refresh), so that a
    step after the first of the same script can be the one that fails.
    """
    faults = state.data.get('faults') or {}
    message = faults.get(name) if isinstance(faults, dict) else None
    if not isinstance(message, str):
        return
    countdown = f'{name}_runs_before_fault'
    if countdown in faults:
        remaining = faults[countdown]
        if isinstance(remaining, bool) or not isinstance(remaining, int) or remaining < 0:
            raise _sim_registry.StateFormatError(f'faults.{countdown} must be an integer >= 0, got {remaining!r}')
        if remaining > 0:
            faults[countdown] = remaining - 1
            return
    raise ScriptError(message, changed, result)


# --- Parameter binding -----------------------------------------------------------------------------------

COMMON_PARAMETERS = ('Verbose', 'Debug', 'ErrorAction', 'WarningAction', 'InformationAction', 'ErrorVariable',
                     'WarningVariable', 'InformationVariable', 'OutVariable', 'OutBuffer', 'PipelineVariable')
SHOULD_PROCESS_PARAMETERS = ('WhatIf', 'Confirm')
INT32 = (-2 ** 31, 2 ** 31 - 1)
DOTNET_TYPES = {'int': 'System.Int32', 'string': 'System.String', 'string[]': 'System.String[]', 'bool': 'System.Boolean',
                'pscredential': 'System.Management.Automation.PSCredential', 'hashtable': 'System.Collections.Hashtable',
                'object[]': 'System.Object[]'}


def _binding_error(message: str, error_id: str, category: str = 'InvalidArgument',
                   exception: str = 'System.Management.Automation.ParameterBindingException') -> ScriptError:
    return ScriptError(message, True, None, exception_type=exception, category=category, error_id=error_id,
                       hresult=-2146233087)


def _conversion_error(name: str, value: t.Any, type_name: str, detail: str) -> ScriptError:
    return _binding_error(
        f'Cannot process argument transformation on parameter \'{name}\'. Cannot convert value "{ps_string(value)}" to '
        f'type "{DOTNET_TYPES[type_name]}". Error: "{detail}"', 'ParameterArgumentTransformationError', 'InvalidData',
        'System.Management.Automation.ParameterBindingArgumentTransformationException')


def _to_int(name: str, value: t.Any) -> int:
    """``[int]`` parameter conversion (LanguagePrimitives): numbers round half to even, strings are parsed."""
    number: t.Any = value
    if value is None:
        return 0
    if isinstance(value, (list, tuple, dict)) or isinstance(value, (SecureString, PSCredential)):
        kind = 'System.Collections.Hashtable' if isinstance(value, dict) else 'System.Object[]'
        raise _binding_error(f'Cannot process argument transformation on parameter \'{name}\'. Cannot convert the '
                             f'"{kind}" value of type "{kind}" to type "System.Int32".', 'ParameterArgumentTransformationError',
                             'InvalidData', 'System.Management.Automation.ParameterBindingArgumentTransformationException')
    if isinstance(value, str):
        text = value.strip()
        try:
            number = int(text, 16) if re.fullmatch(r'0[xX][0-9a-fA-F]+', text) else int(text, 10)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise _conversion_error(name, value, 'int', 'Input string was not in a correct format.') from None
    if isinstance(number, float):
        number = round(number)  # banker's rounding, as .NET's Convert
    number = int(number)
    if not INT32[0] <= number <= INT32[1]:
        raise _conversion_error(name, value, 'int', 'Value was either too large or too small for an Int32.')
    return number


def convert_parameter(name: str, type_name: str, value: t.Any) -> t.Any:
    """A parameter value as the script's typed ``param`` block receives it."""
    if type_name == 'string[]':
        if value is None:
            return None
        if isinstance(value, (list, tuple)) and not isinstance(value, PSCredential):
            return [ps_string(item) for item in value]
        return [ps_string(value)]
    if type_name == 'string':
        return ps_string(value)
    if type_name == 'int':
        return _to_int(name, value)
    if type_name == 'pscredential':
        # Only a PSCredential (sensitive_parameters with username/password) or null binds; without a
        # [Credential()] attribute PowerShell does not turn a string into one.
        if value is None or isinstance(value, PSCredential):
            return value
        kind = {dict: 'System.Collections.Hashtable', SecureString: 'System.Security.SecureString', str: 'System.String',
                bool: 'System.Boolean', int: 'System.Int32', float: 'System.Double'}.get(type(value), 'System.Object[]')
        raise _binding_error(
            f'Cannot process argument transformation on parameter \'{name}\'. Cannot convert the "{ps_string(value)}" value of '
            f'type "{kind}" to type "{DOTNET_TYPES[type_name]}".', 'ParameterArgumentTransformationError', 'InvalidData',
            'System.Management.Automation.ParameterBindingArgumentTransformationException')
    if type_name == 'object[]':
        # [object[]]: a list as it is, $null stays $null, anything else becomes a one-element array.
        if value is None or isinstance(value, list):
            return value
        return [value]
    if type_name == 'hashtable':
        # A [hashtable] parameter takes a dictionary (win_powershell turns a YAML mapping into one) or $null.
        if value is None or isinstance(value, dict):
            return value
        raise _binding_error(
            f'Cannot process argument transformation on parameter \'{name}\'. Cannot convert the "{ps_string(value)}" value of '
            f'type "System.String" to type "{DOTNET_TYPES[type_name]}".', 'ParameterArgumentTransformationError', 'InvalidData',
            'System.Management.Automation.ParameterBindingArgumentTransformationException')
    if type_name == 'bool':
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return value != 0
        raise _binding_error(
            f'Cannot process argument transformation on parameter \'{name}\'. Cannot convert value "{type(value).__name__}" '
            'to type "System.Boolean". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.',
            'ParameterArgumentTransformationError', 'InvalidData',
            'System.Management.Automation.ParameterBindingArgumentTransformationException')
    return value


def bind_parameters(declared: t.Mapping[str, tuple[str, t.Any]], given: t.Mapping[str, t.Any],
                    should_process: bool) -> dict[str, t.Any]:
    """Bind ``given`` to the declared ``{Name: (type, default)}`` as PowerShell binds named parameters.

    Names match case-insensitively or by an unambiguous prefix; an unknown or ambiguous name fails as
    on Windows. Common parameters (and WhatIf/Confirm for SupportsShouldProcess) are accepted and dropped.
    """
    known = list(declared) + list(COMMON_PARAMETERS) + (list(SHOULD_PROCESS_PARAMETERS) if should_process else [])
    bound: dict[str, t.Any] = {}
    for given_name, value in given.items():
        exact = [name for name in known if name.casefold() == str(given_name).casefold()]
        matches = exact or [name for name in known if name.casefold().startswith(str(given_name).casefold())]
        if not matches:
            raise _binding_error(f"A parameter cannot be found that matches parameter name '{given_name}'.", 'NamedParameterNotFound')
        if len(matches) > 1:
            raise _binding_error(f"Parameter cannot be processed because the parameter name '{given_name}' is ambiguous. "
                                 f"Possible matches include: {' '.join('-' + name for name in matches)}.", 'AmbiguousParameter')
        name = matches[0]
        if name in bound:
            raise _binding_error(f"Cannot bind parameter because parameter '{name}' is specified more than once.",
                                 'ParameterAlreadyBound')
        bound[name] = value
    out: dict[str, t.Any] = {}
    for name, (type_name, default) in declared.items():
        out[name] = convert_parameter(name, type_name, bound[name]) if name in bound else default
    return out


# --- The twins -------------------------------------------------------------------------------------------

Twin = t.Callable[[t.Any, t.Mapping[str, t.Any], bool], t.Tuple[bool, t.Any]]
TWINS: dict[str, Twin] = {}


def twin(name: str, should_process: bool, **parameters: tuple[str, t.Any]) -> t.Callable[[Twin], Twin]:
    """Register a twin of the script ``name`` whose ``param`` block declares ``parameters`` ``{Name: (type, default)}``.

    The registered callable binds the parameters first (as PowerShell would, failing the same way) and
    then calls the twin with every declared parameter present. ``should_process`` mirrors the script's
    ``[CmdletBinding(SupportsShouldProcess)]``: the stand-in checks the two agree.
    """
    def register(function: Twin) -> Twin:
        @functools.wraps(function)
        def run(state: t.Any, given: t.Mapping[str, t.Any], check_mode: bool) -> tuple[bool, t.Any]:
            return function(state, bind_parameters(parameters, given or {}, should_process), check_mode)
        run.should_process = should_process  # type: ignore[attr-defined]
        run.parameters = dict(parameters)  # type: ignore[attr-defined]
        TWINS[name] = run
        return run
    return register


def find_file(files: t.Mapping[str, t.Any], path: str) -> t.Optional[str]:
    """The listed name of a file: Windows paths are case-insensitive and ``/`` is ``\\``."""
    want = path.replace('/', '\\').casefold()
    for name in files:
        if name.replace('/', '\\').casefold() == want:
            return name
    return None


# The value kinds read_state.ps1 reports: the six .NET's GetValueKind names, and for the rest (GetValueKind
# answers Unknown for REG_NONE and for kinds outside its enum) the kind reg.exe prints.
REG_TYPES = ('REG_SZ', 'REG_EXPAND_SZ', 'REG_MULTI_SZ', 'REG_DWORD', 'REG_QWORD', 'REG_BINARY', 'REG_NONE')
OTHER_KINDS = ('REG_LINK', 'REG_RESOURCE_LIST', 'REG_FULL_RESOURCE_DESCRIPTOR', 'REG_RESOURCE_REQUIREMENTS_LIST', 'REG_DWORD_BIG_ENDIAN')
HIVES = ('HKLM', 'HKU', 'HKCU', 'HKCR', 'HKCC')
# RegistryKey.OpenSubKey on a key whose ACL refuses the account read access: .NET's SecurityException.
READ_DENIED = 'Requested registry access is not allowed.'


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def dotnet_value(entry: t.Any, where: str) -> dict[str, t.Any]:
    """A state entry as read_state.ps1 reports it after ``$key.GetValue($name, $null, 'DoNotExpandEnvironmentNames')``.

    REG_DWORD/REG_QWORD come back as .NET's signed Int32/Int64 (0xFFFFFFFF is -1; win_reg_stat makes them
    unsigned, read_state.ps1 does not); every byte[] (REG_BINARY, REG_NONE and the other kinds) as ONE
    lowercase hex string, as the script's BitConverter conversion gives it; REG_EXPAND_SZ unexpanded.
    """
    if not isinstance(entry, dict) or entry.get('type') not in REG_TYPES + OTHER_KINDS:
        raise MalformedState(f'{where}: expected {{"type": "REG_*", "value": ...}}, got {entry!r}')
    reg_type, value = entry['type'], entry.get('value')
    if reg_type in ('REG_SZ', 'REG_EXPAND_SZ'):
        return {'type': reg_type, 'value': '' if value is None else str(value)}
    if reg_type == 'REG_MULTI_SZ':
        if not isinstance(value, list):
            raise MalformedState(f'{where}: REG_MULTI_SZ value must be a list of strings, got {value!r}')
        return {'type': reg_type, 'value': [str(item) for item in value]}
    if reg_type in ('REG_DWORD', 'REG_QWORD'):
        if isinstance(value, bool) or not isinstance(value, int):
            raise MalformedState(f'{where}: {reg_type} value must be an integer, got {value!r}')
        return {'type': reg_type, 'value': _signed(value, 32 if reg_type == 'REG_DWORD' else 64)}
    try:
        return {'type': reg_type, 'value': bytes.fromhex(str(value or '')).hex()}
    except ValueError:
        raise MalformedState(f'{where}: {reg_type} value {value!r} is not a hex string such as "0a1b"') from None


def read_denied_keys(state: t.Any) -> list[str]:
    """``faults.registry_read_denied``: keys that exist but whose ACL refuses the connecting account read access."""
    faults = state.data.get('faults') or {}
    listed = faults.get('registry_read_denied', []) if isinstance(faults, dict) else []
    if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
        raise MalformedState(f'faults.registry_read_denied: expected a list of key paths, got {listed!r}')
    return listed


def _value_filter(filters: t.Optional[t.Mapping[str, t.Any]], path: str) -> t.Optional[list[str]]:
    """Get-ValueFilter: the names wanted from ``path`` (keys compared with -eq, case-insensitively), or None."""
    for filter_path, names in (filters or {}).items():
        if str(filter_path).casefold() == path.casefold():
            return [ps_string(name) for name in (names if isinstance(names, list) else [names])]
    return None


def registry_key_state(registry: t.Any, path: str, names: t.Optional[t.Sequence[str]] = None,
                       read_denied: t.Sequence[str] = ()) -> dict[str, t.Any]:
    """read_state.ps1's Get-RegistryKeyState: ``{path, exists, values: {name: {type, value}}, error}``.

    A path whose hive is not one of the five is not found (``exists: false``). A key in ``read_denied``
    exists but OpenSubKey throws: ``exists: true`` with the .NET message in ``error`` and no values.
    ``names`` keeps only those values (compared case-insensitively, as -contains does).
    """
    out: dict[str, t.Any] = {'path': path, 'exists': False, 'values': {}, 'error': None}
    hive, sep, _sub_key = path.partition(':\\')
    if not sep or hive.upper() not in HIVES or not registry.key_exists(path):
        return out
    out['exists'] = True
    wanted = registry.find_key(path) or path
    if any(registry.find_key(denied) == wanted for denied in read_denied if registry.key_exists(denied)):
        out['error'] = READ_DENIED
        return out
    for name, entry in registry.values(path).items():
        if names is not None and name.casefold() not in (item.casefold() for item in names):
            continue
        out['values'][name] = dotnet_value(entry, f'registry {path!r} value {name!r}')
    return out


# [System.IO.File]::Open on a file the account may not read: PowerShell wraps .NET's UnauthorizedAccessException.
ACCESS_DENIED = 'Exception calling "Open" with "4" argument(s): "Access to the path \'{path}\' is denied."'


def unreadable_files(state: t.Any) -> list[str]:
    """``faults.unreadable_files``: files that exist but that the connecting account may not open."""
    faults = state.data.get('faults') or {}
    listed = faults.get('unreadable_files', []) if isinstance(faults, dict) else []
    if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
        raise MalformedState(f'faults.unreadable_files: expected a list of Windows paths, got {listed!r}')
    return listed


def file_tail(files: t.Mapping[str, t.Any], path: str, max_bytes: int, unreadable: t.Sequence[str] = ()) -> dict[str, t.Any]:
    """read_state.ps1's Get-FileTail: the lines that start within the last ``max_bytes`` bytes of the file, as UTF-8.

    A file in ``unreadable`` exists (Test-Path sees it) but cannot be opened: the script catches the error.
    A cut tail starts at the first line start at or after the cut (``start`` is that offset in the file).
    """
    if path == '':
        raise _binding_error("Cannot bind argument to parameter 'LiteralPath' because it is an empty string.",
                             'ParameterArgumentValidationErrorEmptyStringNotAllowed,Microsoft.PowerShell.Commands.TestPathCommand',
                             'InvalidData')
    tail: dict[str, t.Any] = {'path': path, 'exists': False, 'size': 0, 'truncated': False, 'start': 0, 'content': '', 'error': None}
    name = find_file(files, path)
    if name is None:
        return tail
    tail['exists'] = True
    if find_file(dict.fromkeys(unreadable), path) is not None:
        tail['error'] = ACCESS_DENIED.format(path=path)
        return tail
    text = files[name]
    if not isinstance(text, str):
        raise MalformedState(f'files {name!r}: the content must be a string, got {type(text).__name__}')
    data = text.encode('utf-8')
    tail['size'] = len(data)
    start = max(0, len(data) - max_bytes)
    tail['truncated'] = start > 0
    if start > len(data):
        # New-Object byte[] with a negative length (TailBytes < 0), caught by the script's catch.
        tail['error'] = 'Exception calling ".ctor" with "1" argument(s): "Arithmetic operation resulted in an overflow."'
        return tail
    # Read from one byte before a cut, and start after the first line feed of what was read.
    begin = max(0, start - 1)
    skip = 0
    if start > 0:
        newline = data.find(b'\n', begin)
        skip = (newline + 1 - begin) if newline >= 0 else len(data) - begin
    tail['start'] = begin + skip
    tail['content'] = data[begin + skip:].decode('utf-8', errors='replace')
    return tail


def language_mode(state: t.Any) -> str:
    """``powershell.language_mode`` of the state: what $ExecutionContext.SessionState.LanguageMode says (default FullLanguage).

    WDAC or AppLocker script enforcement makes win_powershell run the collection's (unsigned) scripts in
    ConstrainedLanguage (win_powershell.ps1 of ansible.windows 3.3.0, ~L595 and ~L761-781).
    """
    section = state.data.get('powershell') or {}
    mode = section.get('language_mode', 'FullLanguage') if isinstance(section, dict) else 'FullLanguage'
    if mode not in ('FullLanguage', 'ConstrainedLanguage', 'RestrictedLanguage', 'NoLanguage'):
        raise MalformedState(f'powershell.language_mode: expected FullLanguage or ConstrainedLanguage, got {mode!r}')
    return str(mode)


def acl_state(state: t.Any, path: str, read_denied: t.Sequence[str] = ()) -> dict[str, t.Any]:
    """read_state.ps1's Get-AclState: ``{path, exists, protected, readers: [{sid, name}], error}``.

    A registry path (one of the five hives) reads the key's ACL (``registry_acl``, RegistryKey.GetAccessControl in
    the 64-bit view); anything else is a folder (``file_acl``, Get-Acl), which exists when the ``files`` section
    holds a file beneath it or ``file_acl`` lists it. A key in ``faults.registry_read_denied`` cannot be opened:
    ``exists: true`` with the .NET message. Readers are inherited as ``_sim_acl`` says.
    """
    out: dict[str, t.Any] = {'path': path, 'exists': False, 'protected': False, 'readers': [], 'error': None}
    hive, sep, _sub_key = path.partition(':\\')
    if sep and hive.upper() in HIVES:
        if not state.registry.key_exists(path):
            return out
        out['exists'] = True
        wanted = state.registry.find_key(path) or path
        if any(state.registry.find_key(denied) == wanted for denied in read_denied if state.registry.key_exists(denied)):
            out['error'] = READ_DENIED
            return out
        out.update(state.registry_acl.describe(path))
        return out
    folder = path.replace('/', '\\').rstrip('\\').casefold()
    files = state.data.get('files') or {}
    listed = state.data.get('file_acl') or {}
    if not any(name.replace('/', '\\').casefold().startswith(folder + '\\') for name in list(files) + list(listed)) \
            and folder not in (name.replace('/', '\\').rstrip('\\').casefold() for name in listed):
        return out
    out['exists'] = True
    out.update(state.file_acl.describe(path))
    return out


@twin('read_state', should_process=True, RegistryKeys=('string[]', []), Files=('string[]', []), TailBytes=('int', 65536),
      ValueFilter=('hashtable', {}), AclPaths=('string[]', []))
def read_state(state: t.Any, parameters: t.Mapping[str, t.Any], check_mode: bool) -> tuple[bool, t.Any]:
    """plugins/plugin_utils/powershell/read_state.ps1: registry keys (values unexpanded) and file tails.

    Read-only, so the same in check mode. A string in ``faults.read_state`` of the state makes the script
    throw that message (after ``$Ansible.Changed = $false``, before any result). In ConstrainedLanguage
    the script reads nothing and returns only the mode.
    """
    del check_mode
    try:
        raise_fault(state, 'read_state')
        mode = language_mode(state)
        if mode != 'FullLanguage':
            return False, {'language_mode': mode, 'registry': [], 'files': [], 'acl': []}
        files = state.data.get('files') or {}
        denied = read_denied_keys(state)
        result = {
            'language_mode': mode,
            'registry': [registry_key_state(state.registry, path, _value_filter(parameters['ValueFilter'], path), denied)
                         for path in parameters['RegistryKeys'] or []],
            'files': [file_tail(files, path, parameters['TailBytes'], unreadable_files(state)) for path in parameters['Files'] or []],
            'acl': [acl_state(state, path, denied) for path in parameters['AclPaths'] or []],
        }
    except ScriptError as error:
        error.changed = False  # the script's first statement
        raise
    return False, result


# --- preflight ---------------------------------------------------------------------------------------------

PREFLIGHT_SERVICES = ['ssm', 'ec2messages', 'ssmmessages']
# preflight.ps1's $dnsLabel, matched as PowerShell's -match does (case-insensitive).
DNS_LABEL = re.compile(r'[a-z0-9]([a-z0-9-]*[a-z0-9])?', re.IGNORECASE)
# WebExceptionStatus.ConnectFailure's message: what .NET reports when nothing accepts the connection.
CONNECT_FAILURE = 'Unable to connect to the remote server'
IMDS_FAILED = ("Cannot determine the AWS region: instance metadata (IMDSv2, http://169.254.169.254) did not answer ({reason}). "
               "Set ssm_proxy_region to the host's region.")
IMDS_NO_REGION = ("Cannot determine the AWS region: instance metadata (IMDSv2, http://169.254.169.254) returned no region. "
                  "Set ssm_proxy_region to the host's region.")
BAD_PROXY = 'Proxy must be an http://host:port URL without credentials (pass credentials as ProxyCredential).'
# preflight.ps1's messages, word for word.
TRUST_FAILURE = ("the certificate presented for {target} is not trusted by this host (TrustFailure): a TLS-intercepting proxy, "
                 "or a root CA missing from the host's store; the SSM Agent fails the same way")


def proxy_address(proxy: str) -> str:
    """``host:port`` of an ``http://host[:port]`` proxy URL (port 80 when absent), as ``network`` lists proxies.

    preflight.ps1 accepts what ``[Uri]::TryCreate`` makes an absolute ``http`` URI with a host and no user
    info; urllib's split is close enough for the URLs a caller writes. The value is never echoed.
    """
    parts = urllib.parse.urlsplit(proxy.strip())
    try:
        port = parts.port
    except ValueError:
        raise ScriptError(BAD_PROXY) from None
    if parts.scheme.casefold() != 'http' or '@' in parts.netloc or not parts.hostname:
        raise ScriptError(BAD_PROXY)
    host = f'[{parts.hostname}]' if ':' in parts.hostname else parts.hostname
    return f'{host}:{port or 80}'


def imds_region(state: t.Any) -> str:
    """The region instance metadata answers: the state's ``imds.region``; no ``imds`` section = IMDS does not answer."""
    imds = state.data.get('imds')
    if imds is None:
        raise ScriptError(IMDS_FAILED.format(reason=CONNECT_FAILURE))
    if not isinstance(imds, dict) or not isinstance(imds.get('region', ''), str):
        raise MalformedState(f'imds: expected {{"region": "<region>"}}, got {imds!r}')
    region = imds.get('region', '').strip()
    if not region:
        raise ScriptError(IMDS_NO_REGION)
    return region


def _proxy_auth_detail(schemes: list[str], credentials_sent: bool) -> str:
    """preflight.ps1's words after a 407, by what the proxy offers and whether Basic credentials went out."""
    basic = any(scheme.casefold() == 'basic' for scheme in schemes)
    if not basic and schemes:
        return (f"it offers only {', '.join(schemes)} and the SSM Agent can authenticate to a proxy only with Basic "
                '(no credentials were sent)')
    if not basic:
        return 'it names no authentication scheme (no credentials were sent)'
    if credentials_sent:
        return 'it refused the Basic credentials that were sent'
    return 'it asks for Basic credentials and none were sent'


def probe_result(answer: _sim_network.Answer, service: str, url: str, through_proxy: bool, has_credential: bool,
                 timeout_seconds: int) -> dict[str, t.Any]:
    """preflight.ps1's Get-ProbeResult for what the simulated network answered (same keys, same words).

    ``no_connection`` is .NET's ConnectFailure, ``no_answer`` the script's own timeout, a proxy's status a
    WebException whose Response came from the CONNECT, ``untrusted_certificate`` TrustFailure.
    """
    host = urllib.parse.urlsplit(url).hostname
    target = f'{host}:443'
    entry: dict[str, t.Any] = {
        'service': service, 'url': url, 'reachable': False, 'outcome': 'unreachable', 'answered_by': None,
        'status': None, 'reason': None, 'proxy_auth': [], 'credentials_sent': False, 'error': None,
    }
    if answer.kind == 'no_answer':
        entry.update(outcome='timeout', error=f'no answer within {timeout_seconds} s (Timeout)')
    elif answer.kind == 'no_connection':
        entry['error'] = f'ConnectFailure: {CONNECT_FAILURE}'
    elif answer.kind == 'untrusted_certificate':
        entry.update(outcome='tls_untrusted', error=TRUST_FAILURE.format(target=target))
    else:
        entry.update(status=answer.status, reason=answer.reason)
        words = f'{answer.status} {answer.reason or ""}'.strip()
        if answer.status == 407:
            schemes: list[str] = []
            for challenge in answer.challenges:
                scheme = challenge.strip().split(None, 1)[0] if challenge.strip() else ''
                if scheme and scheme.casefold() not in [known.casefold() for known in schemes]:
                    schemes.append(scheme)
            sent = has_credential and any(scheme.casefold() == 'basic' for scheme in schemes)
            entry.update(answered_by='proxy', outcome='proxy_auth_required', proxy_auth=schemes, credentials_sent=sent,
                         error=f'the proxy refused CONNECT to {target} with {words}: {_proxy_auth_detail(schemes, sent)}')
        elif through_proxy and answer.kind == 'proxy':
            entry.update(answered_by='proxy', outcome='connect_refused', error=f'the proxy refused CONNECT to {target} with {words}')
        else:
            entry.update(answered_by='endpoint', outcome='reachable', reachable=True)
    return entry


@twin('preflight', should_process=True, Proxy=('string', ''), ProxyCredential=('pscredential', None), Region=('string', ''),
      Services=('string[]', PREFLIGHT_SERVICES), TimeoutSeconds=('int', 10))
def preflight(state: t.Any, parameters: t.Mapping[str, t.Any], check_mode: bool) -> tuple[bool, t.Any]:
    """plugins/plugin_utils/powershell/preflight.ps1: does the proxy carry the agent's traffic to Systems Manager?

    Region: the parameter, else ``imds.region`` of the state (no ``imds`` section: the script's IMDS
    error). Each endpoint meets what ``_sim_network.https_request`` says of the state's ``network``
    (unreachable proxies, proxies that refuse CONNECT, ask for Basic or only for Negotiate, deny hosts,
    intercept TLS or never answer), turned into the script's result by :func:`probe_result`. IMDS is
    link-local: the network section does not affect it. ProxyCredential counts as Basic credentials and
    is never recorded or returned. Read-only, the same in check mode; ``faults.preflight`` throws after
    ``$Ansible.Changed = $false``, before any result.
    """
    del check_mode
    try:
        raise_fault(state, 'preflight')
        if parameters['TimeoutSeconds'] < 1:
            raise ScriptError(f"TimeoutSeconds must be at least 1 (got {parameters['TimeoutSeconds']}).")
        if parameters['TimeoutSeconds'] > 3600:
            raise ScriptError(f"TimeoutSeconds must be at most 3600 (got {parameters['TimeoutSeconds']}).")
        address = proxy_address(parameters['Proxy']) if parameters['Proxy'] else None
        region, source = parameters['Region'], 'parameter'
        if not region:
            region, source = imds_region(state), 'imds'
        if not DNS_LABEL.fullmatch(region):
            raise ScriptError(f"Region '{region}' is not an AWS region name such as eu-west-1.")
        services = parameters['Services'] or []
        for service in services:
            if not DNS_LABEL.fullmatch(service):
                raise ScriptError(f"Service '{service}' is not an endpoint name such as ssm.")
        try:
            network = _sim_network.read_network(state.data)
        except _sim_network.NetworkFormatError as error:
            raise MalformedState(str(error)) from None
    except ScriptError as error:
        error.changed = False  # the script's first statement
        raise
    has_credential = address is not None and parameters['ProxyCredential'] is not None
    domain = 'amazonaws.com.cn' if region.casefold().startswith('cn-') else 'amazonaws.com'
    endpoints = []
    for service in services:
        host = f'{service}.{region}.{domain}'.lower()  # [Uri] lowercases the host, in `url` too
        answer = _sim_network.https_request(network, address, host, has_credential)
        endpoints.append(probe_result(answer, service, f'https://{host}/', address is not None, has_credential,
                                      parameters['TimeoutSeconds']))
    return False, {'region': region, 'region_source': source, 'endpoints': endpoints}


# --- restart_agent -----------------------------------------------------------------------------------------

AGENT_SERVICE = 'AmazonSSMAgent'
RESTART_KEY = 'HKLM:\\SOFTWARE\\ssm.proxy'
RESTART_VALUE = 'RestartRequestId'
OUTCOME_VALUE = 'RestartOutcome'
REQUEST_ID = re.compile(r'[A-Za-z0-9._:/+-]{1,128}')
# The detached process: Restart-Service, then up to two more Start-Service attempts.
START_ATTEMPTS = 3


def _outcome(request_id: str, outcome: str, message: str = '') -> str:
    """The JSON the script (and its detached process) writes to RestartOutcome; Get-Date's local time, agent-log format."""
    when = datetime.datetime.now().strftime('%Y-%m-%d %H:%M:%S')
    return json.dumps({'request_id': request_id, 'outcome': outcome, 'time': when, 'message': message}, separators=(',', ':'))


@twin('restart_agent', should_process=False, RequestId=('string', ''), DelaySeconds=('int', 3))
def restart_agent(state: t.Any, parameters: t.Mapping[str, t.Any], check_mode: bool) -> tuple[bool, t.Any]:
    """plugins/plugin_utils/powershell/restart_agent.ps1: a detached, once-per-request restart of the agent.

    A RequestId equal to ``HKLM:\\SOFTWARE\\ssm.proxy`` value ``RestartRequestId`` schedules nothing
    (changed false); otherwise the id is recorded FIRST (with RestartOutcome "scheduled"), then the agent
    is restarted AT ONCE through the code path win_service uses (startup block, ``agent.running``,
    ``faults.agent_start``), with the detached process's retries: Start-Service again after a failed
    restart, three attempts in all. RestartOutcome then says "running" or "failed" with the last error.
    Not simulated: the ``DelaySeconds`` wait and the attempts' sleeps. Failures before the scheduling
    (bad RequestId, missing service) report changed false, as the script sets ``$Ansible.Changed`` only
    once the restart is on its way. Never runs in check mode (no SupportsShouldProcess).
    ``faults.restart_agent`` throws first, with changed false.
    """
    del check_mode
    raise_fault(state, 'restart_agent', changed=False)
    request_id, delay = parameters['RequestId'], parameters['DelaySeconds']
    if not REQUEST_ID.fullmatch(request_id):
        raise ScriptError(f"RequestId must be 1 to 128 characters of A-Z a-z 0-9 . _ : / + - unique to this restart request "
                          f"(got '{request_id}').", changed=False)
    if delay < 0:
        raise ScriptError(f'DelaySeconds must not be negative (got {delay}).', changed=False)
    services = state.data.get('services') or {}
    name = next((listed for listed in services if listed.casefold() == AGENT_SERVICE.casefold()), None)
    if name is None:
        raise ScriptError(f"Cannot find any service with service name '{AGENT_SERVICE}'.",
                          exception_type='Microsoft.PowerShell.Commands.ServiceCommandException', category='ObjectNotFound',
                          error_id='NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand',
                          target=AGENT_SERVICE, changed=False)
    result = {'request_id': request_id, 'scheduled': False}
    previous = state.registry.get_value(RESTART_KEY, RESTART_VALUE) if state.registry.key_exists(RESTART_KEY) else None
    if previous is not None and previous[1].get('type') in ('REG_SZ', 'REG_EXPAND_SZ') and previous[1].get('value') == request_id:
        return False, result
    state.registry.set_value(RESTART_KEY, RESTART_VALUE, 'REG_SZ', request_id)
    state.registry.set_value(RESTART_KEY, OUTCOME_VALUE, 'REG_SZ', _outcome(request_id, 'scheduled'))
    # --- the detached process ---
    error = state.restart_service_detached(name)
    attempt = 1
    while error is not None and attempt < START_ATTEMPTS:
        attempt += 1
        error = state.start_service_detached(name)
    state.registry.set_value(RESTART_KEY, OUTCOME_VALUE, 'REG_SZ',
                             _outcome(request_id, 'failed' if error else 'running', error or ''))
    result['scheduled'] = True
    if _session_lost(state):
        # Over aws_ssm the session worker dies with the agent: the caller sees the command fail although the
        # restart was scheduled (and here: done). A re-run with the same RequestId must then be a no-op.
        raise ScriptError('The SSM session was closed before the command returned (the agent it runs in restarted).',
                          changed=True, result=result)
    return True, result


def _session_lost(state: t.Any) -> bool:
    """``faults.restart_agent_session_lost: N``: the next N restart_agent calls lose their session after the restart."""
    faults = state.data.get('faults') or {}
    remaining = faults.get('restart_agent_session_lost', 0) if isinstance(faults, dict) else 0
    if not isinstance(remaining, int) or isinstance(remaining, bool) or remaining < 0:
        raise MalformedState(f'faults.restart_agent_session_lost: expected a whole number >= 0, got {remaining!r}')
    if remaining == 0:
        return False
    faults['restart_agent_session_lost'] = remaining - 1
    return True


# --- write_values ------------------------------------------------------------------------------------------

# .NET Framework's messages (reference source, Microsoft.Win32.RegistryKey): OpenSubKey(name, true) on a key whose
# ACL refuses writing throws SecurityException "Requested registry access is not allowed." (Security_RegistryPermission);
# CreateSubKey on such an existing key swallows that and fails in RegCreateKeyEx: UnauthorizedAccessException "Access
# to the registry key '<key>' is denied." (Win32Error with the key's name); SetValue refused by RegSetValueEx calls
# Win32Error(ret, null): the generic "Attempted to perform an unauthorized operation."; DeleteValue(name, false)
# ignores RegDeleteValue's errors, so the script looks again. The fault lists are win_regedit's stand-in's: the
# same Windows refusal whichever code path meets it.
KEY_WRITE_DENIED = _sim_registry.KEY_WRITE_DENIED
KEY_CREATE_DENIED = _sim_registry.KEY_CREATE_DENIED
VALUE_WRITE_DENIED = _sim_registry.VALUE_WRITE_DENIED
VALUE_NOT_REMOVED = 'Windows did not remove the value (RegDeleteValue was refused).'


class ScriptFailed(Exception):
    """``$Ansible.Failed = $true`` and a return, without a terminating error: win_powershell reports failed, no error record."""

    def __init__(self, changed: bool, result: t.Any) -> None:
        super().__init__('failed')
        self.changed = changed
        self.result = result


def _fault_list(state: t.Any, name: str) -> list[str]:
    faults = state.data.get('faults') or {}
    listed = faults.get(name, []) if isinstance(faults, dict) else []
    if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
        raise MalformedState(f'faults.{name}: expected a list of strings, got {listed!r}')
    return listed


def _same_key(registry: t.Any, left: str, right: str) -> bool:
    """Two paths naming the same key (case-insensitive, ``HKU:\\.DEFAULT`` is ``S-1-5-18``)."""
    return _sim_registry._fold(*_sim_registry.split_path(left)) == _sim_registry._fold(*_sim_registry.split_path(right))


def _split_value_path(entry: str) -> tuple[str, str]:
    key, _sep, name = entry.rpartition('\\')
    return key, name


def _registry_path(path: t.Any) -> str:
    """Split-RegistryPath: one of the five hives and a subkey, or the script's own error."""
    text = ps_string(path)
    hive, sep, sub_key = text.partition(':\\')
    if not sep or hive.upper() not in HIVES or not sub_key:
        raise ScriptError(f"'{text}' is not a registry key path such as HKLM:\\SOFTWARE\\ssm.proxy.", changed=False)
    return text


def _value_state(state: t.Any, path: str, name: str) -> dict[str, t.Any]:
    """Get-ValueState: read_state.ps1's representation (signed integers, one hex string), or exists false."""
    registry = state.registry
    if not registry.key_exists(path):
        return {'exists': False}
    if any(_same_key(registry, path, denied) for denied in read_denied_keys(state) if registry.key_exists(denied)):
        raise _WriteRefused(READ_DENIED)
    found = registry.get_value(path, name)
    if found is None:
        return {'exists': False}
    entry = dotnet_value(found[1], f'registry {path!r} value {name!r}')
    reg_type = entry['type'] if entry['type'] in REG_TYPES else 'REG_UNKNOWN'
    return {'exists': True, 'type': reg_type, 'value': entry['value']}


class _WriteRefused(Exception):
    """A .NET exception inside the script; its message is what Get-Reason reports."""


def _same_value(current: t.Mapping[str, t.Any], wanted: t.Mapping[str, t.Any]) -> bool:
    """Test-SameValue: exact and ordinal ([string]::Equals(..., Ordinal)), integers as numbers."""
    if not wanted.get('exists'):
        return not current['exists']
    if not current['exists'] or current['type'] != ps_string(wanted.get('type')):
        return False
    if current['type'] == 'REG_MULTI_SZ':
        new = wanted.get('value')
        new_items = [ps_string(item) for item in (new if isinstance(new, list) else [new] if new is not None else [])]
        return list(current['value']) == new_items
    if current['type'] in ('REG_DWORD', 'REG_QWORD'):
        return int(current['value']) == int(wanted.get('value') or 0)
    return ps_string(current['value']) == ps_string(wanted.get('value'))


def _native_data(change: t.Mapping[str, t.Any]) -> tuple[str, t.Any]:
    """ConvertTo-RegistryData: the kind and the data SetValue stores (DWORD/QWORD arrive signed)."""
    reg_type = ps_string(change.get('type'))
    value = change.get('value')
    if reg_type in ('REG_SZ', 'REG_EXPAND_SZ'):
        return reg_type, ps_string(value)
    if reg_type == 'REG_MULTI_SZ':
        return reg_type, [ps_string(item) for item in (value if isinstance(value, list) else [] if value is None else [value])]
    if reg_type in ('REG_DWORD', 'REG_QWORD'):
        bits = 32 if reg_type == 'REG_DWORD' else 64
        number = int(value or 0)
        if not -(1 << (bits - 1)) <= number < (1 << (bits - 1)):
            # [int]/[long] of a number out of range: PowerShell's conversion error.
            raise _WriteRefused(f'Cannot convert value "{number}" to type "System.Int{bits}". Error: "Value was either too large or too small '
                                f'for an Int{bits}."')
        return reg_type, number & ((1 << bits) - 1)
    if reg_type in ('REG_BINARY', 'REG_NONE'):
        try:
            return reg_type, bytes.fromhex(ps_string(value))
        except ValueError:
            raise _WriteRefused('Could not find any recognizable digits.') from None
    raise _WriteRefused(f"unknown value type '{reg_type}'.")


def _apply_change(state: t.Any, change: t.Mapping[str, t.Any]) -> bool:
    """Set-Change: SetValue through CreateSubKey, or DeleteValue; whether the registry changed."""
    registry = state.registry
    path, name = _registry_path(change.get('path')), ps_string(change.get('name'))
    denied_keys = _fault_list(state, 'registry_key_write_denied')
    key_denied = any(_same_key(registry, path, denied) for denied in denied_keys)
    value_denied = any(_same_key(registry, path, key) and name.casefold() == value_name.casefold()
                       for key, value_name in map(_split_value_path, _fault_list(state, 'registry_write_denied')))
    hive, parts = _sim_registry.split_path(path)
    if change.get('exists'):
        reg_type, data = _native_data(change)
        if key_denied and registry.key_exists(path):
            raise _WriteRefused(KEY_CREATE_DENIED.format(key=_sim_registry.print_path(hive, parts)))
        if not registry.key_exists(path):
            try:
                registry.create_key(path, refused=denied_keys)
            except _sim_registry.RegistryError as error:
                raise _WriteRefused(str(error)) from None
        if value_denied:
            raise _WriteRefused(VALUE_WRITE_DENIED)
        registry.set_value(path, name, reg_type, data)
        return True
    if not registry.key_exists(path):
        return False
    if key_denied:
        raise _WriteRefused(KEY_WRITE_DENIED)
    if registry.get_value(path, name) is None:
        return False
    if value_denied:
        raise _WriteRefused(VALUE_NOT_REMOVED)
    registry.delete_value(path, name)
    return True


def _remove_if_empty(state: t.Any, path: str) -> bool:
    """Remove-EmptyKey: DeleteSubKey of a key with no value and no subkey."""
    registry = state.registry
    if not registry.key_exists(path) or registry.values(path) or registry.sub_keys(path):
        return False
    if any(_same_key(registry, path, denied) for denied in _fault_list(state, 'registry_key_write_denied')):
        raise _WriteRefused(KEY_WRITE_DENIED)
    registry.delete_key_tree(path)
    state.registry_acl.forget(path)  # the key's security descriptor goes with it
    return True


def _as_list(value: t.Any) -> list[t.Any]:
    """An [object[]] parameter: a list as given, anything else as one element."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


@twin('write_values', should_process=False, Changes=('object[]', []), Expect=('object[]', []), RunsKey=('string', ''),
      KnownRuns=('string[]', []), RemoveIfEmpty=('string[]', []))
def write_values(state: t.Any, parameters: t.Mapping[str, t.Any], check_mode: bool) -> tuple[bool, t.Any]:
    """plugins/plugin_utils/powershell/write_values.ps1: check what the controller decided from, then write in order.

    Every Expect entry must still hold exactly what it says (exists/type/value as read_state reports it), and
    RunsKey no ``*@*`` value outside KnownRuns and this call's own changes; otherwise nothing is written and the
    conflicts come back (a key the account may not read: reason ``unreadable``). The changes then run in order;
    the first the registry refuses (``faults.registry_key_write_denied``/``registry_write_denied``, the
    read-only roots) stops the rest: ``$Ansible.Failed`` with ``applied`` and ``error``. Never runs in check mode.
    ``faults.write_values`` throws first, with changed false.
    """
    del check_mode
    raise_fault(state, 'write_values', changed=False)
    mode = language_mode(state)
    if mode != 'FullLanguage':
        return False, {'language_mode': mode, 'conflicts': [], 'applied': []}
    changes = _as_list(parameters['Changes'])
    conflicts: list[dict[str, t.Any]] = []
    for wanted in _as_list(parameters['Expect']):
        path, name = ps_string(wanted.get('path')), ps_string(wanted.get('name'))
        try:
            current = _value_state(state, _registry_path(path), name)
        except (_WriteRefused, ScriptError) as error:
            conflicts.append({'path': path, 'name': name, 'reason': 'unreadable', 'message': str(error)})
            continue
        if not _same_value(current, wanted):
            conflicts.append({'path': path, 'name': name, 'reason': 'changed', 'message': ''})
    runs_key = parameters['RunsKey']
    if runs_key:
        runs_key = _registry_path(runs_key)
        writing = [ps_string(change.get('name')).casefold() for change in changes
                   if ps_string(change.get('path')).casefold() == runs_key.casefold()]
        known = [name.casefold() for name in parameters['KnownRuns'] or []]
        if state.registry.key_exists(runs_key):
            for name in state.registry.values(runs_key):
                if '@' in name and name.casefold() not in known and name.casefold() not in writing:
                    conflicts.append({'path': runs_key, 'name': name, 'reason': 'run', 'message': ''})
    if conflicts:
        return False, {'language_mode': 'FullLanguage', 'conflicts': conflicts, 'applied': []}
    applied: list[bool] = []
    index = 0
    removed: list[bool] = []
    try:
        for change in changes:
            try:
                applied.append(_apply_change(state, change))
            except ScriptError as error:  # Split-RegistryPath's throw, inside the script's try
                raise _WriteRefused(error.message) from None
            index += 1
        for path in parameters['RemoveIfEmpty'] or []:
            removed.append(_remove_if_empty(state, _registry_path(path)))
    except _WriteRefused as error:
        failed = changes[index] if index < len(changes) else {}
        raise ScriptFailed(any(applied) or any(removed), {
            'language_mode': 'FullLanguage', 'conflicts': [], 'applied': applied,
            'error': {'index': index, 'path': ps_string(failed.get('path', '')), 'name': ps_string(failed.get('name', '')),
                      'message': str(error)},
        }) from None
    return any(applied) or any(removed), {'language_mode': 'FullLanguage', 'conflicts': [], 'applied': applied}
