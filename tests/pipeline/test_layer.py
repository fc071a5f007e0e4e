"""The Lambda layer and SAR stages with real parts: pip installing the sealed wheel and a
compiled dependency from pypiserver, Lambda (layers, permissions, functions, invoke) and STS
on a moto server with two accounts and three regions, SAR through botocore Stubbers that
validate every request against botocore's service model."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import stat
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from steward.config.loader import load_config
from steward.e2e.emulator import Emulator
from steward.pipeline.aws import Sessions
from steward.pipeline.runner import RunOptions, run_release
from steward.pipeline.stages.layer_publish import CANARY_SOURCE, canary_problem
from tests.pipeline.conftest import COMMIT_EPOCH, Index, Sample, make_sample
from tests.pipeline.layer_support import (
    BETA,
    BETA_REGIONS,
    PROD,
    PROD_REGIONS,
    TEMPLATE,
    Accounts,
    SarStubs,
    layer_config,
    layer_project,
    run_canary_handler,
    unpack,
)
from tests.pipeline.test_release_run import VERSION, state, statuses

ARCHES = ("x86_64", "arm64")
LAYER_STAGES = "[seal, build, publish, layer-build, layer-beta, layer-prod, sar-beta, sar-prod]"
EXT = {
    "x86_64": "python/sample_speedups/_speedups.cpython-311-x86_64-linux-gnu.so",
    "arm64": "python/sample_speedups/_speedups.cpython-311-aarch64-linux-gnu.so",
}
SAR_APP = "sample-layer"


def layer_sample(
    tmp_path: Path, pypi: Index, speedups: list[Path], stages: str = LAYER_STAGES, **kw: Any
) -> Sample:
    """The sample as a layer project; the index serves its dependency's three wheels."""
    for wheel in speedups:
        shutil.copy(wheel, pypi.packages)
    return make_sample(
        tmp_path,
        pypi,
        extra=layer_config(pypi.simple_url, **kw),
        stages=stages,
        prepare=layer_project,
    )


def release(
    sample: Sample,
    env: dict[str, str],
    stubs: SarStubs | Sessions | None = None,
    lines: list[str] | None = None,
    version: str = VERSION,
    **opts: Any,
) -> str:
    """Run the release in-process (RunOptions as the CLI builds them); return what it printed."""
    out = [] if lines is None else lines
    config = load_config(sample.root / ".github" / "steward.yml")
    run_release(
        sample.root,
        config,
        RunOptions(
            version=version,
            env=env,
            echo=out.append,
            # moto's Invoke echoes the event: the canaries run in the local runtime
            aws=stubs if stubs is not None else SarStubs(env),
            **opts,
        ),
    )
    return "\n".join(out)


def layer_arn(account: str, region: str, arch: str, version: int = 1) -> str:
    return f"arn:aws:lambda:{region}:{account}:layer:sample-311-{arch}:{version}"


def app_id(account: str, region: str) -> str:
    return f"arn:aws:serverlessrepo:{region}:{account}:applications/{SAR_APP}"


def template_for(account: str, region: str) -> str:
    return (
        TEMPLATE.replace("{{steward.version}}", VERSION)
        .replace("{{ steward.semantic_version }}", VERSION)
        .replace("{{steward.region}}", region)
        .replace("{{steward.layer_arn.x86_64}}", layer_arn(account, region, "x86_64"))
        .replace("{{steward.layer_arn.arm64}}", layer_arn(account, region, "arm64"))
    )


def summary(account: str, region: str, name: str = SAR_APP) -> dict[str, Any]:
    return {
        "ApplicationId": app_id(account, region).replace(SAR_APP, name),
        "Author": "steward",
        "Description": "The sample layer",
        "Name": name,
    }


def version_summary(account: str, region: str, semver: str) -> dict[str, Any]:
    return {
        "ApplicationId": app_id(account, region),
        "CreationTime": "2026-01-01T00:00:00Z",
        "SemanticVersion": semver,
    }


