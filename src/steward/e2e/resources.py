"""Check, after a stack is gone, that its resources went with it; delete those that did not.

DELETE_COMPLETE is CloudFormation's word, not proof: an emulator that deletes a stack while
it is still creating it (a Ctrl-C mid-deploy) leaves whatever it created afterwards, and a
resource a provider forgot stays forever. So the deployer records a stack's physical
resources before deleting it and, once the stack is gone, looks each one up by type.

Only the types below are checked; others are listed as unchecked, never guessed at.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from steward.e2e import aws

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resource:
    """One physical resource of a stack, as `list_stack_resources` names it."""

    type: str
    physical_id: str
    logical_id: str = ""


Probe = Callable[[Any, str], None]  # raises a "not found" ClientError when the resource is gone
Remove = Callable[[Any, str], None]


def _layer_version(client: Any, arn: str) -> None:
    client.get_layer_version_by_arn(Arn=arn)


def _delete_layer_version(client: Any, arn: str) -> None:
    name, version = arn.rsplit(":", 2)[-2:]
    client.delete_layer_version(LayerName=name, VersionNumber=int(version))


def _log_group(client: Any, name: str) -> None:
    groups = client.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
    if not any(g.get("logGroupName") == name for g in groups):
        raise LookupError(name)


# type -> (service, probe, delete)
CHECKS: dict[str, tuple[str, Probe, Remove]] = {
    "AWS::Lambda::Function": (
        "lambda",
        lambda c, i: c.get_function(FunctionName=i),
        lambda c, i: c.delete_function(FunctionName=i),
    ),
    "AWS::Lambda::LayerVersion": ("lambda", _layer_version, _delete_layer_version),
    "AWS::DynamoDB::Table": (
        "dynamodb",
        lambda c, i: c.describe_table(TableName=i),
        lambda c, i: c.delete_table(TableName=i),
    ),
    "AWS::Logs::LogGroup": (
        "logs",
        _log_group,
        lambda c, i: c.delete_log_group(logGroupName=i),
    ),
    "AWS::SQS::Queue": (
        "sqs",
        lambda c, i: c.get_queue_attributes(QueueUrl=i, AttributeNames=["QueueArn"]),
        lambda c, i: c.delete_queue(QueueUrl=i),
    ),
    "AWS::SNS::Topic": (
        "sns",
        lambda c, i: c.get_topic_attributes(TopicArn=i),
        lambda c, i: c.delete_topic(TopicArn=i),
    ),
    "AWS::SSM::Parameter": (
        "ssm",
        lambda c, i: c.get_parameter(Name=i),
        lambda c, i: c.delete_parameter(Name=i),
    ),
}

_GONE_CODES = ("NotFound", "NoSuch", "NonExistent", "DoesNotExist")


def is_gone(exc: BaseException) -> bool:
    """A lookup error that means "no such resource" (each service words it its own way)."""
    if isinstance(exc, LookupError):
        return True
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status == 404 or any(word in code for word in _GONE_CODES)


KEPT = {"Retain", "RetainExceptOnCreate"}  # DeletionPolicy values that mean "outlive the stack"


def retained(template: Any) -> set[str]:
    """Logical ids the template asks CloudFormation to keep after the stack is deleted."""
    resources = template.get("Resources") if isinstance(template, dict) else None
    if not isinstance(resources, dict):
        return set()
    return {
        logical
        for logical, body in resources.items()
        if isinstance(body, dict) and body.get("DeletionPolicy") in KEPT
    }


def stack_resources(cfn: Any, stack: str) -> list[Resource]:
    """The stack's physical resources that should go with it: created ones (a physical id)
    whose DeletionPolicy does not keep them."""
    body = cfn.get_template(StackName=stack).get("TemplateBody")
    if isinstance(body, str):  # JSON may come back as text too; YAML always does
        body = _json_or_none(body)
    if not isinstance(body, dict):
        return []  # what the template keeps is unknown: check nothing rather than delete it
    keep = retained(body)
    out: list[Resource] = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack):
        for r in page.get("StackResourceSummaries", []):
            if r.get("PhysicalResourceId") and r["LogicalResourceId"] not in keep:
                out.append(
                    Resource(r["ResourceType"], r["PhysicalResourceId"], r["LogicalResourceId"])
                )
    return out


def _json_or_none(text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except ValueError:  # YAML: steward deploys JSON; a foreign stack is left unchecked
        return None


@dataclass
class Verifier:
    """Looks resources up after their stack is gone; deletes and reports what remains."""

    client_for: Callable[[str], Any] = aws.client

    def __post_init__(self) -> None:
        self._clients: dict[str, Any] = {}

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.client_for(service)
        return self._clients[service]

    def leftovers(self, resources: Iterable[Resource]) -> list[Resource]:
        """Checked resources that still exist."""
        found = []
        for resource in resources:
            check = CHECKS.get(resource.type)
            if check is None:
                continue
            service, probe, _ = check
            try:
                probe(self._client(service), resource.physical_id)
            except Exception as exc:
                if is_gone(exc):
                    continue
                log.warning("could not check %s %s: %s", resource.type, resource.physical_id, exc)
                continue
            found.append(resource)
        return found

    def remove(self, resources: Iterable[Resource]) -> list[str]:
        """Delete what `leftovers` found; returns the errors (an empty list when all went)."""
        errors = []
        for resource in resources:
            service, _, remove = CHECKS[resource.type]
            try:
                remove(self._client(service), resource.physical_id)
            except Exception as exc:
                if not is_gone(exc):
                    errors.append(f"{resource.type} {resource.physical_id}: {exc}")
        return errors
