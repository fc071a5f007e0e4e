"""Ctrl-C under `-n 2` on real moto: SIGINT to pytest's whole process group while stacks are
being created must leave no stack and no resource behind (issue #18's reproduction: the
DynamoDB table and a function outlived DELETE_COMPLETE)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from steward.e2e import aws
from tests.e2e_plugin import sample

# A table and several functions: the create takes long enough on moto for Ctrl-C to land
# while CloudFormation is still creating resources.
TABLE_STACK = """
from steward.e2e import BaseInfrastructure

class {cls}(BaseInfrastructure):
    def create_resources(self):
        self.create_lambda_functions()
        self.template.add_resource("Table", "AWS::DynamoDB::Table", {{
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{{"AttributeName": "id", "AttributeType": "S"}}],
            "KeySchema": [{{"AttributeName": "id", "KeyType": "HASH"}}],
        }})
        self.add_cfn_output("Table", {{"Ref": "Table"}})
"""

TESTS = """
def test_uses_stack(record):
    assert record["Table"]
"""

HANDLERS = tuple(f"handler_{i}" for i in range(7))


def leftovers(run_id: str) -> dict[str, list[str]]:
    """Everything on the emulator that belongs to the run: stacks, functions, tables, logs."""
    cfn, lam = aws.client("cloudformation"), aws.client("lambda")
    ddb, logs = aws.client("dynamodb"), aws.client("logs")
    return {
        "stacks": sample.live_run_stacks(cfn, run_id),
        "functions": [
            f["FunctionName"]
            for page in lam.get_paginator("list_functions").paginate()
            for f in page["Functions"]
            if run_id in f["FunctionName"]
        ],
        "tables": [t for t in ddb.list_tables()["TableNames"] if run_id in t],
        "log_groups": [
            g["logGroupName"]
            for page in logs.get_paginator("describe_log_groups").paginate()
            for g in page["logGroups"]
            if run_id in g["logGroupName"]
        ],
    }


def _stack_creating(run_id: str) -> bool:
    # list_stacks, not describe_stacks: moto evaluates a stack's outputs on describe, and
    # doing that while the stack is being created makes moto create its resources twice
    cfn = aws.client("cloudformation")
    return any(s["StackName"].endswith(run_id) for s in cfn.list_stacks().get("StackSummaries", []))


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.3, 1.0])
def test_ctrl_c_to_the_process_group_under_xdist_leaves_nothing(
    tmp_path: Path, aws_env: Any, delay: float
) -> None:
    project = sample.write_project(
        tmp_path / "proj",
        sample.feature("alpha", TESTS, handlers=HANDLERS, stack=TABLE_STACK.format(cls="A")),
        sample.feature("beta", TESTS, handlers=HANDLERS, stack=TABLE_STACK.format(cls="B")),
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    run_id = secrets.token_hex(4)
    env = sample.run_env(aws_env.env, logs)
    proc = subprocess.Popen(
        sample.pytest_cmd("-n", "2", "--e2e-run-id", run_id),
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's Ctrl-C sees it
    )
    try:
        deadline = time.monotonic() + 120
        while not _stack_creating(run_id):
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "no stack was ever created"
            time.sleep(0.02)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=150)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert leftovers(run_id) == {"stacks": [], "functions": [], "tables": [], "log_groups": []}, out
    assert "BrokenPipeError" not in out, out


def _big_template() -> dict[str, Any]:
    """A role, a table and many functions with inline code: moto takes a while to create it."""
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        },
    }
    resources: dict[str, Any] = {"Role": role}
    resources["Table"] = {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        },
    }
    for i in range(25):
        resources[f"Fn{i}"] = {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.11",
                "Handler": "index.handler",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {"ZipFile": "def handler(e, c):\n    return e\n"},
            },
        }
    outputs = {f"Fn{i}": {"Value": {"Ref": f"Fn{i}"}} for i in range(25)}
    return {"Resources": resources, "Outputs": outputs}


def test_a_delete_that_lands_mid_create_waits_for_it_and_leaves_nothing(aws_env: Any) -> None:
    """The Ctrl-C race, without pytest: a delete (and the status polls before it) while the
    create request is still being served. Before the fix the delete went in at once and
    describe_stacks made moto create the functions a second time."""
    import json
    import threading

    from steward.e2e.deployer import CloudFormationDeployer

    run_id = secrets.token_hex(4)
    name = f"steward-e2e-race-{run_id}"
    cfn = aws.client("cloudformation")
    creating = threading.Thread(
        target=cfn.create_stack,
        kwargs={
            "StackName": name,
            "TemplateBody": json.dumps(_big_template()),
            "Capabilities": ["CAPABILITY_IAM"],
        },
    )
    creating.start()
    deployer = CloudFormationDeployer()
    while not any(s["StackName"] == name for s in cfn.list_stacks()["StackSummaries"]):
        assert creating.is_alive(), "the create finished before the delete could race it"
        time.sleep(0.005)
    deployer.delete(name, wait=True)
    creating.join()
    assert sample.live_run_stacks(cfn, run_id) == []
    assert leftovers(run_id) == {"stacks": [], "functions": [], "tables": [], "log_groups": []}


FAILS = """
def test_uses_stack(record):
    assert record["Table"]

def test_fails(record):
    assert False, "a failing test must not keep the stack"
"""


@pytest.mark.slow
def test_failing_tests_and_a_failed_deploy_under_xdist_leave_nothing(
    tmp_path: Path, aws_env: Any
) -> None:
    # moto's CloudFormation cannot create AppConfig: the deploy fails, after the rest was made
    broken = TABLE_STACK.format(cls="B").replace(
        'self.add_cfn_output("Table", {"Ref": "Table"})',
        'self.template.add_resource("App", "AWS::AppConfig::Application", {"Name": "x"})',
    )
    project = sample.write_project(
        tmp_path / "proj",
        sample.feature("alpha", FAILS, handlers=HANDLERS, stack=TABLE_STACK.format(cls="A")),
        sample.feature("beta", TESTS, handlers=HANDLERS, stack=broken),
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    run_id = secrets.token_hex(4)
    result = sample.run(
        project, sample.run_env(aws_env.env, logs), "-n", "2", "--e2e-run-id", run_id
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "a failing test must not keep the stack" in out, out
    assert "did not create App (AWS::AppConfig::Application)" in out, out
    assert leftovers(run_id) == {"stacks": [], "functions": [], "tables": [], "log_groups": []}, out
