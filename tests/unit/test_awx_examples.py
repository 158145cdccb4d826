# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX survey, the credential type and the aws_ec2 inventory examples agree with what they configure.

The survey must only ask for variables the agent_proxy role declares, in a type, choice list and default the role's
argument spec accepts; the credential type must inject the role's credential variables; the inventories must use
options the amazon.aws.aws_ec2 plugin documents (read with ansible-doc, no AWS call).
"""

from __future__ import annotations

import functools
import json
import os
import pathlib
import subprocess
import sys
import typing as t

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ARGUMENT_SPECS = ROOT / "roles" / "agent_proxy" / "meta" / "argument_specs.yml"
SURVEY = ROOT / "examples" / "awx" / "survey.json"
CREDENTIAL_TYPE = ROOT / "examples" / "awx" / "credential_type.yml"
INVENTORIES = ROOT / "examples" / "inventories"

# AWX survey question type -> (argument spec type, elements) it produces.
SURVEY_TYPES = {
    "text": ("str", None),
    "textarea": ("str", None),
    "password": ("str", None),
    "multiplechoice": ("str", None),
    "multiselect": ("list", "str"),
    "integer": ("int", None),
    "float": ("float", None),
}


def role_options() -> dict[str, dict[str, t.Any]]:
    return yaml.safe_load(ARGUMENT_SPECS.read_text(encoding="utf-8"))["argument_specs"]["main"]["options"]


def survey_questions() -> list[dict[str, t.Any]]:
    return json.loads(SURVEY.read_text(encoding="utf-8"))["spec"]


def survey_answer(question: dict[str, t.Any]) -> t.Any:
    """The value AWX passes for a question left at its default (multiselect defaults are newline-separated)."""
    default = question.get("default")
    if question["type"] == "multiselect":
        return [item for item in str(default).split("\n") if item]
    return default


def choices_of(question: dict[str, t.Any]) -> list[str]:
    """AWX accepts choices as a list or as one newline-separated string."""
    choices = question.get("choices", [])
    return [item for item in choices.split("\n") if item] if isinstance(choices, str) else list(choices)


@pytest.mark.parametrize("question", survey_questions(), ids=lambda q: q["variable"])
def test_survey_question_matches_the_role_argument_spec(question: dict[str, t.Any]) -> None:
    options = role_options()
    name = question["variable"]
    assert name in options, f"{name} is not a variable of roles/agent_proxy/meta/argument_specs.yml"
    option = options[name]
    spec_type, elements = SURVEY_TYPES[question["type"]]
    assert option.get("type", "str") == spec_type, f"{name}: survey type {question['type']} gives {spec_type}"
    assert option.get("elements") == elements, name
    if "choices" in option or question["type"] in ("multiplechoice", "multiselect"):
        assert choices_of(question) == option["choices"], f"{name}: the survey offers other choices than the role takes"
    answer = survey_answer(question)
    assert answer == option.get("default"), f"{name}: survey default {answer!r} differs from the role's {option.get('default')!r}"
    # A secret never goes through a survey (its answers are shown in the job's extra vars): use the credential type.
    assert not option.get("no_log") and question["type"] != "password", name


def test_survey_shape() -> None:
    survey = json.loads(SURVEY.read_text(encoding="utf-8"))
    assert survey["name"] and survey["description"]
    variables = [question["variable"] for question in survey["spec"]]
    assert len(variables) == len(set(variables))
    for question in survey["spec"]:
        assert {"question_name", "variable", "type", "required"} <= set(question), question
        if question["type"] == "integer":
            assert question["min"] <= question["default"] <= question["max"], question


def test_survey_answers_pass_the_role_argument_validation() -> None:
    """The default answers, validated by ansible-core's own argument spec validator against the role's spec."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    options = role_options()
    spec = {name: {key: value for key, value in option.items() if key in ("type", "elements", "choices", "default", "no_log")}
            for name, option in options.items()}
    answers = {question["variable"]: survey_answer(question) for question in survey_questions()}
    result = ArgumentSpecValidator(spec).validate(answers)
    assert not result.error_messages, result.error_messages


