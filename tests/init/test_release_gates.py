"""The release workflow's approval gates, as the seed's layer workflows have them: with a
layer or SAR account, the beta stages run in a `layer-beta` job and the prod ones in a
`layer-prod` job, each behind its GitHub environment, each continuing the release from the
state the job before it kept (`--stop-before`, then `--resume`)."""

from __future__ import annotations

from typing import Any

import yaml

from steward.config.model import StewardConfig
from steward.init import InitOptions, plan_files

from .test_zizmor import layer_and_sar


def release_workflow(config: StewardConfig) -> dict[str, Any]:
    files = {f.path: f.content for f in plan_files(InitOptions(), config)}
    found: dict[str, Any] = yaml.safe_load(files[".github/workflows/release.yml"])
    return found


def _runs(job: dict[str, Any]) -> list[str]:
    return [
        step["run"] for step in job["steps"] if "run" in step and "steward release" in step["run"]
    ]


def test_layer_and_sar_releases_pass_two_approval_gates() -> None:
    jobs = release_workflow(layer_and_sar())["jobs"]
    assert list(jobs) == ["release", "beta", "prod"]
    assert [jobs[j]["environment"] for j in jobs] == ["release", "layer-beta", "layer-prod"]
    assert jobs["beta"]["needs"] == "release"
    assert jobs["prod"]["needs"] == "beta"
    assert _runs(jobs["release"]) == [
        'steward release run --version "${VERSION}" --stop-before layer-beta'
    ]
    assert _runs(jobs["beta"]) == [
        'steward release run --version "${VERSION}" --resume --stop-before layer-prod'
    ]
    assert _runs(jobs["prod"]) == ['steward release run --version "${VERSION}" --resume']
    # each gated job starts from the record the job before it uploaded
    downloads = {
        j: next(s for s in jobs[j]["steps"] if "download-artifact" in s.get("uses", ""))
        for j in ("beta", "prod")
    }
    assert downloads["beta"]["with"]["name"] == "steward-release-${{ inputs.version }}"
    assert downloads["prod"]["with"]["name"] == "steward-release-${{ inputs.version }}-beta"
    assert jobs["prod"]["permissions"]["id-token"] == "write"


def test_without_an_aws_account_the_release_is_one_job() -> None:
    jobs = release_workflow(StewardConfig())["jobs"]
    assert list(jobs) == ["release"]
    assert _runs(jobs["release"]) == ['steward release run --version "${VERSION}"']
