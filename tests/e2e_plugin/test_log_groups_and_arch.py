"""Issue #18: each function's log group (retention, deleted with the stack) and Lambda
architectures (x86_64 and arm64 functions in one stack, one layer per architecture), for the
plain CloudFormation class and the CDK one: the templates inspected, and deployed on moto."""

from __future__ import annotations

import secrets
import zipfile
from pathlib import Path
from typing import Any

import pytest

from steward.e2e.infrastructure import BaseInfrastructure, DeployContext
from steward.errors import UsageError


def _feature(tmp_path: Path) -> Path:
    handlers = tmp_path / "feature" / "handlers"
    handlers.mkdir(parents=True)
    for stem in ("basic_handler", "cold_start"):
        (handlers / f"{stem}.py").write_text(
            "def lambda_handler(event, context):\n    return event\n"
        )
    return tmp_path / "feature"


def _zip(path: Path, marker: str) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("python/marker.py", f"ARCH = {marker!r}\n")
    return path


def _context(tmp_path: Path, **extra: Any) -> DeployContext:
    return DeployContext(run_id=secrets.token_hex(4), **extra)


class BothArchs(BaseInfrastructure):
    feature = "archs"
    log_retention_days = 7

    def create_resources(self) -> None:
        self.create_lambda_functions()
        self.create_lambda_functions(architecture="arm64")


def _stack(cls: type[Any], tmp_path: Path, **context: Any) -> Any:
    stack = cls(context=_context(tmp_path, **context))
    stack.feature_path = _feature(tmp_path)  # the handlers live in tmp_path, not next to cls
    return stack


# -- plain CloudFormation -------------------------------------------------------------------
def test_plain_template_has_log_groups_architectures_and_a_layer_per_architecture(
    tmp_path: Path,
) -> None:
    x86, arm = _zip(tmp_path / "x86.zip", "x86_64"), _zip(tmp_path / "arm.zip", "arm64")
    stack = _stack(BothArchs, tmp_path, layer_zip=x86, layer_zips={"arm64": arm})
    resources = stack.synthesize().template["Resources"]

    functions = {k: v for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function"}
    assert sorted(functions) == ["BasicHandler", "BasicHandlerArm64", "ColdStart", "ColdStartArm64"]
    assert functions["BasicHandler"]["Properties"]["Architectures"] == ["x86_64"]
    assert functions["BasicHandler"]["Properties"]["Layers"] == [{"Ref": "E2ELayer"}]
    assert functions["ColdStartArm64"]["Properties"]["Architectures"] == ["arm64"]
    assert functions["ColdStartArm64"]["Properties"]["Layers"] == [{"Ref": "E2ELayerArm64"}]

    layers = {k: v for k, v in resources.items() if v["Type"] == "AWS::Lambda::LayerVersion"}
    assert sorted(layers) == ["E2ELayer", "E2ELayerArm64"]
    assert layers["E2ELayer"]["Properties"]["CompatibleArchitectures"] == ["x86_64"]
    assert layers["E2ELayerArm64"]["Properties"]["CompatibleArchitectures"] == ["arm64"]
    # each architecture's own zip (layer_zips first, layer_zip otherwise)
    keys = {k: v["Properties"]["Content"]["S3Key"] for k, v in layers.items()}
    assert keys["E2ELayer"] != keys["E2ELayerArm64"]

    for name in functions:
        group = resources[f"{name}LogGroup"]
        assert group["Type"] == "AWS::Logs::LogGroup"
        assert group["Properties"] == {
            "LogGroupName": {"Fn::Sub": f"/aws/lambda/${{{name}}}"},
            "RetentionInDays": 7,
        }
        assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == "Delete"


def test_one_zip_serves_both_architectures_and_no_zip_means_no_layer(tmp_path: Path) -> None:
    shared = _zip(tmp_path / "layer.zip", "any")
    resources = _stack(BothArchs, tmp_path, layer_zip=shared).synthesize().template["Resources"]
    layers = [v for v in resources.values() if v["Type"] == "AWS::Lambda::LayerVersion"]
    assert len({v["Properties"]["Content"]["S3Key"] for v in layers}) == 1
    assert len(layers) == 2

    (tmp_path / "feature").rename(tmp_path / "old")
    bare = _stack(BothArchs, tmp_path).synthesize().template["Resources"]
    assert not [v for v in bare.values() if v["Type"] == "AWS::Lambda::LayerVersion"]
    assert "Layers" not in bare["BasicHandler"]["Properties"]
    assert bare["BasicHandlerLogGroup"]["Properties"]["RetentionInDays"] == 7


class DefaultRetention(BaseInfrastructure):
    feature = "retention"

    def create_resources(self) -> None:
        self.create_lambda_functions(architecture="arm64")


def test_default_retention_is_one_day_and_an_arm64_only_stack_keeps_plain_names(
    tmp_path: Path,
) -> None:
    resources = _stack(DefaultRetention, tmp_path).synthesize().template["Resources"]
    assert resources["BasicHandler"]["Properties"]["Architectures"] == ["arm64"]
    assert resources["BasicHandlerLogGroup"]["Properties"]["RetentionInDays"] == 1


class BadArch(BaseInfrastructure):
    feature = "bad"

    def create_resources(self) -> None:
        self.create_lambda_functions(architecture="mips")


def test_an_unknown_architecture_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"unknown Lambda architecture 'mips'.*x86_64, arm64"):
        _stack(BadArch, tmp_path).synthesize()
    with pytest.raises(UsageError, match="'arm'"):
        DeployContext(run_id="r", layer_zips={"arm": tmp_path / "x.zip"})