def public_policy(account: str, region: str) -> tuple[dict[str, Any], dict[str, Any]]:
    statement = {"StatementId": "steward-public", "Principals": ["*"], "Actions": ["Deploy"]}
    return {"Statements": [statement]}, {
        "ApplicationId": app_id(account, region),
        "Statements": [statement],
    }


def queue_sar_publish(stubs: SarStubs, readme: str) -> None:
    """beta us-east-1: a new application; prod us-east-1: a new version after paging past
    another application; prod eu-west-1: the version is already there."""
    beta = stubs.stub("serverlessrepo", "beta", "us-east-1")
    beta.add_response("list_applications", {"Applications": []}, {})
    beta.add_response(
        "create_application",
        {"ApplicationId": app_id(BETA, "us-east-1"), "Name": SAR_APP},
        {
            "Name": SAR_APP,
            "Author": "steward",
            "Description": "The sample layer",
            "SemanticVersion": VERSION,
            "TemplateBody": template_for(BETA, "us-east-1"),
            "SourceCodeUrl": "https://example.com/sample",
            "SpdxLicenseId": "MIT-0",
            "ReadmeBody": readme,
            "LicenseBody": "MIT No Attribution\n",
            "Labels": ["layer"],
        },
    )
    beta.add_response("put_application_policy", *public_policy(BETA, "us-east-1"))

    east = stubs.stub("serverlessrepo", "prod", "us-east-1")
    east.add_response(
        "list_applications",
        {"Applications": [summary(PROD, "us-east-1", "other-app")], "NextToken": "page-2"},
        {},
    )
    east.add_response(
        "list_applications",
        {"Applications": [summary(PROD, "us-east-1")]},
        {"NextToken": "page-2"},
    )
    east.add_response(
        "list_application_versions",
        {"Versions": [version_summary(PROD, "us-east-1", "1.1.0")]},
        {"ApplicationId": app_id(PROD, "us-east-1")},
    )
    east.add_response(
        "create_application_version",
        {"ApplicationId": app_id(PROD, "us-east-1"), "SemanticVersion": VERSION},
        {
            "ApplicationId": app_id(PROD, "us-east-1"),
            "SemanticVersion": VERSION,
            "TemplateBody": template_for(PROD, "us-east-1"),
            "SourceCodeUrl": "https://example.com/sample",
        },
    )
    east.add_response("put_application_policy", *public_policy(PROD, "us-east-1"))

    west = stubs.stub("serverlessrepo", "prod", "eu-west-1")
    west.add_response("list_applications", {"Applications": [summary(PROD, "eu-west-1")]}, {})
    west.add_response(
        "list_application_versions",
        {
            "Versions": [
                version_summary(PROD, "eu-west-1", "1.1.0"),
                version_summary(PROD, "eu-west-1", VERSION),
            ]
        },
        {"ApplicationId": app_id(PROD, "eu-west-1")},
    )
    west.add_response("put_application_policy", *public_policy(PROD, "eu-west-1"))


def queue_sar_verify(stubs: SarStubs) -> None:
    for tier, account, region in (
        ("beta", BETA, "us-east-1"),
        ("prod", PROD, "us-east-1"),
        ("prod", PROD, "eu-west-1"),
    ):
        stubs.stub("serverlessrepo", tier, region).add_response(
            "get_application",
            {
                "ApplicationId": app_id(account, region),
                "Version": {
                    "ApplicationId": app_id(account, region),
                    "CreationTime": "2026-01-01T00:00:00Z",
                    "ParameterDefinitions": [],
                    "RequiredCapabilities": [],
                    "ResourcesSupported": True,
                    "SemanticVersion": VERSION,
                    "TemplateUrl": "https://example.com/template.yaml",
                },
            },
            {"ApplicationId": app_id(account, region), "SemanticVersion": VERSION},
        )


