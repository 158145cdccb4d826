# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution environment: ansible-builder reads the collection's metadata and writes a complete build context.

`ansible-builder create` only writes files (no container engine), and `ansible-builder introspect` is what the
builder stage runs on the installed collections, so both show what a real `ansible-builder build` would do.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest
import yaml

pytest.importorskip("ansible_builder")

ROOT = pathlib.Path(__file__).resolve().parents[2]
EE_DEFINITION = ROOT / "ee" / "execution-environment.yml"
PYTHON_DEPENDENCIES = ("pywinrm", "pypsrp", "boto3", "botocore")


def ansible_builder(*args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess[str]:
    builder = pathlib.Path(sys.executable).with_name("ansible-builder")
    return subprocess.run([str(builder), *args], capture_output=True, text=True, cwd=cwd, check=False, timeout=120)


def requirement_names(lines: list[str]) -> set[str]:
    return {line.split("#")[0].strip().split(">")[0].split("=")[0].split("<")[0].split("[")[0].strip().lower() for line in lines}


def test_collection_metadata_is_what_ansible_builder_introspects(tmp_path: pathlib.Path) -> None:
    """meta/execution-environment.yml, as ansible-builder finds it in an installed collection tree."""
    tree = tmp_path / "ansible_collections" / "ssm"
    tree.mkdir(parents=True)
    (tree / "proxy").symlink_to(ROOT)
    result = ansible_builder("introspect", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load(result.stdout)
    assert requirement_names(data["python"]) == set(PYTHON_DEPENDENCIES), data
    assert all(line.endswith("# from collection ssm.proxy") for line in data["python"])
    assert data["system"] == []  # see meta/ee-bindep.txt: nothing needed at run time, session-manager-plugin excepted


@pytest.fixture(scope="module")
def context(tmp_path_factory) -> pathlib.Path:
    context = tmp_path_factory.mktemp("ee") / "context"
    result = ansible_builder("create", "-f", str(EE_DEFINITION), "-c", str(context), "--output-filename", "Containerfile",
                             cwd=EE_DEFINITION.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    return context


def test_definition_is_ansible_builder_v3() -> None:
    definition = yaml.safe_load(EE_DEFINITION.read_text(encoding="utf-8"))
    assert definition["version"] == 3
    assert definition["dependencies"]["ansible_core"]["package_pip"].startswith("ansible-core")


def test_build_context_installs_the_collections(context: pathlib.Path) -> None:
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text(encoding="utf-8"))
    assert [entry["name"] for entry in galaxy["collections"]] == ["ansible.windows", "amazon.aws", "ssm.proxy"]
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    assert "ansible-galaxy collection install" in containerfile and "-r requirements.yml" in containerfile
    assert "ansible-core>=2.17,<2.20" in containerfile and "ansible-runner" in containerfile


def test_build_context_installs_the_python_dependencies(context: pathlib.Path) -> None:
    lines = (context / "_build" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert requirement_names(lines) == set(PYTHON_DEPENDENCIES)
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    # The builder stage merges these with every collection's own requirements (ours: meta/ee-requirements.txt).
    assert "COPY _build/requirements.txt requirements.txt" in containerfile
    assert "introspect.py introspect --user-pip=requirements.txt" in containerfile


def test_build_context_installs_the_session_manager_plugin(context: pathlib.Path) -> None:
    """amazon.aws.aws_ssm runs session-manager-plugin on the controller: the final image must carry it."""
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    final_stage = containerfile[containerfile.index("FROM base AS final"):]
    assert "https://s3.amazonaws.com/session-manager-downloads/plugin/latest/${dir}/session-manager-plugin.rpm" in final_stage
    assert final_stage.index("session-manager-plugin --version") < final_stage.index("USER 1000")
