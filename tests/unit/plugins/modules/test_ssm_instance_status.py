# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ssm.proxy.ssm_instance_status against botocore's Stubber: no request ever leaves the process."""

from __future__ import annotations

import datetime
import functools
import importlib
import json
import pathlib
import typing as t

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.stub import Stubber  # noqa: E402  (after the importorskip above)

ROOT = pathlib.Path(__file__).resolve().parents[4]
UPSTREAM = ROOT / ".cache" / "collections"


def _import_module() -> t.Any:
    """The module under test; amazon.aws (its AnsibleAWSModule) comes from .cache/collections (make collections)."""
    try:
        importlib.import_module("ansible_collections.amazon.aws.plugins.module_utils.modules")
    except ImportError:
        if not (UPSTREAM / "ansible_collections" / "amazon" / "aws").is_dir():
            pytest.skip("amazon.aws is not in .cache/collections; run make collections")
        import ansible_collections

        ansible_collections.__path__.append(str(UPSTREAM / "ansible_collections"))
    return importlib.import_module("ansible_collections.ssm.proxy.plugins.modules.ssm_instance_status")


status = _import_module()
from ansible.module_utils.testing import patch_module_args  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils import cloud  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper  # noqa: E402

INSTANCE = "i-0123456789abcdef0"
FILTER = {"Filters": [{"Key": "InstanceIds", "Values": [INSTANCE]}]}
T0 = datetime.datetime(2025, 1, 31, 12, 0, 0, tzinfo=datetime.timezone.utc)
# Fake keys in the shape botocore wants; the Stubber answers before any signing or network.
FAKE_KEYS = {"aws_access_key_id": "AKIAFAKEFAKEFAKEFAKE", "aws_secret_access_key": "fake-secret-never-sent"}


def info(ping: str = "Online", last_ping: datetime.datetime = T0, **extra: t.Any) -> dict[str, t.Any]:
    """One InstanceInformation entry as DescribeInstanceInformation returns it for a Windows instance."""
    return {
        "InstanceId": INSTANCE,
        "PingStatus": ping,
        "LastPingDateTime": last_ping,
        "AgentVersion": "3.3.987.0",
        "IsLatestVersion": False,
        "PlatformType": "Windows",
        "PlatformName": "Microsoft Windows Server 2022 Datacenter",
        "PlatformVersion": "10.0.20348",
        "ComputerName": "EC2AMAZ-1A2B3C",
        "ResourceType": "EC2Instance",
        **extra,
    }


@pytest.fixture
def ssm() -> t.Iterator[tuple[t.Any, Stubber]]:
    """A real boto3 ssm client behind a Stubber, wrapped for retries as AnsibleAWSModule.client wraps it."""
    client = boto3.client("ssm", region_name="eu-west-1", **FAKE_KEYS)
    with Stubber(client) as stubber:
        yield RetryingBotoClientWrapper(client, status.RETRY), stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def no_backoff_sleep(monkeypatch) -> list[float]:
    """Record AWSRetry's backoff sleeps instead of sleeping."""
    slept: list[float] = []
    monkeypatch.setattr(cloud.time, "sleep", slept.append)
    return slept


def run_module(monkeypatch, client: t.Any, args: dict[str, t.Any], capsys) -> dict[str, t.Any]:
    """Run main() with ``args`` and the stubbed client; return the JSON it printed."""
    monkeypatch.setattr(AnsibleAWSModule, "client", lambda self, service, retry_decorator=None: client)
    with patch_module_args({"region": "eu-west-1", **args}), pytest.raises(SystemExit):
        status.main()
    return json.loads(capsys.readouterr().out)


def test_reports_the_agent_registration(ssm, capsys, monkeypatch) -> None:
    client, stubber = ssm
    stubber.add_response("describe_instance_information", {"InstanceInformationList": [info()]}, FILTER)
    result = run_module(monkeypatch, client, {"instance_id": INSTANCE}, capsys)
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert (result["ping_status"], result["agent_version"], result["is_latest_version"]) == ("Online", "3.3.987.0", False)
    assert result["platform_name"] == "Microsoft Windows Server 2022 Datacenter"
    assert result["last_ping"] == "2025-01-31T12:00:00+00:00"
    assert result["instance_information"]["computer_name"] == "EC2AMAZ-1A2B3C"
    assert result["waited"] == 0


def test_access_denied_names_the_iam_action(ssm, capsys, monkeypatch) -> None:
    client, stubber = ssm
    stubber.add_client_error(
        "describe_instance_information", service_error_code="AccessDeniedException", http_status_code=400,
        service_message="User: arn:aws:sts::111122223333:assumed-role/awx/x is not authorized to perform: ssm:DescribeInstanceInformation",
    )
    result = run_module(monkeypatch, client, {"instance_id": INSTANCE}, capsys)
    assert result["failed"]
    assert "Grant the IAM action ssm:DescribeInstanceInformation" in result["msg"]
    assert "eu-west-1" in result["msg"]


@pytest.mark.parametrize("answer", ["empty", "InvalidInstanceId"])
def test_unknown_instance_says_it_is_not_registered(ssm, capsys, monkeypatch, answer: str) -> None:
    client, stubber = ssm
    if answer == "empty":
        stubber.add_response("describe_instance_information", {"InstanceInformationList": []}, FILTER)
    else:
        stubber.add_client_error("describe_instance_information", service_error_code="InvalidInstanceId", http_status_code=400)
    result = run_module(monkeypatch, client, {"instance_id": INSTANCE}, capsys)
    assert result["failed"]
    assert f"{INSTANCE} is not registered with Systems Manager in eu-west-1" in result["msg"]


