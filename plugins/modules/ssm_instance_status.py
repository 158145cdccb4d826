#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ssm.proxy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# A controller-side module (run it with delegate_to: localhost): it talks to the Systems Manager API, not to the host.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ssm_instance_status
short_description: What AWS Systems Manager knows about an instance's agent, and wait for it to come back online
version_added: 0.1.0
description:
  - Asks Systems Manager (C(ssm:DescribeInstanceInformation), filtered by instance id) for the agent's ping status, the
    time of its last ping, its version, whether that version is the latest, and the platform.
  - With O(wait_online_since), waits until Systems Manager has seen the agent B(Online) with a ping newer than that time;
    proof from AWS itself that the agent reached the service after a proxy change and a restart. The agent reports to
    Systems Manager when it starts, so a restart with a working proxy shows within seconds to a minute.
  - "Read-only. Runs on the controller (C(delegate_to: localhost)); the instance itself is not contacted."
  - Throttled calls (C(ThrottlingException) and the like) are retried with jittered exponential backoff.
options:
  instance_id:
    description:
      - The managed node, an EC2 instance id (C(i-0123456789abcdef0)) or a hybrid managed node id (C(mi-...)).
      - With the M(amazon.aws.aws_ec2) inventory plugin this is the host variable C(instance_id).
    type: str
    required: true
  wait_online_since:
    description:
      - A time. Wait until the instance is C(Online) and its last ping is later than this time; fail after O(timeout).
      - ISO 8601 (C(2025-01-31T12:00:00Z), C(2025-01-31T13:00:00+01:00)) or seconds since the epoch (C(1738324800)).
        An ISO 8601 time without an offset is taken as UTC, so C({{ now(utc=True).isoformat() }}) taken before the
        change works.
      - An instance not yet registered with Systems Manager is waited for too (a first boot registers within minutes).
      - Not waited for in check mode (nothing was restarted); the current status is returned.
    type: str
  timeout:
    description: Seconds to wait with O(wait_online_since) before failing.
    type: int
    default: 300
  delay:
    description: Seconds between two requests while waiting.
    type: int
    default: 10
