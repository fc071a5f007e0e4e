"""The janitor: duration parsing, selection of leaked stacks, and the CLI against moto."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from steward.e2e.deployer import CloudFormationDeployer, StackInfo, StackSpec
from steward.e2e.janitor import leaked, parse_duration
from steward.e2e.naming import RUN_TAG
from steward.errors import UsageError

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(minutes=90)),
        ("0s", timedelta(0)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "2", "h", "2x", "1h 30m", "-1h", "2hh"])
def test_bad_duration_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="bad duration"):
        parse_duration(text)


def _stack(name: str, age: timedelta, tagged: bool = True) -> StackInfo:
    tags = {RUN_TAG: "r1"} if tagged else {}
    return StackInfo(name=name, status="CREATE_COMPLETE", tags=tags, created=NOW - age, outputs={})


def test_leaked_keeps_young_untagged_and_foreign_prefixed_stacks() -> None:
    stacks = [
        _stack("steward-e2e-old", timedelta(hours=3)),
        _stack("steward-e2e-older", timedelta(days=2)),
        _stack("steward-e2e-young", timedelta(minutes=10)),
        _stack("steward-e2e-handmade", timedelta(days=9), tagged=False),
        _stack("prod-api", timedelta(days=9)),
    ]
    found = leaked(stacks, now=NOW, older_than=timedelta(hours=2), prefix="steward-e2e")
    assert [s.name for s in found] == ["steward-e2e-older", "steward-e2e-old"]


def _janitor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "steward", "e2e", "janitor", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_janitor_cli_deletes_leaks_once(aws_env: Any, cfn: Any) -> None:
    prefix = f"jan{secrets.token_hex(3)}"
    deployer = CloudFormationDeployer()
    template = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {}}}}
    for i in range(2):
        spec = StackSpec(name=f"{prefix}-f{i}", template=template, tags={RUN_TAG: "old-run"})
        deployer.deploy(spec)
    bystander = f"x{prefix}"
    deployer.deploy(StackSpec(name=bystander, template=template, tags={RUN_TAG: "old-run"}))
    env = {**os.environ, **aws_env.env}

    dry = _janitor(env, "--older-than", "0s", "--prefix", prefix, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("would delete") == 2
    assert deployer.describe(f"{prefix}-f0") is not None  # dry run deleted nothing

    real = _janitor(env, "--older-than", "0s", "--prefix", prefix)
    assert real.returncode == 0, real.stderr
    assert "deleted 2 stack(s)" in real.stdout
    assert deployer.describe(f"{prefix}-f0") is None
    assert deployer.describe(f"{prefix}-f1") is None
    assert deployer.describe(bystander) is not None

    again = _janitor(env, "--older-than", "0s", "--prefix", prefix)
    assert again.returncode == 0
    assert "no leaked E2E stacks" in again.stdout
    deployer.delete(bystander)


def test_janitor_cli_bad_duration_exits_2_without_traceback() -> None:
    result = _janitor(dict(os.environ), "--older-than", "soon")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: bad duration 'soon': use e.g. 90s, 30m, 2h, 1d or 1h30m"