def test_throttling_is_retried_with_backoff(ssm, capsys, monkeypatch, no_backoff_sleep) -> None:
    client, stubber = ssm
    for _attempt in range(2):
        stubber.add_client_error("describe_instance_information", service_error_code="ThrottlingException", http_status_code=400)
    stubber.add_response("describe_instance_information", {"InstanceInformationList": [info()]}, FILTER)
    result = run_module(monkeypatch, client, {"instance_id": INSTANCE}, capsys)
    assert result.get("ping_status") == "Online", result.get("msg")
    assert len(no_backoff_sleep) == 2  # two backoff sleeps, then the answer


def test_bad_instance_id_fails_before_any_call(ssm, capsys, monkeypatch) -> None:
    client, _stubber = ssm
    result = run_module(monkeypatch, client, {"instance_id": "web01.corp.example.com"}, capsys)
    assert result["failed"] and "is not an EC2 instance id" in result["msg"]


class FakeClock:
    """Monotonic time that advances only when the code sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_waits_until_online_with_a_newer_ping(ssm) -> None:
    client, stubber = ssm
    restarted = T0 + datetime.timedelta(seconds=30)
    answers = [[], [info("ConnectionLost", T0 - datetime.timedelta(minutes=9))], [info("Online", T0)], [info("Online", restarted)]]
    for answer in answers:
        stubber.add_response("describe_instance_information", {"InstanceInformationList": answer}, FILTER)
    clock = FakeClock()
    found, waited, reached = status.wait_online_since(
        lambda: status.describe_instance(client, INSTANCE, "eu-west-1"), T0, timeout=300, delay=10, clock=clock, sleep=clock.sleep
    )
    # not registered yet, then ConnectionLost, then Online but pinged at T0 (not after it), then the new ping
    assert reached and found["LastPingDateTime"] == restarted
    assert clock.sleeps == [10, 10, 10] and waited == 30


def test_wait_times_out_with_what_it_last_saw(ssm, capsys, monkeypatch) -> None:
    client, stubber = ssm
    stale = info("Online", T0 - datetime.timedelta(minutes=3))
    stubber.add_response("describe_instance_information", {"InstanceInformationList": [stale]}, FILTER)
    stubber.add_response("describe_instance_information", {"InstanceInformationList": [stale]}, FILTER)
    clock = FakeClock()
    monkeypatch.setattr(status, "wait_online_since", functools.partial(status.wait_online_since, clock=clock, sleep=clock.sleep))
    result = run_module(monkeypatch, client, {"instance_id": INSTANCE, "wait_online_since": "2025-01-31T12:00:00Z", "timeout": 6, "delay": 5}, capsys)
    assert result["failed"]
    assert clock.sleeps == [5]  # a second sleep would overrun the timeout
    assert "Waited 6s" in result["msg"] and "last saw it Online at 2025-01-31T11:57:00+00:00" in result["msg"], result["msg"]


def test_check_mode_does_not_wait(ssm, capsys, monkeypatch) -> None:
    client, stubber = ssm
    stubber.add_response("describe_instance_information", {"InstanceInformationList": [info("Online", T0)]}, FILTER)
    result = run_module(monkeypatch, client, {"instance_id": INSTANCE, "wait_online_since": "1738324800", "_ansible_check_mode": True}, capsys)
    assert not result.get("failed"), result
    assert result["waited"] == 0  # one call: Stubber fails the test on a second


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-01-31T12:00:00Z", T0),
    ("2025-01-31T13:00:00+01:00", T0),
    ("2025-01-31T12:00:00", T0),  # naive: UTC, as now(utc=True).isoformat() renders it
    ("2025-01-31T12:00:00.250000", T0 + datetime.timedelta(milliseconds=250)),
    ("1738324800", T0),
    ("1738324800.5", T0 + datetime.timedelta(milliseconds=500)),
])
def test_parse_time(text: str, expected: datetime.datetime) -> None:
    assert status.parse_time("wait_online_since", text) == expected


@pytest.mark.parametrize("text", ["yesterday", "", "31/01/2025 12:00", "-5"])
def test_parse_time_rejects_what_is_not_a_time(text: str) -> None:
    with pytest.raises(status.StatusError, match="wait_online_since: .* is not a time"):
        status.parse_time("wait_online_since", text)


@pytest.mark.parametrize(("instance_id", "valid"), [
    ("i-0123456789abcdef0", True), ("i-01234567", True), ("mi-0123456789abcdef0", True),
    ("i-0123456789ABCDEF0", False), ("i-012345678", False), ("web01", False), ("mi-01234567", False),
])
def test_instance_id_forms(instance_id: str, valid: bool) -> None:
    if valid:
        assert status.check_instance_id(instance_id) == instance_id
    else:
        with pytest.raises(status.StatusError):
            status.check_instance_id(instance_id)


def test_credentials_are_no_log_options() -> None:
    """The AWS key options the module inherits from amazon.aws never reach output."""
    from ansible_collections.amazon.aws.plugins.module_utils.modules import aws_argument_spec

    spec = aws_argument_spec()
    assert spec["secret_key"].get("no_log") and spec["session_token"].get("no_log")
