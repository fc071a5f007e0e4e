"""CDK stacks on moto: the direct deployer (in-process synth, boto3 deploy, no CDK CLI, no
bootstrap) and the playbook's CDK CLI path (`cdk bootstrap`, `cdk synth`, `cdk deploy`).

Needs the `cdk` extra (aws-cdk-lib); skipped with that reason when it is absent. The CLI path
also needs node and the pinned `aws-cdk` package (`make setup`). The plain CloudFormation
path is covered without either in test_deployer.py and test_plugin_runs.py.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aws_cdk", reason="the cdk extra is not installed (uv sync --extra cdk)")

from steward.e2e.data_fetcher import get_lambda_response
from steward.e2e.infrastructure import DeployContext

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


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


def _cdk_cli() -> str | None:
    """The pinned CLI `make setup` installs (`npm ci`, package-lock.json), else one on PATH."""
    local = ROOT / "node_modules" / ".bin" / "cdk"
    if local.exists() and shutil.which("node"):
        return str(local)
    return shutil.which("cdk")


def test_cdk_cli_path_after_bootstrap(
    aws_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The playbook's path: `cdk bootstrap`, then synth + `cdk deploy` of a generated app.

    Runs with the pinned `aws-cdk` from package-lock.json; CI (`CI` set) fails without it.
    """
    cli = _cdk_cli()
    if cli is None:
        if os.environ.get("CI"):
            pytest.fail("the cdk CLI is missing: `make setup` installs it (npm ci)")
        pytest.skip("the cdk CLI is not installed: `make setup` installs it (npm ci)")
    from tests.e2e_plugin.cdk_feature.infrastructure import CdkFeatureStack

    # the deployer finds `cdk` on PATH; the CLI writes nothing into the repository
    monkeypatch.setenv("PATH", f"{Path(cli).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("CDK_DISABLE_VERSION_CHECK", "1")
    monkeypatch.setenv("CDK_DISABLE_CLI_TELEMETRY", "true")
    monkeypatch.chdir(tmp_path)
    boot = subprocess.run(
        [cli, "bootstrap", "aws://123456789012/us-east-1", "--no-notices"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert boot.returncode == 0, boot.stderr[-2000:]
    monkeypatch.setenv("STEWARD_E2E_DEPLOYER", "cdk-cli")
    stack = CdkFeatureStack(
        context=DeployContext(run_id=secrets.token_hex(4)), out_dir=tmp_path / "cdk.out"
    )
    assert stack.deploy_mode == "cdk-cli"
    outputs = stack.deploy()
    try:
        assert outputs["BasicHandlerArn"].endswith(":function:" + outputs["BasicHandler"])
        assert outputs["EventsQueueArn"].startswith("arn:aws:sqs:")
        tags = stack.deployer.cfn.describe_stacks(StackName=stack.stack_name)["Stacks"][0]["Tags"]
        assert {"Key": "steward:e2e:run-id", "Value": stack.context.run_id} in tags
        _, body = get_lambda_response(outputs["BasicHandler"], {"via": "cdk-cli"})
        assert json.loads(body) == {"via": "cdk-cli"}
    finally:
        stack.delete()
    assert stack.deployer.describe(stack.stack_name) is None
