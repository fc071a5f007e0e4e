"""The CDK direct deployer: in-process synth, boto3 deploy, no CDK CLI, no bootstrap.

Needs the `cdk` extra (aws-cdk-lib); skipped with that reason when it is absent. The plain
CloudFormation path is covered without it in test_deployer.py and test_plugin_runs.py.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

pytest.importorskip("aws_cdk", reason="the cdk extra is not installed (uv sync --extra cdk)")

from steward.e2e.data_fetcher import get_lambda_response
from steward.e2e.infrastructure import DeployContext

pytestmark = pytest.mark.slow


def test_cdk_stack_deploys_directly_and_is_deleted(aws_env: Any, cfn: Any, tmp_path: Any) -> None:
    from tests.e2e_plugin.cdk_feature.infrastructure import CdkFeatureStack

    run_id = secrets.token_hex(4)
    stack = CdkFeatureStack(context=DeployContext(run_id=run_id), out_dir=tmp_path / "cdk.out")
    assert stack.stack_name.startswith("steward-e2e-cdk-feature-py")
    spec = stack.synthesize()
    # no bootstrap: no CheckBootstrapVersion rule, no BootstrapVersion parameter
    assert "Rules" not in spec.template
    assert "BootstrapVersion" not in spec.template.get("Parameters", {})
    assert any(a.key.endswith(".zip") for a in spec.assets)  # the handlers/ code asset

    outputs = stack.deploy()
    try:
        assert {"BasicHandler", "BasicHandlerArn", "ColdStart", "ColdStartArn"} <= set(outputs)
        assert outputs["BasicHandlerArn"].endswith(":function:" + outputs["BasicHandler"])
        assert outputs["EventsQueueArn"].startswith("arn:aws:sqs:")
        tags = cfn.describe_stacks(StackName=stack.stack_name)["Stacks"][0]["Tags"]
        assert {"Key": "steward:e2e:run-id", "Value": run_id} in tags
        _, body = get_lambda_response(outputs["BasicHandler"], {"via": "cdk"})
        assert json.loads(body) == {"via": "cdk"}
    finally:
        stack.delete()
    assert stack.deployer.describe(stack.stack_name) is None


def test_cdk_cli_path_after_bootstrap(aws_env: Any) -> None:
    """The playbook's path: `cdk bootstrap`, then synth + `cdk deploy` of a generated app.

    ~100 s on moto (bootstrap ~25 s, `cdk deploy` polls slowly): opt in with
    STEWARD_TEST_CDK_CLI=1 and the `cdk` CLI on PATH (npm i aws-cdk@2).
    """
    import os
    import shutil
    import subprocess

    if not os.environ.get("STEWARD_TEST_CDK_CLI"):
        pytest.skip("set STEWARD_TEST_CDK_CLI=1 to run the CDK CLI path (~100 s)")
    cli = shutil.which("cdk")
    if cli is None:
        pytest.skip("the cdk CLI is not on PATH (npm i aws-cdk@2)")
    from tests.e2e_plugin.cdk_feature.infrastructure import CdkFeatureStack

    env = {**os.environ, "CDK_DISABLE_VERSION_CHECK": "1"}
    boot = subprocess.run(
        [cli, "bootstrap", "aws://123456789012/us-east-1", "--no-notices"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert boot.returncode == 0, boot.stderr[-2000:]
    os.environ["STEWARD_E2E_DEPLOYER"] = "cdk-cli"
    try:
        stack = CdkFeatureStack(context=DeployContext(run_id=secrets.token_hex(4)))
    finally:
        del os.environ["STEWARD_E2E_DEPLOYER"]
    assert stack.deploy_mode == "cdk-cli"
    outputs = stack.deploy()
    try:
        assert outputs["BasicHandlerArn"].endswith(":function:" + outputs["BasicHandler"])
        _, body = get_lambda_response(outputs["BasicHandler"], {"via": "cdk-cli"})
        assert json.loads(body) == {"via": "cdk-cli"}
    finally:
        stack.delete()
    assert stack.deployer.describe(stack.stack_name) is None
