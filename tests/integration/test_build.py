# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The built collection holds what a user needs and nothing of the development set-up (galaxy.yml build_ignore).

`ansible-galaxy collection build` runs on the working tree, where caches, virtualenvs and test output really exist.
Every file in the tarball must be shipped content, and every tracked file of the shipped kinds must be in it.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
import tarfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration
# What a user of the collection gets: content, its documentation and metadata, changelog, and the tests that run
# against a real host (integration targets) or in ansible-test (sanity ignore files).
SHIPPED = re.compile(
    r"^(MANIFEST\.json|FILES\.json|README\.md|LICENSE|requirements\.yml"
    r"|(plugins|roles|playbooks|docs|examples|ee|meta)/.+"
    r"|changelogs/(changelog\.yaml|config\.yaml|fragments/.+)|CHANGELOG\.rst"
    r"|tests/sanity/ignore-[0-9.]+\.txt|tests/integration/(README\.md|run_target\.yml|targets/.+))$"
)
NEVER = re.compile(r"(^|/)(__pycache__|\.pytest_cache|\.hypothesis|\.cache|\.venv[^/]*|\.ci)(/|$)|\.pyc$|(^|/)test_[^/]*\.py$|conftest\.py$")
REQUIRED = ["roles/agent_proxy/meta/argument_specs.yml", "plugins/plugin_utils/powershell/preflight.ps1",
            "playbooks/configure.yml", "meta/runtime.yml", "docs/diagnosing.md", "changelogs/changelog.yaml",
            "tests/integration/targets/ssm_agent_proxy/tasks/main.yml", "tests/sanity/ignore-2.19.txt", "LICENSE"]


@pytest.fixture(scope="module")
def tarball_files(tmp_path_factory) -> list[str]:
    output = tmp_path_factory.mktemp("build")
    galaxy = pathlib.Path(sys.executable).with_name("ansible-galaxy")
    result = subprocess.run([str(galaxy), "collection", "build", "--output-path", str(output), str(ROOT)],
                            capture_output=True, text=True, check=False, timeout=300, env=dict(os.environ))
    assert result.returncode == 0, result.stdout + result.stderr
    (tarball,) = output.glob("ssm-proxy-*.tar.gz")
    with tarfile.open(tarball) as archive:
        return sorted(member.name for member in archive.getmembers() if member.isfile())


def tracked_files() -> list[str]:
    result = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


def test_only_shipped_content_is_in_the_tarball(tarball_files: list[str]) -> None:
    unexpected = [name for name in tarball_files if not SHIPPED.match(name) or NEVER.search(name)]
    assert not unexpected, f"add these to build_ignore in galaxy.yml (or to SHIPPED here if users need them): {unexpected}"


def test_every_shipped_file_is_in_the_tarball(tarball_files: list[str]) -> None:
    missing = [name for name in tracked_files()
               if SHIPPED.match(name) and not NEVER.search(name) and (ROOT / name).exists() and name not in tarball_files]
    assert not missing, missing
    for name in REQUIRED:
        assert name in tarball_files, name
