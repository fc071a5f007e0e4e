"""SAR stages through botocore Stubbers (moto has no SAR): every request is validated against
botocore's serverlessrepo and sts models and must equal the expected parameters. A region
refusing in sar-prod is retried by --resume, idempotent by semantic version; templates are
read from the sealed source; PEP 440 versions become SemVer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from steward.errors import ReleaseError, UsageError
from steward.pipeline.stages.sar import render, semantic_version
from tests.pipeline.conftest import Sample, make_sample
from tests.pipeline.layer_support import BETA, PROD, SarStubs
from tests.pipeline.test_layer import app_id, release, summary, version_summary
from tests.pipeline.test_release_run import state

PRE = "1.3.0a1"
SEMVER = "1.3.0-alpha.1"
TEMPLATE = (
    "Transform: AWS::Serverless-2016-10-31\n"
    "Description: sample {{steward.version}} ({{steward.semantic_version}}) in {{steward.region}}\n"
)
CONFIG = """\
  sar:
    name: sample-layer
    template: sar/template.yaml
    author: steward
    description: The sample layer
    accounts:
      beta:
        access_key_id_env: BETA_KEY
        secret_access_key_env: BETA_SECRET
        account_id: '{beta}'
        regions: [us-east-1]
      prod:
        access_key_id_env: PROD_KEY
        secret_access_key_env: PROD_SECRET
        regions: [us-east-1, eu-west-1]
