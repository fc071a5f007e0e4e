"""A CloudFormation function's layers on moto, which drops them.

moto (5.2) creates an `AWS::Lambda::Function` without its `Layers` and gives an
`AWS::Lambda::LayerVersion` no physical id. The layers are recovered from the template of
the stack holding the function: a `Ref` to a layer resource of that stack is the layer
moto named `<stack>-<logical id>-<suffix>`; an ARN is taken as it is.
"""

from __future__ import annotations

import json
from typing import Any


def stack_layers(cfn: Any, lam: Any, function_name: str) -> list[str]:
    """The layer version ARNs the function's stack template gives it; [] when not found."""
    from botocore.exceptions import ClientError

    for page in cfn.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            if stack["StackStatus"] == "DELETE_COMPLETE":
                continue
            name = stack["StackName"]
            try:
                resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
            except ClientError:  # deleted since it was listed
                continue
            logical = next(
                (
                    r.get("LogicalResourceId")
                    for r in resources
                    if r.get("ResourceType") == "AWS::Lambda::Function"
                    and r.get("PhysicalResourceId") == function_name
                ),
                None,
            )
            if logical is None:
                continue
            return _resolve(cfn, lam, name, logical, resources)
    return []


def _resolve(cfn: Any, lam: Any, stack: str, logical: str, resources: list[Any]) -> list[str]:
    body = cfn.get_template(StackName=stack).get("TemplateBody")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:  # YAML: not ours to parse
            return []
    if not isinstance(body, dict):
        return []
    props = body.get("Resources", {}).get(logical, {}).get("Properties", {})
    physical = {r.get("LogicalResourceId"): r.get("PhysicalResourceId") for r in resources}
    arns: list[str] = []
    for layer in props.get("Layers") or []:
        if isinstance(layer, str) and layer.startswith("arn:"):
            arns.append(layer)
        elif isinstance(layer, dict) and isinstance(layer.get("Ref"), str):
            ref = layer["Ref"]
            known = physical.get(ref)
            arn = known if isinstance(known, str) and known.startswith("arn:") else None
            arn = arn or _latest(lam, f"{stack}-{ref}-")
            if arn:
                arns.append(arn)
    return arns


def _latest(lam: Any, prefix: str) -> str | None:
    for page in lam.get_paginator("list_layers").paginate():
        for layer in page["Layers"]:
            if layer["LayerName"].startswith(prefix):
                return str(layer["LatestMatchingVersion"]["LayerVersionArn"])
    return None