def check_zip(path: Path, arch: str) -> None:
    """Deterministic layout: sorted names, the release epoch, fixed modes, python/ only."""
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names)
        assert all(n.startswith("python/") for n in names)
        expected_time = datetime.fromtimestamp(COMMIT_EPOCH, UTC).timetuple()[:6]
        assert {i.date_time for i in infos} == {expected_time}
        modes = {stat.S_IMODE(i.external_attr >> 16) for i in infos if not i.is_dir()}
        assert modes == {0o644}
        assert {i.create_system for i in infos} == {3}
        assert EXT[arch] in names
        other = EXT["arm64" if arch == "x86_64" else "x86_64"]
        assert other not in names
        assert zf.read("python/sample_speedups/__init__.py").decode().endswith('"compiled"\n')
        assert "python/sample-1.2.0.dist-info/METADATA" in names
        assert "python/sample_speedups-1.0.0.dist-info/WHEEL" in names
        assert not [n for n in names if n.startswith("python/bin/")]
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
        assert not [n for n in names if n.endswith("direct_url.json")]
        record = zf.read("python/sample-1.2.0.dist-info/RECORD").decode()
        assert "direct_url.json" not in record


def test_layer_and_sar_release_on_moto_and_a_local_index(
    tmp_path: Path, pypi: Index, moto: Emulator, speedups: list[Path]
) -> None:
    sample = layer_sample(tmp_path, pypi, speedups, sar=True)
    accounts = Accounts(moto, tmp_path)
    env = {**sample.env(), **accounts.env()}
    stubs = SarStubs(env)
    readme = (sample.root / "README.md").read_text()
    queue_sar_publish(stubs, readme)
    output = release(sample, env, stubs)
    stubs.assert_done()
    assert statuses(sample) == dict.fromkeys(
        [
            "seal",
            "build",
            "publish",
            "layer-build",
            "layer-beta",
            "layer-prod",
            "sar-beta",
            "sar-prod",
        ],
        "completed",
    )
    recs = {s["name"]: s for s in state(sample)["stages"]}
    rdir = sample.release_dir / VERSION

    # layer-build: one sealed, deterministic zip per architecture, canaries on the artifact
    build = recs["layer-build"]
    assert sorted(build["outputs"]) == ["layer-arm64.zip", "layer-x86_64.zip"]
    for arch in ARCHES:
        path = rdir / f"layer-{arch}.zip"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == build["outputs"][path.name]
        check_zip(path, arch)
        info = build["details"]["layers"][arch]
        assert info["distributions"] == {"sample": VERSION, "sample-speedups": "1.0.0"}
        assert info["native"] == [EXT[arch].removeprefix("python/")]
        assert info["wheel"] == f"sample-{VERSION}-py3-none-any.whl"
    x86 = build["details"]["layers"]["x86_64"]
    assert x86["imported"] == {"sample": "sample/__init__.py"}
    assert x86["canary"] == "imported sample (sample 1.2.0, 1 native modules) with Python 3.11"
    assert build["details"]["layers"]["arm64"]["canary"] == (
        "wheel tags and 1 ELF files checked for arm64"
    )
    assert [t["title"] for t in build["details"]["tasks"]] == list(ARCHES)

    # layer-beta / layer-prod: one version per account, region and architecture, public,
    # with the runtimes and architecture; the canary functions are gone
    for stage, account, regions in (
        ("layer-beta", BETA, BETA_REGIONS),
        ("layer-prod", PROD, PROD_REGIONS),
    ):
        rec = recs[stage]
        assert rec["details"]["account"] == account
        assert sorted(rec["details"]["layers"]) == sorted(regions)
        parity = ["parity"] if stage == "layer-prod" else []  # layer-prod's last step
        assert [t["title"] for t in rec["details"]["tasks"]] == regions + parity
        for region in regions:
            lam = accounts.client("lambda", account, region)
            assert lam.list_functions()["Functions"] == []
            for arch in ARCHES:
                recorded = rec["details"]["layers"][region][arch]
                assert recorded["arn"] == layer_arn(account, region, arch)
                assert recorded["reused"] is False
                if arch == "x86_64":  # run here, in the local runtime, with the layer
                    assert recorded["canary"].startswith(
                        f"sample-311-{arch}-canary imported sample {VERSION} (__version__) from "
                    )
                    assert recorded["canary"].endswith("/python/sample/__init__.py")
                else:  # an aarch64 extension cannot load on this x86_64 machine
                    assert recorded["canary"].startswith(f"sample-311-{arch}-canary not run")
                versions = accounts.layer_versions(account, region, f"sample-311-{arch}")
                assert [v["LayerVersionArn"] for v in versions] == [recorded["arn"]]
                assert versions[0]["CompatibleRuntimes"] == ["python3.11"]
                assert versions[0]["CompatibleArchitectures"] == [arch]
                assert versions[0]["LicenseInfo"] == "MIT-0"
                assert versions[0]["Description"] == f"sample {VERSION} ({arch})"
                got = lam.get_layer_version(LayerName=f"sample-311-{arch}", VersionNumber=1)
                sealed = bytes.fromhex(build["outputs"][f"layer-{arch}.zip"])
                assert got["Content"]["CodeSha256"] == base64.b64encode(sealed).decode()
                policy = json.loads(
                    lam.get_layer_version_policy(LayerName=f"sample-311-{arch}", VersionNumber=1)[
                        "Policy"
                    ]
                )
                assert [(s["Sid"], s["Principal"], s["Action"]) for s in policy["Statement"]] == [
                    ("steward-public", "*", "lambda:GetLayerVersion")
                ]
    assert "ap-southeast-2 arm64: published " + layer_arn(PROD, "ap-southeast-2", "arm64") in (
        output
    )

    # SAR: what each region did, by semantic version
    assert recs["sar-beta"]["details"]["applications"]["us-east-1"]["action"] == (
        "created with the application"
    )
    prod_apps = recs["sar-prod"]["details"]["applications"]
    assert prod_apps["us-east-1"]["action"] == "created"
    assert prod_apps["eu-west-1"]["action"] == "already there"
    assert prod_apps["eu-west-1"]["template_sha256"] == (
        hashlib.sha256(template_for(PROD, "eu-west-1").encode()).hexdigest()
    )

    # the Gantt of the real run draws every stage and its regions
    assert "section layer-prod" in output
    assert "section sar-prod" in output
    for region in PROD_REGIONS:
        assert f"\n{region} (" in output

    # the canary function's handler, run for real on the unpacked sealed x86_64 zip
    site = unpack(rdir / "layer-x86_64.zip", tmp_path / "canary") / "python"
    event = {"package": "sample", "version": VERSION, "imports": ["sample", "sample_speedups"]}
    code, out, err = run_canary_handler(CANARY_SOURCE, site, {**event, "layer_root": str(site)})
    assert code == 0, err
    answer = json.loads(out)
    imported = answer["imported"]
    assert (imported["module"], imported["version"]) == ("sample", VERSION)
    assert imported["from"] == str(site / "sample" / "__init__.py")
    assert answer["modules"]["sample_speedups"] == str(site / "sample_speedups" / "__init__.py")
    assert canary_problem(answer, VERSION, str(site)) is None
    assert "not the released 9.9.9" in str(canary_problem(answer, "9.9.9", str(site)))
    code, _, err = run_canary_handler(CANARY_SOURCE, site, {**event, "layer_root": "/opt"})
    assert code == 1
    assert "not from the layer" in err

    # a rerun verifies (layer versions by CodeSha256, SAR versions) and changes nothing
    before = (rdir / "state.json").read_bytes()
    queue_sar_verify(stubs)
    again = release(sample, env, stubs)
    stubs.assert_done()
    assert "nothing changed" in again
    assert "layer-prod: done before, outputs verified" in again
    assert (rdir / "state.json").read_bytes() == before
    for account, regions in ((BETA, BETA_REGIONS), (PROD, PROD_REGIONS)):
        for region in regions:
            for arch in ARCHES:
                assert len(accounts.layer_versions(account, region, f"sample-311-{arch}")) == 1


