# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The service ``Environment`` value: a REG_MULTI_SZ of ``name=value`` lines.

Private to the ssm.proxy collection (internal use): no compatibility promises.

Windows' Service Control Manager merges these lines into the service's environment at every service start,
above the system and user environments. Variable names are case-insensitive on Windows. The collection
owns only the proxy variables; every other line belongs to someone else and is kept byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ._proxy import redact

PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy")


def line_name(line: str) -> str | None:
    """The lowercase variable name of an Environment line, or None for a line that is not ``name=value``."""
    name, sep, _value = line.partition("=")
    if not sep or not name:
        return None
    return name.lower()


def read_variables(lines: Sequence[str], names: Sequence[str] = PROXY_VARIABLES) -> dict[str, str | None]:
    """The value of each of ``names`` in the block (the first line wins, as in the SCM's merge), or None."""
    found: dict[str, str | None] = {name: None for name in names}
    for line in lines:
        name = line_name(line)
        if name in found and found[name] is None:
            found[name] = line.partition("=")[2]
    return found


def set_variables(lines: Sequence[str], wanted: Mapping[str, str | None]) -> list[str]:
    """Return ``lines`` with the variables of ``wanted`` set (value) or removed (None).

    A set variable takes the place of its first line, written with the lowercase name (the agent's plugins
    and ``ssm-cli get-diagnostics`` only know lowercase ``http_proxy``/``no_proxy``, spec §5); further
    lines of the same name in any case are dropped, since which one Windows would use is not defined.
    A first line that already holds exactly the wanted value keeps its bytes, whatever the case of its
    name: Windows and the agent read variable names case-insensitively, so ``HTTP_PROXY=<wanted>`` is
    already right, and rewriting it would restart the agent for nothing (and win_regedit, which compares
    REG_MULTI_SZ data case-insensitively, would not even write it). Variables new to the block are
    appended in the order of ``wanted``. All other lines keep their bytes and order.
    """
    wanted_lower = {name.lower(): value for name, value in wanted.items()}
    placed: set[str] = set()
    result: list[str] = []
    for line in lines:
        name = line_name(line)
        if name not in wanted_lower:
            result.append(line)
            continue
        value = wanted_lower[name]
        if value is not None and name not in placed:
            result.append(line if line.partition("=")[2] == value else f"{name}={value}")
        placed.add(name)
    for name, value in wanted_lower.items():
        if name not in placed and value is not None:
            result.append(f"{name}={value}")
    return result


def redact_lines(lines: Sequence[str]) -> list[str]:
    """Lines with every URL password replaced, for results and diffs (other lines may hold credentials too)."""
    return [redact(line) for line in lines]