def credential_type() -> dict[str, t.Any]:
    return yaml.safe_load(CREDENTIAL_TYPE.read_text(encoding="utf-8"))


def test_credential_type_injects_the_role_credentials_as_extra_vars() -> None:
    definition = credential_type()
    options = role_options()
    fields = {field["id"]: field for field in definition["inputs"]["fields"]}
    assert fields["password"].get("secret") is True, "AWX encrypts and masks only secret fields"
    assert not fields["username"].get("secret")
    assert set(definition["inputs"]["required"]) == {"username", "password"}
    injected = definition["injectors"]["extra_vars"]
    assert injected == {"ssm_proxy_username": "{{ username }}", "ssm_proxy_password": "{{ password }}"}
    assert options["ssm_proxy_password"].get("no_log") is True
    assert "ssm_proxy_username" in options
    assert definition["kind"] in ("cloud", "net")  # the kinds AWX allows for custom credential types
    assert set(definition["injectors"]) <= {"extra_vars", "env", "file"}


def test_credential_and_survey_do_not_overlap() -> None:
    injected = set(credential_type()["injectors"]["extra_vars"])
    assert not injected & {question["variable"] for question in survey_questions()}


@functools.lru_cache(maxsize=1)
def aws_ec2_options() -> frozenset[str]:
    """Options of the amazon.aws.aws_ec2 inventory plugin, with its doc fragments, as ansible-doc reports them."""
    upstream = ROOT / ".cache" / "collections"
    if not (upstream / "ansible_collections" / "amazon" / "aws").is_dir():
        pytest.skip("amazon.aws is not in .cache/collections; run make collections")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(upstream), ANSIBLE_NOCOLOR="1")
    ansible_doc = pathlib.Path(sys.executable).with_name("ansible-doc")
    result = subprocess.run([str(ansible_doc), "-t", "inventory", "--json", "amazon.aws.aws_ec2"],
                            capture_output=True, text=True, env=env, check=True, timeout=120)
    return frozenset(json.loads(result.stdout)["amazon.aws.aws_ec2"]["doc"]["options"])


def inventory(name: str) -> dict[str, t.Any]:
    return yaml.safe_load((INVENTORIES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["aws_ec2_winrm.aws_ec2.yml", "aws_ec2_ssm.aws_ec2.yml"])
def test_inventory_uses_only_aws_ec2_options(name: str) -> None:
    source = inventory(name)
    assert name.endswith((".aws_ec2.yml", ".aws_ec2.yaml")), "the plugin only reads files named *.aws_ec2.yml"
    assert source["plugin"] == "amazon.aws.aws_ec2"
    assert set(source) - {"plugin"} <= aws_ec2_options(), set(source) - aws_ec2_options()
    assert source["filters"]["platform"] == "windows"
    assert "windows" in source["groups"], "the playbooks target the group windows"
    assert not {"ansible_password", "ansible_user"} & set(source["compose"]), "credentials belong in AWX credentials or a vault"


def test_winrm_inventory_connects_to_the_private_address_over_psrp() -> None:
    compose = inventory("aws_ec2_winrm.aws_ec2.yml")["compose"]
    assert compose["ansible_host"] == "private_ip_address"
    assert compose["ansible_connection"] in ("'psrp'", "'winrm'")


def test_ssm_inventory_has_what_aws_ssm_needs() -> None:
    source = inventory("aws_ec2_ssm.aws_ec2.yml")
    compose = source["compose"]
    assert compose["ansible_connection"] == "'amazon.aws.aws_ssm'"
    assert compose["ansible_shell_type"] == "'powershell'"
    assert compose["ansible_aws_ssm_region"] == "placement.region"
    assert compose["ansible_aws_ssm_instance_id"] == "instance_id"
    assert compose["ansible_aws_ssm_bucket_name"].strip("'")
    assert source["hostnames"] == ["instance-id"]
    text = (INVENTORIES / "aws_ec2_ssm.aws_ec2.yml").read_text(encoding="utf-8")
    assert "Bootstrap caveat" in text and "WinINet" in text and "S3" in text
