"""CloudFormationDeployer against a real moto server: create, adopt, replace, sweep."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from steward.e2e.deployer import CloudFormationDeployer, DeployError, StackSpec, run_predicate
from steward.e2e.naming import RUN_TAG
from steward.e2e.template import Template

QUEUE = {"Type": "AWS::SQS::Queue", "Properties": {}}


def _spec(name: str, run: str, resources: dict[str, Any] | None = None) -> StackSpec:
    template: dict[str, Any] = {"Resources": resources or {"Q": QUEUE}}
    if resources is None:
        template["Outputs"] = {"QueueUrl": {"Value": {"Ref": "Q"}}, "Fixed": {"Value": "hello"}}
    return StackSpec(name=name, template=template, tags={RUN_TAG: run})


def _ids(cfn: Any, name: str) -> list[tuple[str, str]]:
    out = []
    for page in cfn.get_paginator("list_stacks").paginate():
        out += [
            (s["StackId"], s["StackStatus"])
            for s in page["StackSummaries"]
            if s["StackName"] == name
        ]
    return out


def _name() -> str:
    return f"t-{secrets.token_hex(4)}"


def test_deploy_returns_outputs_and_tags_the_stack(cfn: Any) -> None:
    name, run = _name(), secrets.token_hex(4)
    outputs = CloudFormationDeployer().deploy(_spec(name, run))
    assert outputs["Fixed"] == "hello"
    assert outputs["QueueUrl"].endswith(f"/{name}-Q-" + outputs["QueueUrl"].rsplit("-", 1)[1])
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert {"Key": RUN_TAG, "Value": run} in stack["Tags"]


def test_second_deploy_of_the_same_run_adopts_the_stack(cfn: Any) -> None:
    # what a restarted worker does after its predecessor died mid-feature
    name, run = _name(), "run-a"
    first = CloudFormationDeployer().deploy(_spec(name, run))
    second = CloudFormationDeployer().deploy(_spec(name, run))
    assert second == first
    assert len(_ids(cfn, name)) == 1  # the same stack, not a new one


def test_stack_of_another_run_is_never_touched(cfn: Any) -> None:
    name = _name()
    CloudFormationDeployer().deploy(_spec(name, "run-a"))
    with pytest.raises(DeployError, match="belongs to run 'run-a'"):
        CloudFormationDeployer().deploy(_spec(name, "run-b"))
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


BROKEN_FUNCTION = {
    "Type": "AWS::Lambda::Function",
    "Properties": {
        "Runtime": "python3.11",
        "Handler": "x.handler",
        "Role": "arn:aws:iam::123456789012:role/does-not-exist",
        "Code": {"ZipFile": "def handler(e, c): return e"},
    },
}


def test_failed_create_is_reported_and_deleted(cfn: Any) -> None:
    name = _name()
    with pytest.raises(DeployError, match=f"deploy of stack {name} failed"):
        CloudFormationDeployer().deploy(_spec(name, "r", {"Fn": BROKEN_FUNCTION}))
    assert [status for _, status in _ids(cfn, name)] == ["DELETE_COMPLETE"]


def test_leftover_in_a_broken_state_is_replaced(cfn: Any) -> None:
    name = _name()
    # moto leaves a failed create in CREATE_IN_PROGRESS: a stack that can never be adopted
    body = json.dumps({"Resources": {"Fn": BROKEN_FUNCTION}})
    with pytest.raises(Exception):
        cfn.create_stack(StackName=name, TemplateBody=body, Tags=[{"Key": RUN_TAG, "Value": "r"}])
    broken_id = _ids(cfn, name)[0][0]
    outputs = CloudFormationDeployer(stuck_after=0.5).deploy(_spec(name, "r"))
    assert outputs["Fixed"] == "hello"
    statuses = dict(_ids(cfn, name))
    assert statuses[broken_id] == "DELETE_COMPLETE"
    assert sorted(statuses.values()) == ["CREATE_COMPLETE", "DELETE_COMPLETE"]


def test_large_template_goes_through_s3(cfn: Any) -> None:
    name = _name()
    template = Template()
    for i in range(400):  # > 51,200 bytes of JSON
        template.add_resource(
            f"Queue{i:04d}", "AWS::SQS::Queue", {"Tags": [{"Key": "pad", "Value": "x" * 80}]}
        )
    template.add_output("Last", {"Fn::GetAtt": ["Queue0399", "QueueName"]})
    spec = StackSpec(name=name, template=template.to_dict(), tags={RUN_TAG: "big"})
    assert len(json.dumps(spec.template)) > 51_200
    outputs = CloudFormationDeployer().deploy(spec)
    assert outputs["Last"].startswith(f"{name}-Queue0399")


def test_delete_is_idempotent(cfn: Any) -> None:
    name = _name()
    deployer = CloudFormationDeployer()
    deployer.deploy(_spec(name, "r"))
    deployer.delete(name, wait=True)
    deployer.delete(name, wait=True)
    assert deployer.describe(name) is None


def test_sweep_deletes_only_the_runs_stacks(cfn: Any) -> None:
    run, other = secrets.token_hex(4), secrets.token_hex(4)
    mine = [_name(), _name()]
    theirs = _name()
    deployer = CloudFormationDeployer()
    for name in mine:
        deployer.deploy(_spec(name, run))
    deployer.deploy(_spec(theirs, other))
    assert sorted(deployer.sweep(run_predicate(run))) == sorted(mine)
    assert all(deployer.describe(n) is None for n in mine)
    assert deployer.describe(theirs) is not None
    deployer.delete(theirs)


APPCONFIG_APP = {"Type": "AWS::AppConfig::Application", "Properties": {"Name": "e2e"}}
QUEUE = {"Type": "AWS::SQS::Queue", "Properties": {}}


def test_a_resource_the_target_skipped_fails_the_deploy_and_names_it(cfn: Any) -> None:
    """moto's CloudFormation has no AppConfig: it warns and creates the rest. Before, the
    deploy "succeeded" and the feature's tests failed later for another reason."""
    name = _name()
    spec = _spec(name, "r", {"App": APPCONFIG_APP, "Queue": QUEUE})
    with pytest.raises(DeployError, match=r"did not create App \(AWS::AppConfig::Application\)"):
        CloudFormationDeployer().deploy(spec)
    assert [status for _, status in _ids(cfn, name)] == ["DELETE_COMPLETE"]


def test_an_allowed_skipped_type_deploys_the_rest(cfn: Any) -> None:
    from dataclasses import replace

    name = _name()
    spec = replace(
        _spec(name, "r", {"App": APPCONFIG_APP, "Queue": QUEUE}),
        allow_skipped=("AWS::AppConfig::*",),
    )
    CloudFormationDeployer().deploy(spec)
    assert [status for _, status in _ids(cfn, name)] == ["CREATE_COMPLETE"]
    CloudFormationDeployer().delete(name, wait=True)
