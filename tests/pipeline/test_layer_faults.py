"""Faults in the layer stages, on moto: a region failing in layer-prod and the resume that
publishes no second version anywhere; credentials of the wrong account and a tampered layer
zip, both refused before anything is published."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from steward.e2e.emulator import Emulator
from steward.errors import ReleaseError, TamperedArtifactError
from tests.pipeline.conftest import Index
from tests.pipeline.layer_support import (
    BETA,
    BETA_REGIONS,
    PROD,
    PROD_REGIONS,
    Accounts,
    SarStubs,
    local_lambda,
    queue_invoke_result,
)
from tests.pipeline.test_layer import layer_arn, layer_sample, release
from tests.pipeline.test_release_run import VERSION, state, statuses

IMPORT_ERROR = json.dumps(
    {
        "errorMessage": "No module named 'sample_speedups._speedups'",
        "errorType": "ModuleNotFoundError",
    }
)


def test_a_region_failing_in_layer_prod_then_resume_publishes_no_second_version(
    tmp_path: Path, pypi: Index, moto: Emulator, speedups: list[Path]
) -> None:
    sample = layer_sample(
        tmp_path, pypi, speedups, stages="[seal, build, layer-build, layer-beta, layer-prod]"
    )
    accounts = Accounts(moto, tmp_path)
    env = {**sample.env(), **accounts.env()}
    # the x86_64 canary in prod's ap-southeast-2 answers as a function whose import failed
    queue_invoke_result(moto, PROD, "ap-southeast-2", IMPORT_ERROR)

    # ... and is left to moto there: the other regions' canaries run in the local runtime
    echo_south = SarStubs(
        env, runner=local_lambda(tmp_path / "cache", skip_regions=("ap-southeast-2",))
    )
    lines: list[str] = []
    with pytest.raises(ReleaseError) as failed:
        release(sample, env, echo_south, lines=lines)
    message = str(failed.value)
    south = layer_arn(PROD, "ap-southeast-2", "x86_64")
    assert message.startswith(
        "stage layer-prod: failed in 1 of 3 regions: ap-southeast-2: canary "
        f"sample-311-x86_64-canary with {south} failed: "
        "No module named 'sample_speedups._speedups'"
    )
    assert f"steward release run --version {VERSION} --resume" in message
    assert statuses(sample) == {
        "seal": "completed",
        "build": "completed",
        "layer-build": "completed",
        "layer-beta": "completed",
        "layer-prod": "failed",
    }
    recorded = next(s for s in state(sample)["stages"] if s["name"] == "layer-prod")["details"]
    assert list(recorded["failed"]) == ["ap-southeast-2"]
    # the regions that succeeded, and what the failed one published, are recorded
    assert sorted(recorded["layers"]) == sorted(PROD_REGIONS)
    assert list(recorded["layers"]["ap-southeast-2"]) == ["x86_64"]
    assert recorded["layers"]["ap-southeast-2"]["x86_64"]["arn"] == south
    published = accounts.all_versions({BETA: BETA_REGIONS, PROD: PROD_REGIONS})
    missing = {key for key, arns in published.items() if not arns}
    assert missing == {(PROD, "ap-southeast-2", "sample-311-arm64")}
    assert all(len(arns) <= 1 for arns in published.values())
    for region in PROD_REGIONS:  # the canary functions are deleted, also after a failure
        assert accounts.client("lambda", PROD, region).list_functions()["Functions"] == []

    resumed = release(
        sample, env, SarStubs(env, runner=local_lambda(tmp_path / "cache")), resume=True
    )
    assert "layer-beta: done before, outputs verified" in resumed
    for region in ("us-east-1", "eu-west-1"):
        for arch in ("x86_64", "arm64"):
            assert f"{region} {arch}: reused {layer_arn(PROD, region, arch)}" in resumed
    assert f"ap-southeast-2 x86_64: reused {south}" in resumed
    arm = layer_arn(PROD, "ap-southeast-2", "arm64")
    assert f"ap-southeast-2 arm64: published {arm}" in resumed
    after = accounts.all_versions({BETA: BETA_REGIONS, PROD: PROD_REGIONS})
    assert {key: len(arns) for key, arns in after.items()} == dict.fromkeys(after, 1)
    assert all(after[key] == arns for key, arns in published.items() if arns)
    final = next(s for s in state(sample)["stages"] if s["name"] == "layer-prod")
    assert final["status"] == "completed"
    assert "failed" not in final["details"]
    for region in ("us-east-1", "eu-west-1"):
        assert final["details"]["layers"][region] == {
            arch: {**info, "reused": True} for arch, info in recorded["layers"][region].items()
        }

    # a finished release: verified against AWS, nothing published
    again = release(sample, env)
    assert "nothing changed" in again
    assert accounts.all_versions({BETA: BETA_REGIONS, PROD: PROD_REGIONS}) == after


def test_wrong_account_and_a_tampered_layer_zip_are_refused_before_publishing(
    tmp_path: Path, pypi: Index, moto: Emulator, speedups: list[Path]
) -> None:
    sample = layer_sample(
        tmp_path,
        pypi,
        speedups,
        stages="[seal, build, layer-build, layer-beta]",
        beta_account_id="999999999999",
    )
    accounts = Accounts(moto, tmp_path)
    env = {**sample.env(), **accounts.env()}
    with pytest.raises(ReleaseError) as wrong:
        release(sample, env)
    assert (
        "stage layer-beta: the beta credentials are for account 111111111111, not the "
        "configured 999999999999: nothing was published"
    ) in str(wrong.value)
    nothing = accounts.all_versions({BETA: BETA_REGIONS})
    assert set(map(len, nothing.values())) == {0}

    cfg = sample.root / ".github" / "steward.yml"
    cfg.write_text(cfg.read_text().replace("'999999999999'", f"'{BETA}'"))
    rdir = sample.release_dir / VERSION
    build = next(s for s in state(sample)["stages"] if s["name"] == "layer-build")
    for name in ("layer-x86_64.zip", "layer-arm64.zip"):
        path = rdir / name
        original = path.read_bytes()
        path.write_bytes(original + b"\0")
        with pytest.raises(TamperedArtifactError) as tampered:
            release(sample, env, resume=True)
        text = str(tampered.value)
        assert f"sealed {name} was changed" in text
        assert build["outputs"][name] in text
        assert hashlib.sha256(original + b"\0").hexdigest() in text
        assert accounts.all_versions({BETA: BETA_REGIONS}) == nothing
        path.write_bytes(original)

    resumed = release(sample, env, resume=True)
    assert "layer-build: done before, outputs verified" in resumed
    after = accounts.all_versions({BETA: BETA_REGIONS})
    assert {key: len(arns) for key, arns in after.items()} == dict.fromkeys(after, 1)