def _log_groups(prefix: str) -> dict[str, int | None]:
    from steward.e2e import aws

    pages = aws.client("logs").get_paginator("describe_log_groups").paginate()
    return {
        g["logGroupName"]: g.get("retentionInDays")
        for page in pages
        for g in page["logGroups"]
        if g["logGroupName"].startswith(prefix)
    }


def _layers(cfn: Any, stack_name: str) -> list[str]:
    """The stack's layer versions by logical id (moto gives them no physical id)."""
    listed = cfn.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    return sorted(
        r["LogicalResourceId"] for r in listed if r["ResourceType"] == "AWS::Lambda::LayerVersion"
    )


def test_plain_stack_on_moto_has_its_log_groups_and_two_layers_until_deleted(
    aws_env: Any, cfn: Any, tmp_path: Path
) -> None:
    x86, arm = _zip(tmp_path / "x86.zip", "x86_64"), _zip(tmp_path / "arm.zip", "arm64")
    stack = _stack(BothArchs, tmp_path, layer_zip=x86, layer_zips={"arm64": arm})
    outputs = stack.deploy()
    try:
        names = [outputs[k] for k in ("BasicHandler", "BasicHandlerArm64", "ColdStart")]
        groups = _log_groups(f"/aws/lambda/{stack.stack_name}")
        assert {f"/aws/lambda/{n}" for n in names} <= set(groups)
        assert len(groups) == 4
        assert set(groups.values()) == {7}
        assert _layers(cfn, stack.stack_name) == ["E2ELayer", "E2ELayerArm64"]
    finally:
        stack.delete()
    assert stack.deployer.describe(stack.stack_name) is None
    assert _log_groups(f"/aws/lambda/{stack.stack_name}") == {}
    assert stack.deployer.leftovers == []  # moto deleted them itself, nothing was swept up


