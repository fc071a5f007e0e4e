"""Per-resource verification after a stack is gone, on real moto."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from steward.e2e import aws
from steward.e2e.deployer import CloudFormationDeployer, StackSpec
from steward.e2e.resources import Resource, Verifier, is_gone, retained, stack_resources


def test_a_resource_that_outlived_its_stack_is_found_and_deleted(aws_env: Any) -> None:
    ssm = aws.client("ssm")
    name = f"/steward/{secrets.token_hex(4)}"
    ssm.put_parameter(Name=name, Value="v", Type="String")
    verifier = Verifier()
    resources = [
        Resource("AWS::SSM::Parameter", name, "P"),
        Resource("AWS::SSM::Parameter", f"{name}-never-made", "Q"),
        Resource("AWS::EC2::VPC", "vpc-123", "Unchecked"),
    ]
    assert verifier.leftovers(resources) == [resources[0]]
    assert verifier.remove([resources[0]]) == []
    assert verifier.leftovers(resources) == []


def test_retained_resources_are_not_checked(aws_env: Any) -> None:
    tag = secrets.token_hex(4)
    template = {
        "Resources": {
            "Kept": {
                "Type": "AWS::SSM::Parameter",
                "DeletionPolicy": "Retain",
                "Properties": {"Name": f"/steward/{tag}/kept", "Type": "String", "Value": "v"},
            },
            "Gone": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Name": f"/steward/{tag}/gone", "Type": "String", "Value": "v"},
            },
        }
    }
    assert retained(template) == {"Kept"}
    deployer = CloudFormationDeployer()
    stack = f"steward-e2e-retain-{tag}"
    deployer.deploy(StackSpec(name=stack, template=template, tags={}))
    assert [r.logical_id for r in stack_resources(deployer.cfn, stack)] == ["Gone"]
    deployer.delete(stack, wait=True)
    # the retained parameter is the user's to keep: verification must not delete it
    assert aws.client("ssm").get_parameter(Name=f"/steward/{tag}/kept")["Parameter"]["Value"]
    aws.client("ssm").delete_parameter(Name=f"/steward/{tag}/kept")
    assert deployer.leftovers == []


def test_not_found_is_recognised_across_services(aws_env: Any) -> None:
    from botocore.exceptions import ClientError

    for call in (
        lambda: aws.client("lambda").get_function(FunctionName="nope-" + secrets.token_hex(3)),
        lambda: aws.client("dynamodb").describe_table(TableName="nope-" + secrets.token_hex(3)),
        lambda: aws.client("ssm").get_parameter(Name="/nope/" + secrets.token_hex(3)),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert is_gone(caught.value), caught.value.response
    assert not is_gone(ValueError("boom"))