def test_dry_run_plans_the_layer_and_sar_stages_and_touches_nothing(
    tmp_path: Path, pypi: Index, speedups: list[Path]
) -> None:
    sample = layer_sample(tmp_path, pypi, speedups, sar=True)
    output = release(sample, sample.env(), dry_run=True)
    assert not (sample.root / ".steward").exists()
    work = sample.release_dir / VERSION / "work"
    for expected in (
        "[4] layer-build: Build Lambda layers",
        f"--only-binary=:all: --platform manylinux2014_x86_64 --implementation cp "
        f"--python-version 3.11 --abi cp311 --target {work}/layer-x86_64/python --index-url "
        f"{pypi.simple_url} '<sealed wheel>'",
        "--platform manylinux2014_aarch64",
        f"arm64: zip to {sample.release_dir / VERSION / 'layer-arm64.zip'} (sorted, mtime "
        f"{COMMIT_EPOCH}, fixed modes) + sha256; unpack it fresh and check every wheel tag",
        "x86_64: zip to",
        "import the package in a clean python3.11",
        "[5] layer-beta: Deploy layer to beta",
        "beta account: $BETA_AWS_ACCESS_KEY_ID, $BETA_AWS_SECRET_ACCESS_KEY, "
        f"$BETA_AWS_SESSION_TOKEN, account {BETA}",
        "prod account: profile release-prod, role arn:aws:iam::222222222222:role/release, "
        f"account {PROD}",
        "regions us-east-1, eu-west-1, ap-southeast-2: PublishLayerVersion sample-311-x86_64, "
        "sample-311-arm64 (runtimes python3.11), unless a version has the same CodeSha256",
        "AddLayerVersionPermission lambda:GetLayerVersion for every account",
        "e.g. sample-311-x86_64-canary, role steward-layer-canary",
        "[8] sar-prod: Publish SAR application to prod",
        "read template.yaml from source.tar after checking its sha256",
        "regions us-east-1, eu-west-1: application sample-layer version 1.2.0",
        "PutApplicationPolicy: every account may deploy it",
        "dry run: nothing was changed",
    ):
        assert expected in output, expected
    # the credentials the AWS stages will need are named, never their values
    assert "warning: layer-beta: set BETA_AWS_ACCESS_KEY_ID" in output
    assert "warning: layer-prod: AWS profile release-prod is not in the AWS config" in output


def test_unconfigured_layer_and_sar_stages_are_skipped_saying_why(tmp_path: Path) -> None:
    sample = make_sample(
        tmp_path, None, stages="[seal, layer-build, layer-beta, layer-prod, sar-beta, sar-prod]"
    )
    plan = release(sample, sample.env(), dry_run=True)
    assert "[2] layer-build (skipped: release.layer is not configured)" in plan
    assert "[6] sar-prod (skipped: release.sar is not configured)" in plan
    output = release(sample, sample.env())
    assert statuses(sample) == {
        "seal": "completed",
        "layer-build": "skipped",
        "layer-beta": "skipped",
        "layer-prod": "skipped",
        "sar-beta": "skipped",
        "sar-prod": "skipped",
    }
    assert "[3/6] layer-beta: skipped (release.layer is not configured)" in output
    assert "[6/6] sar-prod: skipped (release.sar is not configured)" in output
    reasons = {s["name"]: s["details"].get("reason") for s in state(sample)["stages"]}
    assert reasons["sar-beta"] == "release.sar is not configured"
    assert reasons["seal"] is None