# -- CDK -----------------------------------------------------------------------------------
def _cdk_classes() -> tuple[type[Any], type[Any]]:
    pytest.importorskip("aws_cdk", reason="the cdk extra is not installed (uv sync --extra cdk)")
    import aws_cdk as cdk

    from steward.e2e.cdk import CdkInfrastructure

    class CdkBothArchs(CdkInfrastructure):
        feature = "cdk-archs"
        log_retention_days = 3

        def create_resources(self) -> None:
            self.create_lambda_functions()
            self.create_lambda_functions(architecture=cdk.aws_lambda.Architecture.ARM_64)

    class CdkBadArch(CdkInfrastructure):
        feature = "cdk-bad"

        def create_resources(self) -> None:
            self.create_lambda_functions(architecture="arm")

    return CdkBothArchs, CdkBadArch


def _cdk_stack(cls: type[Any], tmp_path: Path, **context: Any) -> Any:
    stack = cls(context=_context(tmp_path, **context), out_dir=tmp_path / "cdk.out")
    stack.feature_path = _feature(tmp_path)
    return stack


def _of_type(resources: dict[str, Any], type_: str) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == type_}


@pytest.mark.slow
def test_cdk_template_has_log_groups_architectures_and_a_layer_per_architecture(
    tmp_path: Path,
) -> None:
    both, bad = _cdk_classes()
    x86, arm = _zip(tmp_path / "x86.zip", "x86_64"), _zip(tmp_path / "arm.zip", "arm64")
    resources = (
        _cdk_stack(both, tmp_path, layer_zip=x86, layer_zips={"arm64": arm})
        .synthesize()
        .template["Resources"]
    )
    functions = _of_type(resources, "AWS::Lambda::Function")
    assert len(functions) == 4
    archs = sorted(f["Properties"]["Architectures"][0] for f in functions.values())
    assert archs == ["arm64", "arm64", "x86_64", "x86_64"]

    layers = _of_type(resources, "AWS::Lambda::LayerVersion")
    by_arch = {v["Properties"]["CompatibleArchitectures"][0]: k for k, v in layers.items()}
    assert sorted(by_arch) == ["arm64", "x86_64"]
    assert by_arch["x86_64"].startswith("E2ELayer")
    assert by_arch["arm64"].startswith("E2ELayerArm64")
    for fn in functions.values():
        arch = fn["Properties"]["Architectures"][0]
        assert fn["Properties"]["Layers"] == [{"Ref": by_arch[arch]}]

    groups = _of_type(resources, "AWS::Logs::LogGroup")
    assert len(groups) == 4
    named = set()
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == 3
        assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == "Delete"
        join = group["Properties"]["LogGroupName"]["Fn::Join"][1]
        assert join[0] == "/aws/lambda/"
        named.add(join[1]["Ref"])
    assert named == set(functions)

    with pytest.raises(UsageError, match="unknown Lambda architecture 'arm'"):
        _cdk_stack(bad, tmp_path / "bad").synthesize()


@pytest.mark.slow
def test_cdk_stack_on_moto_has_its_log_groups_and_two_layers_until_deleted(
    aws_env: Any, cfn: Any, tmp_path: Path
) -> None:
    both, _ = _cdk_classes()
    x86, arm = _zip(tmp_path / "x86.zip", "x86_64"), _zip(tmp_path / "arm.zip", "arm64")
    stack = _cdk_stack(both, tmp_path, layer_zip=x86, layer_zips={"arm64": arm})
    outputs = stack.deploy()
    try:
        assert {"BasicHandler", "BasicHandlerArm64", "ColdStart", "ColdStartArm64"} <= set(outputs)
        groups = _log_groups(f"/aws/lambda/{stack.stack_name}")
        assert f"/aws/lambda/{outputs['BasicHandlerArm64']}" in groups
        assert len(groups) == 4
        assert set(groups.values()) == {3}
        layers = _layers(cfn, stack.stack_name)
        assert len(layers) == 2
        assert layers[1].startswith("E2ELayerArm64")
    finally:
        stack.delete()
    assert stack.deployer.describe(stack.stack_name) is None
    assert _log_groups(f"/aws/lambda/{stack.stack_name}") == {}
    assert stack.deployer.leftovers == []
