"""The run record (``steward-run.json``): made from a release's state, attached to the GitHub
release once by the post-release stage's `publish_provenance`, ignored by `release verify
--release`, read back through the adapter (capped, digest-checked) as untrusted data, and
drawn by `gantt_rows` (rows with offsets) and `run_gantt` (the Mermaid chart `release run`
prints)."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest

from steward.errors import PayloadError, TamperedArtifactError
from steward.github.records import asset_from_api
from steward.github.repo_api import RepoApi
from steward.pipeline.release_assets import RUN_RECORD, publish_provenance, run_record_bytes
from steward.pipeline.report import (
    MAX_RUN_RECORD,
    Part,
    Row,
    RunRecord,
    gantt,
    gantt_rows,
    read_run_record,
    run_gantt,
)
from steward.pipeline.state import ReleaseState
from tests.pipeline.conftest import Sample
from tests.pipeline.release_assets_github import AssetGitHub
from tests.pipeline.test_release_assets import (  # noqa: F401 (fixtures)
    TAG,
    URL,
    VERSION,
    client,
    context,
    dist_of,
    gh,
    sealed,
    verify,
)


def finished_state() -> ReleaseState:
    s = ReleaseState("1.0.0")
    for name, status, start, end in (
        ("seal", "completed", 100.0, 100.5),
        ("build", "completed", 100.5, 102.75),
        ("layer-prod", "completed", 103.0, 110.0),
        ("sar-prod", "skipped", None, None),
    ):
        rec = s.stage(name)
        rec.status, rec.started, rec.finished = status, start, end  # type: ignore[assignment]
    s.stages["layer-prod"].details["tasks"] = [
        {"title": "eu-west-1", "started": 103.0, "finished": 106.0},
        {"title": "us-east-1", "started": 103.5, "finished": 109.0},
        {"title": "broken", "started": "soon"},  # not a task: left out, as gantt leaves it
    ]
    return s


TITLES = {"seal": "Bump version and seal source", "layer-prod": "Deploy layer to prod"}


def test_rows_are_offsets_from_the_runs_start() -> None:
    record = RunRecord.from_state(finished_state(), TITLES, recorded_at=111.0)
    assert gantt_rows(record) == [
        Row("seal", "Bump version and seal source", "completed", 0.0, 0.5, ()),
        Row("build", "build", "completed", 0.5, 2.25, ()),
        Row(
            "layer-prod",
            "Deploy layer to prod",
            "completed",
            3.0,
            7.0,
            (Part("eu-west-1", 3.0, 3.0), Part("us-east-1", 3.5, 5.5)),
        ),
        Row("sar-prod", "sar-prod", "skipped", None, None, ()),
    ]


def test_the_record_draws_the_chart_release_run_printed() -> None:
    state = finished_state()
    record = RunRecord.from_state(state, TITLES, recorded_at=111.0)
    again = RunRecord.from_json(json.loads(run_record_bytes(record)))
    assert again == record
    assert run_gantt(again) == gantt(state, TITLES)


def test_a_stage_running_when_recorded_lasts_until_then() -> None:
    state = finished_state()
    post = state.stage("post-release")
    post.status, post.started = "running", 110.0
    record = RunRecord.from_state(state, {"post-release": "Release notes"}, recorded_at=112.5)
    assert gantt_rows(record)[-1] == Row("post-release", "Release notes", "running", 10.0, 2.5, ())
    assert "Release notes (2.50s) : active, post_release, 110000, 112500" in run_gantt(record)
    unknown = RunRecord.from_state(state, recorded_at=None)
    assert gantt_rows(unknown)[-1].seconds is None


def good() -> dict[str, object]:
    return RunRecord.from_state(finished_state(), TITLES, 111.0).to_json()


def with_stage(**fields: object) -> dict[str, object]:
    data = good()
    stages = data["stages"]
    assert isinstance(stages, list)
    stages[0] = {**stages[0], **fields}
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "not a steward run record"),
        ({**good(), "format": 2}, "not a steward run record"),
        ({**good(), "version": "1.0\nsection evil"}, "version is not a version"),
        ({**good(), "stages": [{}] * 51}, "at most 50"),
        (with_stage(name="seal\nsection x"), "not a stage name"),
        (with_stage(name="Seal"), "not a stage name"),
        (with_stage(status="done"), "status is not one of"),
        (with_stage(started=math.inf), "started is not a time"),
        (with_stage(started=True), "started is not a time"),
        (with_stage(finished="2026-01-01"), "finished is not a time"),
        (with_stage(tasks=[{"title": "x"}]), "task 1 has no start or end"),
        (with_stage(tasks=[{"title": "x", "started": 1, "finished": 2}] * 51), "at most 50"),
        ({**good(), "recorded_at": -1}, "recorded_at is not a time"),
    ],
)
def test_a_record_from_outside_is_checked(data: object, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        RunRecord.from_json(data, "asset steward-run.json")


def test_titles_from_outside_are_one_bounded_line_and_cannot_write_mermaid() -> None:
    data = with_stage(
        title="Seal\n```\nsection evil: done, x, 1, 2 #" + "y" * 300,
        tasks=[{"title": "eu\u202e-west-1: crit", "started": 100.0, "finished": 100.2}],
    )
    record = RunRecord.from_json(data)
    seal = record.stages[0]
    assert "\n" not in seal.title
    assert len(seal.title) == 200
    assert record.stages[0].tasks[0].title == "eu -west-1: crit"
    chart = run_gantt(record).splitlines()
    assert [line for line in chart if line.startswith("section")] == [
        "section seal",
        "section build",
        "section layer-prod",
    ]
    assert chart.count("```") == 1  # the closing fence only: no line of a title escapes
    assert all(line.count(":") <= 1 for line in chart if not line.startswith("axisFormat"))


# -- on the GitHub release --------------------------------------------------------------------


def test_post_release_attaches_the_run_record_once_and_verify_ignores_it(
    sealed: Sample,  # noqa: F811
    gh: AssetGitHub,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rel = gh.add_release(TAG)
    ctx = context(sealed, gh)
    post = ctx.state.stage("post-release")
    post.status, post.started = "running", time.time()  # as the stage that attaches it
    api = RepoApi(client(gh), gh.repo)
    details = publish_provenance(ctx, api)
    assert details["run_record"] == "uploaded"

    on_release = gh.asset_bytes(rel)[RUN_RECORD]
    assert on_release == (sealed.release_dir / VERSION / RUN_RECORD).read_bytes()
    record = RunRecord.from_json(json.loads(on_release))
    assert record.version == VERSION
    assert [s.name for s in record.stages] == list(ctx.state.stages)
    assert record.stages[0].title == "Bump version and seal source"  # the stages' titles
    assert record.recorded_at is not None
    assert record.recorded_at >= post.started
    assert gantt_rows(record)[-1].status == "running"

    gh.reset_calls()
    uploads = len(gh.uploaded)
    post.started += 100.0  # a resumed post-release: the first record is kept
    again = publish_provenance(ctx, api)  # its record would differ: the first stays
    assert again["run_record"] == "unchanged"
    assert len(gh.uploaded) == uploads
    assert gh.writes() == []
    assert gh.asset_bytes(rel)[RUN_RECORD] == on_release

    asset = next(a for a in api.release_assets(int(str(rel["id"]))) if a.name == RUN_RECORD)
    assert read_run_record(api, asset) == record
    assert all("authorization" not in seen.headers for seen in gh.storage.seen)

    dist = dist_of(sealed, tmp_path / "dist")
    code, out, err = verify(gh, capsys, monkeypatch, "--release", URL, "--dist", str(dist))
    assert code == 0, err
    assert "verified 2 artifact(s)" in out


def test_a_record_that_is_not_what_github_says_or_too_large_is_refused(gh: AssetGitHub) -> None:  # noqa: F811
    rel = gh.add_release("v9.0.0")
    api = RepoApi(client(gh), gh.repo)
    data = run_record_bytes(RunRecord.from_state(finished_state(), TITLES, 111.0))
    made = gh.add_asset(rel, RUN_RECORD, data)
    gh.tamper(rel, RUN_RECORD, data.replace(b"1.0.0", b"6.6.6"), keep_digest=True)
    with pytest.raises(TamperedArtifactError, match="not what GitHub's digest says"):
        read_run_record(api, asset_from_api(made))

    big = asset_from_api({**made, "size": MAX_RUN_RECORD + 1})
    seen = len(gh.storage.seen)
    with pytest.raises(PayloadError, match="over the limit"):
        read_run_record(api, big)
    assert len(gh.storage.seen) == seen  # refused before any download
