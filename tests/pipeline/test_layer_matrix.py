"""The playbook's layer matrix on moto: two Python versions x two architectures x two regions
of two accounts, each zip built for its own ABI with its own runtime, the parity check, and
SAR as the seed ships it (one application per layer packaging the layer's content, with the
beta canary stack deployed from SAR's change set on moto's CloudFormation)."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from steward.config.pipeline import LayerConfig, PipelineConfig
from steward.e2e.emulator import Emulator
from steward.errors import ReleaseError
from steward.github.client import GitHubClient
from steward.pipeline.release_assets import ASSETS
from steward.pipeline.report import RUN_RECORD
from tests.pipeline.conftest import Index, make_sample
from tests.pipeline.layer_support import (
    BETA,
    MATRIX_REGIONS,
    PROD,
    Accounts,
    SarMemory,
    SarStubs,
    layer_config,
    layer_project,
    matrix_config,
    matrix_project,
    queue_sar_matrix,
    runnable_python,
)
from tests.pipeline.release_assets_github import AssetGitHub
from tests.pipeline.test_layer import release
from tests.pipeline.test_release_assets import TAG, URL, dist_of, verify
from tests.pipeline.test_release_run import VERSION, state, statuses

PYTHONS = ["3.11", "3.12"]
ARCHES = ["x86_64", "arm64"]
STAGES = (
    "[seal, build, provenance, publish, tag, layer-build, layer-beta, layer-prod, sar-beta, "
    "sar-prod, post-release]"
)


def _buckets(accounts: Accounts) -> None:
    for account in (BETA, PROD):
        for region in MATRIX_REGIONS:
            s3 = accounts.client("s3", account, region)
            extra: dict[str, Any] = (
                {}
                if region == "us-east-1"
                else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            )
            s3.create_bucket(Bucket=f"sar-{account}-{region}", **extra)


@pytest.mark.slow  # about 35 s: 8 pip installs, 16 layer versions, 16 SAR apps, 8 stacks
def test_two_pythons_two_architectures_two_regions_parity_and_sar_with_its_canary(
    tmp_path: Path,
    pypi: Index,
    moto: Emulator,
    speedups: list[Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue #19's "done when" in one release: every layer published, parity verified, SAR
    packaged with its beta canary, the provenance on the (fake) GitHub release, and
    `release verify --release` checking the artifacts against those assets."""
    for wheel in speedups:
        shutil.copy(wheel, pypi.packages)
    py312 = runnable_python("3.12")
    interpreters = {"3.12": py312} if py312 else {}
    sample = make_sample(
        tmp_path,
        pypi,
        extra=matrix_config(pypi.simple_url, PYTHONS, interpreters)
        + "  repository: octo-org/sample\n  bump_pr: false\n",
        stages=STAGES,
        prepare=matrix_project,
    )
    accounts = Accounts(moto, tmp_path)
    _buckets(accounts)
    env = {**sample.env(), **accounts.env()}
    stubs = SarStubs(env, memory=SarMemory())
    apps = [
        f"sample-layer-python{p.replace('.', '')}-{a.replace('_', '')}"
        for p in PYTHONS
        for a in ARCHES
    ]
    queue_sar_matrix(stubs, apps, VERSION)
    with AssetGitHub() as gh:
        draft = gh.add_draft(TAG)
        output = release(
            sample,
            env,
            stubs,
            github=lambda: GitHubClient(
                gh.token, gh.url, max_retries=0, uploads_url=gh.uploads_url
            ),
        )
        stubs.assert_done()
        # the seed's upload-release-provenance, then a user's check of the release
        assert sorted(gh.asset_bytes(draft)) == sorted([*ASSETS, RUN_RECORD])
        code, out, err = verify(
            gh,
            capsys,
            monkeypatch,
            "--release",
            URL,
            "--dist",
            str(dist_of(sample, tmp_path / "dl")),
        )
        assert code == 0, out + err
    assert gh.violations == []
    assert set(statuses(sample).values()) == {"completed"}, output
    recs = {s["name"]: s for s in state(sample)["stages"]}

    # layer-build: one zip per (python, arch), each for its own ABI
    build = recs["layer-build"]
    keys = [f"python{p}-{a}" for p in PYTHONS for a in ARCHES]
    assert sorted(build["outputs"]) == sorted(f"layer-{k}.zip" for k in keys)
    assert [t["title"] for t in build["details"]["tasks"]] == keys
    layers = build["details"]["layers"]
    # 3.11 gets the compiled cp311 wheel of the dependency, 3.12 the pure fallback
    assert layers["python3.11-x86_64"]["native"] == [
        "sample_speedups/_speedups.cpython-311-x86_64-linux-gnu.so"
    ]
    assert layers["python3.12-x86_64"]["native"] == []
    assert layers["python3.12-arm64"]["native"] == []
    assert layers["python3.11-x86_64"]["runtimes"] == ["python3.11"]
    assert layers["python3.12-arm64"]["name"] == "sample-312-arm64"
    assert layers["python3.11-x86_64"]["canary"].endswith("with Python 3.11")
    if py312:
        assert layers["python3.12-x86_64"]["canary"].endswith("with Python 3.12")
    else:
        assert (
            "import not run (the import canary needs Python 3.12"
            in (layers["python3.12-x86_64"]["canary"])
        )
    assert layers["python3.12-arm64"]["canary"] == "wheel tags and 0 ELF files checked for arm64"

    # every layer published in every region of both accounts, with its own runtime
    for stage, account in (("layer-beta", BETA), ("layer-prod", PROD)):
        published = recs[stage]["details"]["layers"]
        assert sorted(published) == sorted(MATRIX_REGIONS)
        for region in MATRIX_REGIONS:
            assert sorted(published[region]) == sorted(keys)
            for python in PYTHONS:
                for arch in ARCHES:
                    name = f"sample-{python.replace('.', '')}-{arch}"
                    versions = accounts.layer_versions(account, region, name)
                    assert len(versions) == 1
                    assert versions[0]["CompatibleRuntimes"] == [f"python{python}"]
                    assert versions[0]["CompatibleArchitectures"] == [arch]
                    sealed = build["outputs"][f"layer-python{python}-{arch}.zip"]
                    got = accounts.client("lambda", account, region).get_layer_version(
                        LayerName=name, VersionNumber=1
                    )
                    assert got["Content"]["CodeSha256"] == (
                        base64.b64encode(bytes.fromhex(sealed)).decode()
                    )
    # the local runtime runs Python 3.11 on x86_64: only that canary runs on moto
    east = recs["layer-prod"]["details"]["layers"]["us-east-1"]
    assert " imported sample 1.2.0 (__version__) " in east["python3.11-x86_64"]["canary"]
    assert "not run" in east["python3.12-x86_64"]["canary"]

    # parity: every layer at one version and hash in every region of each account
    parity = recs["layer-prod"]["details"]["parity"]
    assert sorted(parity["accounts"]) == ["beta", "prod"]
    assert parity["accounts"]["prod"]["sample-312-arm64"] == {
        region: {
            "version": 1,
            "code_sha256": base64.b64encode(
                bytes.fromhex(build["outputs"]["layer-python3.12-arm64.zip"])
            ).decode(),
        }
        for region in MATRIX_REGIONS
    }
    assert "parity: beta: 4 layers at one version each in 2 regions" in output

    # SAR: one application per layer, its content uploaded under its sha256, the template
    # naming it; beta's canary stack deployed from the change set, checked, deleted
    for stage, account in (("sar-beta", BETA), ("sar-prod", PROD)):
        applications = recs[stage]["details"]["applications"]
        for region in MATRIX_REGIONS:
            assert sorted(applications[region]) == sorted(apps)
            s3 = accounts.client("s3", account, region)
            for app in apps:
                info = applications[region][app]
                assert info["action"] == "created with the application"
                sha = build["outputs"][f"layer-{info['layer']}.zip"]
                key = f"steward/{app}/{sha}.zip"
                assert info["content"] == f"s3://sar-{account}-{region}/{key}"
                body = s3.get_object(Bucket=f"sar-{account}-{region}", Key=key)["Body"].read()
                assert hashlib.sha256(body).hexdigest() == sha
                template = stubs.memory.templates[(stage[4:], region, app, VERSION)]  # type: ignore[union-attr]
                assert f"ContentUri: {info['content']}" in template
                assert f"CompatibleRuntimes: [python{info['python']}]" in template
                if stage == "sar-beta":
                    assert info["canary"].startswith(
                        f"stack serverlessrepo-{app}-canary CREATE_COMPLETE, "
                    )
                    # moto's stack resource for a LayerVersion has no ARN as its physical
                    # id, so the content comparison (real AWS) is not made here
                    assert info["canary"].endswith(
                        ", 1 layer versions (content not compared), deleted"
                    ), info["canary"]
                else:
                    assert "canary" not in info
    assert len(stubs.memory.change_sets) == len(apps) * len(MATRIX_REGIONS)  # type: ignore[union-attr]
    for region in MATRIX_REGIONS:
        cfn = accounts.client("cloudformation", BETA, region)
        live = [
            s["StackName"]
            for s in cfn.list_stacks()["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE"
        ]
        assert live == []


def test_a_region_out_of_step_fails_layer_prod_with_the_list(
    tmp_path: Path, pypi: Index, moto: Emulator, speedups: list[Path]
) -> None:
    """An extra version published in one region first: the release's version there is 2,
    elsewhere 1, and the parity check lists who has what."""
    for wheel in speedups:
        shutil.copy(wheel, pypi.packages)
    sample = make_sample(
        tmp_path,
        pypi,
        extra=layer_config(pypi.simple_url),
        stages="[seal, build, publish, layer-build, layer-prod]",
        prepare=layer_project,
    )
    accounts = Accounts(moto, tmp_path)
    accounts.client("lambda", PROD, "eu-west-1").publish_layer_version(
        LayerName="sample-311-x86_64",
        Content={"ZipFile": _zip(b"an older layer")},
        CompatibleRuntimes=["python3.11"],
    )
    env = {**sample.env(), **accounts.env()}
    with pytest.raises(ReleaseError) as failed:
        release(sample, env)
    message = str(failed.value)
    assert message.startswith(
        "stage layer-prod: layer versions out of step across regions (each layer must have "
        "the same version and CodeSha256 everywhere): sample-311-x86_64 (prod): us-east-1 v1 "
    )
    assert ", eu-west-1 v2 " in message
    assert ", ap-southeast-2 v1 " in message
    assert "sample-311-arm64" not in message  # in step
    rec = next(s for s in state(sample)["stages"] if s["name"] == "layer-prod")
    assert rec["status"] == "failed"
    seen = rec["details"]["parity"]["accounts"]["prod"]["sample-311-x86_64"]
    assert {r: v["version"] for r, v in seen.items()} == {
        "us-east-1": 1,
        "eu-west-1": 2,
        "ap-southeast-2": 1,
    }
    assert len({v["code_sha256"] for v in seen.values()}) == 1  # same content, other number


def _zip(data: bytes) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("python/older.py", data)
    return buf.getvalue()


def test_python_is_the_one_version_shorthand_and_several_need_their_own_names() -> None:
    one = LayerConfig(name="s-{pyver}-{arch}", python="3.11")
    assert one.variants() == [("3.11", "x86_64"), ("3.11", "arm64")]
    assert one.key("3.11", "arm64") == "arm64"  # today's layer-arm64.zip
    assert one.runtimes_of("3.11") == ["python3.11"]
    two = LayerConfig(name="s-{pyver}-{arch}", pythons=["3.11", "3.12"])
    assert two.key("3.12", "arm64") == "python3.12-arm64"
    assert two.layer_name("arm64", "3.12") == "s-312-arm64"
    assert two.runtimes_of("3.12") == ["python3.12"]
    for bad, says in (
        ({"name": "s-{arch}", "pythons": ["3.11", "3.12"]}, "name needs {pyver}"),
        ({"name": "s-{pyver}-{arch}", "pythons": ["3.11"], "python": "3.11"}, "not both"),
        ({"name": "s-{pyver}-{arch}", "pythons": ["3.11", "3.11"]}, "listed twice"),
        (
            {"name": "s-{pyver}-{arch}", "pythons": ["3.11", "3.12"], "interpreter": "x"},
            "use interpreters",
        ),
    ):
        with pytest.raises(ValueError, match=re.escape(says)):
            LayerConfig.model_validate(bad)
    sar = {"name": "app-python{pyver}", "template": "t.yaml", "author": "a", "description": "d"}
    with pytest.raises(ValueError, match="tell every"):
        PipelineConfig.model_validate(
            {"layer": {"name": "s-{pyver}-{arch}", "pythons": ["3.11"]}, "sar": sar}
        )
    with pytest.raises(ValueError, match=r"need release\.layer"):
        PipelineConfig.model_validate({"sar": {**sar, "bucket": "b"}})