notes:
  - Needs the IAM action C(ssm:DescribeInstanceInformation) in the instance's region for the credentials the module runs
    with (the controller's, or those of an AWX/AAP AWS credential), not the instance's.
  - Systems Manager marks an agent C(ConnectionLost) only after several missed pings (minutes), so an agent that lost its
    proxy a moment ago may still show C(Online) with an old ping; compare RV(last_ping), or use O(wait_online_since).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
    description: The controller (or any host with boto3 and AWS credentials), with O(instance_id) naming the instance.
author:
  - ssm.proxy maintainers (@ssm-proxy)
seealso:
  - module: ssm.proxy.ssm_agent_proxy_info
  - name: DescribeInstanceInformation
    description: The Systems Manager API call this module makes.
    link: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeInstanceInformation.html
"""

EXAMPLES = r"""
# In a play over Windows hosts from the amazon.aws.aws_ec2 inventory (host variables instance_id, placement):
- name: Note the time before anything changes
  ansible.builtin.set_fact:
    proxy_change_started_at: "{{ now(utc=True).isoformat() }}"

- name: Configure the proxy
  ansible.builtin.include_role:
    name: ssm.proxy.agent_proxy

- name: Systems Manager saw the agent online after its restart
  ssm.proxy.ssm_instance_status:
    instance_id: "{{ instance_id }}"
    region: "{{ placement.region }}"
    wait_online_since: "{{ proxy_change_started_at }}"
    timeout: 600
  delegate_to: localhost
  # The role changed (and restarted) the agent only when its own settings differed.
  when: not (ssm_proxy_plan.compliance.ssm_agent_proxy | default(true))

- name: Read the agent's registration
  ssm.proxy.ssm_instance_status:
    instance_id: i-0123456789abcdef0
    region: eu-west-1
  delegate_to: localhost
  register: ssm_status

- name: Report agents that are not the latest version
  ansible.builtin.debug:
    msg: "{{ ssm_status.agent_version }} is not the latest SSM Agent"
  when: not ssm_status.is_latest_version
"""

RETURN = r"""
instance_id:
  description: The instance asked about.
  returned: always
  type: str
  sample: i-0123456789abcdef0
ping_status:
  description: C(Online), C(ConnectionLost) or C(Inactive), as Systems Manager last saw the agent.
  returned: success
  type: str
  sample: Online
last_ping:
  description: When the agent last reached Systems Manager, ISO 8601 in UTC.
  returned: success
  type: str
  sample: "2025-01-31T12:03:04.512000+00:00"
agent_version:
  description: The SSM Agent version the instance reported.
  returned: success
  type: str
  sample: 3.3.987.0
is_latest_version:
  description: Whether that is the latest agent version Systems Manager knows for the platform.
  returned: success
  type: bool
  sample: true
platform_name:
  description: The operating system name the agent reported.
  returned: success
  type: str
  sample: Microsoft Windows Server 2022 Datacenter
platform_type:
  description: C(Windows), C(Linux) or C(MacOS).
  returned: success
  type: str
  sample: Windows
waited:
  description: Seconds spent waiting with O(wait_online_since) (0 without it).
  returned: success
  type: float
  sample: 42.5
instance_information:
  description: Everything DescribeInstanceInformation returned for the instance, keys in snake case.
  returned: success
  type: dict
  sample: {"instance_id": "i-0123456789abcdef0", "ping_status": "Online", "computer_name": "EC2AMAZ-1A2B3C"}
"""

import datetime
import re
import time
import typing as t

try:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
except ImportError:
    pass  # AnsibleAWSModule reports the missing boto3/botocore

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

IAM_ACTION = "ssm:DescribeInstanceInformation"
# EC2 instance ids (i-, 8 or 17 hex digits) and hybrid managed node ids (mi-, 17 hex digits).
INSTANCE_ID_RE = re.compile(r"^(?:i-[0-9a-f]{8}(?:[0-9a-f]{9})?|mi-[0-9a-f]{17})$")
ACCESS_DENIED_CODES = ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation")
# DescribeInstanceInformation answers an id it has no record of with an empty list, or with this error.
UNKNOWN_INSTANCE_CODES = ("InvalidInstanceId",)
# Jittered exponential backoff on throttling. AWSRetry retries "Throttling", "RequestLimitExceeded" and the like,
# but not "ThrottlingException", the code Systems Manager answers with (its API reference, Common Errors).
THROTTLING_CODES = ["ThrottlingException"]
RETRY = AWSRetry.jittered_backoff(retries=8, delay=2, max_delay=30, catch_extra_error_codes=THROTTLING_CODES)

Clock = t.Callable[[], float]
Sleep = t.Callable[[float], None]


class StatusError(Exception):
    """A failure to report as the module's message (never contains credentials)."""


def parse_time(option: str, value: str) -> datetime.datetime:
    """An aware UTC datetime from ISO 8601 or epoch seconds; naive ISO times are UTC (as now(utc=True) renders them)."""
    text = value.strip()
    if re.match(r"^[0-9]+(?:\.[0-9]+)?$", text):
        return datetime.datetime.fromtimestamp(float(text), tz=datetime.timezone.utc)
    iso = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    try:
        parsed = datetime.datetime.fromisoformat(iso)
    except ValueError:
        raise StatusError(
            "%s: %r is not a time; give ISO 8601 (2025-01-31T12:00:00Z) or seconds since the epoch (1738324800)" % (option, value)
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def check_instance_id(instance_id: str) -> str:
    """Refuse what Systems Manager would reject with a less helpful InvalidInstanceInformationFilterValue."""
    if not INSTANCE_ID_RE.match(instance_id):
        raise StatusError(
            "instance_id: %r is not an EC2 instance id (i-0123456789abcdef0) or a managed node id (mi-...)" % instance_id
        )
    return instance_id


def error_code(error: Exception) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def describe_instance(client: t.Any, instance_id: str, region: t.Optional[str]) -> t.Optional[t.Dict[str, t.Any]]:
    """The InstanceInformation of one instance, or None when Systems Manager has no record of it.

    ``client`` is an ssm client wrapped by AnsibleAWSModule's retrying wrapper (``aws_retry=True`` retries
    throttled calls). AccessDenied becomes a message naming the IAM action to grant.
    """
    try:
        response = client.describe_instance_information(
            Filters=[{"Key": "InstanceIds", "Values": [instance_id]}], aws_retry=True
        )
    except ClientError as error:
        code = error_code(error)
        if code in ACCESS_DENIED_CODES:
            raise StatusError(
                "Not allowed to call %s in %s (%s). Grant the IAM action %s to the credentials this task runs with "
                "(the controller's or the AWX/AAP AWS credential's, not the instance's)"
                % (IAM_ACTION, region or "the configured region", code, IAM_ACTION)
            ) from None
        if code in UNKNOWN_INSTANCE_CODES:
            return None
        raise
    for info in response.get("InstanceInformationList", []):
        if info.get("InstanceId") == instance_id:
            return info
    return None


def not_registered_message(instance_id: str, region: t.Optional[str]) -> str:
    """Why an instance may be unknown to Systems Manager, and what to check."""
    return (
        "%s is not registered with Systems Manager in %s: its agent has never reached the service, or it is in another "
        "region or account. Check that the agent runs, that the instance profile allows Systems Manager "
        "(AmazonSSMManagedInstanceCore), and that ssm, ec2messages and ssmmessages are reachable through the proxy"
        % (instance_id, region or "the configured region")
    )


def is_online_since(info: t.Optional[t.Dict[str, t.Any]], since: datetime.datetime) -> bool:
    """Whether Systems Manager saw the agent Online with a ping later than ``since``."""
    if not info or info.get("PingStatus") != "Online":
        return False
    last_ping = info.get("LastPingDateTime")
    return isinstance(last_ping, datetime.datetime) and last_ping.astimezone(datetime.timezone.utc) > since


def wait_online_since(
    describe: t.Callable[[], t.Optional[t.Dict[str, t.Any]]],
    since: datetime.datetime,
    timeout: float,
    delay: float,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
) -> t.Tuple[t.Optional[t.Dict[str, t.Any]], float, bool]:
    """Poll ``describe`` until the agent is online since ``since`` or ``timeout`` passed: (last info, waited, reached)."""
    start = clock()
    while True:
        info = describe()
        waited = clock() - start
        if is_online_since(info, since):
            return info, waited, True
        if waited + delay > timeout:
            return info, waited, False
        sleep(delay)


def format_time(value: t.Any) -> t.Optional[str]:
    """ISO 8601 in UTC for datetimes botocore returns; None when absent."""
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).isoformat()
    return None if value is None else str(value)


def build_result(instance_id: str, info: t.Dict[str, t.Any], waited: float) -> t.Dict[str, t.Any]:
    """The module's return values from one InstanceInformation entry."""
    snake = camel_dict_to_snake_dict({key: format_time(value) if isinstance(value, datetime.datetime) else value for key, value in info.items()})
    return {
        "changed": False,
        "instance_id": instance_id,
        "ping_status": info.get("PingStatus"),
        "last_ping": format_time(info.get("LastPingDateTime")),
        "agent_version": info.get("AgentVersion"),
        "is_latest_version": info.get("IsLatestVersion"),
        "platform_name": info.get("PlatformName"),
        "platform_type": info.get("PlatformType"),
        "waited": round(waited, 1),
        "instance_information": snake,
    }


def timeout_message(instance_id: str, since: datetime.datetime, timeout: float, info: t.Optional[t.Dict[str, t.Any]], region: t.Optional[str]) -> str:
    """What was last seen when waiting gave up, and what that suggests."""
    if info is None:
        return "Waited %ds: %s" % (timeout, not_registered_message(instance_id, region))
    return (
        "Waited %ds for %s to be Online with a ping after %s; Systems Manager last saw it %s at %s. The agent has not "
        "reached Systems Manager since: check its log (C:\\ProgramData\\Amazon\\SSM\\Logs\\amazon-ssm-agent.log) and that "
        "the proxy allows CONNECT to ssm, ec2messages and ssmmessages"
        % (timeout, instance_id, since.isoformat(), info.get("PingStatus"), format_time(info.get("LastPingDateTime")))
    )


def run(module: t.Any, client: t.Any) -> t.Dict[str, t.Any]:
    """Validate, ask Systems Manager (waiting if asked), and return the result; raise StatusError to fail."""
    params = module.params
    instance_id = check_instance_id(params["instance_id"])
    since = None if params.get("wait_online_since") is None else parse_time("wait_online_since", params["wait_online_since"])
    if params["timeout"] < 0 or params["delay"] < 1:
        raise StatusError("timeout must be 0 or more and delay 1 or more seconds")
    region = module.region

    def describe() -> t.Optional[t.Dict[str, t.Any]]:
        return describe_instance(client, instance_id, region)

    if since is None or module.check_mode:
        info, waited, reached = describe(), 0.0, True
    else:
        info, waited, reached = wait_online_since(describe, since, params["timeout"], params["delay"])
        if not reached:
            raise StatusError(timeout_message(instance_id, since, params["timeout"], info, region))
    if info is None:
        raise StatusError(not_registered_message(instance_id, region))
    return build_result(instance_id, info, waited)


def main() -> None:
    argument_spec = dict(
        instance_id=dict(type="str", required=True),
        wait_online_since=dict(type="str"),
        timeout=dict(type="int", default=300),
        delay=dict(type="int", default=10),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("ssm", retry_decorator=RETRY)
    try:
        result = run(module, client)
    except StatusError as error:
        module.fail_json(msg=str(error), instance_id=module.params["instance_id"])
    except NoCredentialsError as error:
        module.fail_json_aws(error, msg="No AWS credentials: set profile, access_key/secret_key, or give the controller a role")
    except (BotoCoreError, ClientError) as error:
        module.fail_json_aws(error, msg="Failed to call %s for %s" % (IAM_ACTION, module.params["instance_id"]))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