"""


def sar_sample(tmp_path: Path, template: str = TEMPLATE, beta: str = BETA) -> Sample:
    def prepare(root: Path) -> None:
        (root / "sar").mkdir()
        (root / "sar" / "template.yaml").write_text(template)

    return make_sample(
        tmp_path,
        None,
        extra=CONFIG.format(beta=beta),
        stages="[seal, sar-beta, sar-prod]",
        prepare=prepare,
    )


def statuses(sample: Sample, version: str) -> dict[str, str]:
    return {s["name"]: s["status"] for s in state(sample, version)["stages"]}


def env(sample: Sample) -> dict[str, str]:
    keys = ("BETA_KEY", "BETA_SECRET", "PROD_KEY", "PROD_SECRET")
    return {**sample.env(), **{k: f"fake-{k.lower()}" for k in keys}}


def identity(stubs: SarStubs, tier: str, account: str) -> None:
    stubs.stub("sts", tier, "us-east-1").add_response(
        "get_caller_identity",
        {
            "Account": account,
            "Arn": f"arn:aws:sts::{account}:assumed-role/release/ci",
            "UserId": "AROAEXAMPLE:ci",
        },
        {},
    )


def body(region: str) -> str:
    return (
        f"Transform: AWS::Serverless-2016-10-31\nDescription: sample {PRE} ({SEMVER}) in {region}\n"
    )


def get_application(account: str, region: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        {
            "ApplicationId": app_id(account, region),
            "Version": {
                "ApplicationId": app_id(account, region),
                "CreationTime": "2026-01-01T00:00:00Z",
                "ParameterDefinitions": [],
                "RequiredCapabilities": [],
                "ResourcesSupported": True,
                "SemanticVersion": SEMVER,
                "TemplateUrl": "https://example.com/t.yaml",
            },
        },
        {"ApplicationId": app_id(account, region), "SemanticVersion": SEMVER},
    )


def test_semantic_versions_from_pep_440() -> None:
    assert semantic_version("1.2.0") == "1.2.0"
    assert semantic_version("2") == "2.0.0"
    assert semantic_version("1.3.0a1") == "1.3.0-alpha.1"
    assert semantic_version("1.3.0b2") == "1.3.0-beta.2"
    assert semantic_version("1.3.0rc2.dev4") == "1.3.0-rc.2.dev.4"
    assert semantic_version("1.3.0.dev4") == "1.3.0-dev.4"
    for no_semver in ("1.2.3.4", "1.2.0.post1", "1!1.0", "1.0+local"):
        with pytest.raises(ReleaseError, match=re.escape("set release.sar.semantic_version")):
            semantic_version(no_semver)


def test_render_replaces_steward_values_only() -> None:
    text = "a {{ steward.version }} b {{steward.layer_arn.arm64}} c {{resolve:ssm:/x}}"
    values = {"version": "1.0", "layer_arn.arm64": "arn:x"}
    assert render(text, values, "t") == "a 1.0 b arn:x c {{resolve:ssm:/x}}"
    with pytest.raises(ReleaseError, match=re.escape("t: no value for {{steward.nope}}")):
        render("{{steward.nope}}", values, "t")


def test_a_region_refusing_in_sar_prod_is_retried_by_resume_once_per_semantic_version(
    tmp_path: Path,
) -> None:
    sample = sar_sample(tmp_path)
    stubs = SarStubs(env(sample), with_moto=False)
    identity(stubs, "beta", BETA)
    beta = stubs.stub("serverlessrepo", "beta", "us-east-1")
    beta.add_response("list_applications", {"Applications": []}, {})
    beta.add_response(
        "create_application",
        {"ApplicationId": app_id(BETA, "us-east-1")},
        {
            "Name": "sample-layer",
            "Author": "steward",
            "Description": "The sample layer",
            "SemanticVersion": SEMVER,
            "TemplateBody": body("us-east-1"),
        },
    )
    identity(stubs, "prod", PROD)
    east = stubs.stub("serverlessrepo", "prod", "us-east-1")
    east.add_response("list_applications", {"Applications": [summary(PROD, "us-east-1")]}, {})
    east.add_response(
        "list_application_versions",
        {"Versions": [version_summary(PROD, "us-east-1", "1.2.0")]},
        {"ApplicationId": app_id(PROD, "us-east-1")},
    )
    east.add_response(
        "create_application_version",
        {"ApplicationId": app_id(PROD, "us-east-1"), "SemanticVersion": SEMVER},
        {
            "ApplicationId": app_id(PROD, "us-east-1"),
            "SemanticVersion": SEMVER,
            "TemplateBody": body("us-east-1"),
        },
    )
    west = stubs.stub("serverlessrepo", "prod", "eu-west-1")
    west.add_response("list_applications", {"Applications": [summary(PROD, "eu-west-1")]}, {})
    west.add_response(
        "list_application_versions",
        {"Versions": []},
        {"ApplicationId": app_id(PROD, "eu-west-1")},
    )
    west.add_client_error(
        "create_application_version",
        service_error_code="ForbiddenException",
        service_message="not authorized to perform serverlessrepo:CreateApplicationVersion",
        http_status_code=403,
        expected_params={
            "ApplicationId": app_id(PROD, "eu-west-1"),
            "SemanticVersion": SEMVER,
            "TemplateBody": body("eu-west-1"),
        },
    )
    with pytest.raises(ReleaseError) as failed:
        release(sample, env(sample), stubs, version=PRE)
    stubs.assert_done()
    assert str(failed.value).startswith(
        "stage sar-prod: failed in 1 of 2 regions: eu-west-1: ForbiddenException: "
        "not authorized to perform serverlessrepo:CreateApplicationVersion"
    )
    assert statuses(sample, PRE) == {
        "seal": "completed",
        "sar-beta": "completed",
        "sar-prod": "failed",
    }
    prod = next(s for s in state(sample, PRE)["stages"] if s["name"] == "sar-prod")["details"]
    assert prod["applications"]["us-east-1"]["action"] == "created"
    assert list(prod["failed"]) == ["eu-west-1"]

    # resume: sar-beta is verified; us-east-1 has the version now, eu-west-1 creates it
    beta.add_response("get_application", *get_application(BETA, "us-east-1"))
    identity(stubs, "prod", PROD)
    east.add_response("list_applications", {"Applications": [summary(PROD, "us-east-1")]}, {})
    east.add_response(
        "list_application_versions",
        {"Versions": [version_summary(PROD, "us-east-1", SEMVER)]},
        {"ApplicationId": app_id(PROD, "us-east-1")},
    )
    west.add_response("list_applications", {"Applications": [summary(PROD, "eu-west-1")]}, {})
    west.add_response(
        "list_application_versions",
        {"Versions": []},
        {"ApplicationId": app_id(PROD, "eu-west-1")},
    )
    west.add_response(
        "create_application_version",
        {"ApplicationId": app_id(PROD, "eu-west-1"), "SemanticVersion": SEMVER},
        {
            "ApplicationId": app_id(PROD, "eu-west-1"),
            "SemanticVersion": SEMVER,
            "TemplateBody": body("eu-west-1"),
        },
    )
    resumed = release(sample, env(sample), stubs, version=PRE, resume=True)
    stubs.assert_done()
    assert "sar-beta: done before, outputs verified" in resumed
    assert f"us-east-1: sample-layer {SEMVER} already there" in resumed
    assert f"eu-west-1: sample-layer {SEMVER} created" in resumed
    assert statuses(sample, PRE)["sar-prod"] == "completed"


def test_sar_refuses_before_any_request_what_it_cannot_publish(tmp_path: Path) -> None:
    # a layer ARN the template needs but no layer stage recorded: no SAR request is made
    sample = sar_sample(tmp_path, template="Layer: {{steward.layer_arn.x86_64}}\n")
    stubs = SarStubs(env(sample), with_moto=False)
    identity(stubs, "beta", BETA)
    with pytest.raises(ReleaseError) as missing:
        release(sample, env(sample), stubs, version=PRE)
    assert (
        "stage sar-beta: failed in 1 of 1 regions: us-east-1: sar/template.yaml for us-east-1: "
        "no value for {{steward.layer_arn.x86_64}}"
    ) in str(missing.value)
    stubs.assert_done()
    assert [c for c in stubs.calls if c[2] == "serverlessrepo"] == [
        ("sar-beta", "us-east-1", "serverlessrepo")
    ]  # the client was made; the Stubber saw no request (it would have failed on one)

    # credentials of another account: refused after sts, before SAR
    other = sar_sample(tmp_path / "other", beta="999999999999")
    stubs = SarStubs(env(other), with_moto=False)
    identity(stubs, "beta", BETA)
    with pytest.raises(ReleaseError, match="not the configured 999999999999: nothing was"):
        release(other, env(other), stubs)
    stubs.assert_done()
    assert not [c for c in stubs.calls if c[2] == "serverlessrepo"]

    # a post-release has no SemVer form: refused before the release starts
    with pytest.raises(UsageError, match=re.escape("set release.sar.semantic_version")):
        release(other, env(other), stubs, version="1.2.0.post1")
