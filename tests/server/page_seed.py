"""The page's tests' server settings, and surveys stored through the survey store itself.

Simplified on purpose, and said here: the survey job is not run (it is tested against the
local GitHub in test_survey.py); the items are a few made-up issues and pull requests; the
run record has the release pipeline's real stages, in its order and with its titles
(`pipeline.stages.all_stages`), with made-up times (a 14-minute run in the playbook's
shape: layers take most of it, in two regions).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from steward.pipeline.report import RunRecord, RunStage, RunTask
from steward.pipeline.stages import all_stages
from steward.server.surveys import (
    ApiBudget,
    BlockedPull,
    Listing,
    PendingIssue,
    ReleaseRun,
    RepositorySurvey,
    Surveys,
    SweepItem,
)
from tests.server.conftest import SECRET
from tests.server.fakes import local_github_env


def page_server_env(database_url: str, **extra: str) -> dict[str, str]:
    """A `steward serve` process for the page's tests: no workers (the test decides what
    the inbox holds) and no GitHub (the page never calls it); ``extra`` adds settings."""
    return local_github_env(
        database_url, "http://127.0.0.1:9", "unused", SECRET, STEWARD_WORKERS="0", **extra
    )


REPO = "octo-org/widgets"
WEB = f"https://github.com/{REPO}"
# Seconds per stage in a run of the playbook's shape; the rest take a few seconds.
SECONDS = {
    "quality": 210.0,
    "build": 25.0,
    "layer-build": 180.0,
    "layer-beta": 150.0,
    "layer-prod": 160.0,
    "sar-beta": 40.0,
    "sar-prod": 35.0,
    "docs": 60.0,
}
REGIONS = ("eu-west-1", "us-east-1")


def run_record(version: str, start: float, fail: str | None = None) -> RunRecord:
    stages = []
    at = start
    for name, stage in all_stages().items():
        took = SECONDS.get(name, 4.0)
        status = "failed" if name == fail else "completed"
        tasks: tuple[RunTask, ...] = ()
        if name in {"layer-beta", "layer-prod"}:
            tasks = tuple(
                RunTask(region, at + 2 + k * 5, at + took - 3 * (1 - k))
                for k, region in enumerate(REGIONS)
            )
        stages.append(RunStage(name, stage.title, status, at, at + took, tasks))
        at += took
        if status == "failed":
            break
    return RunRecord(version, tuple(stages), recorded_at=at)


def seed_surveys(engine: Engine, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    start = (now - timedelta(days=1)).timestamp()
    releases = (
        ReleaseRun(
            "v2.4.0",
            "v2.4.0",
            (now - timedelta(days=1)).isoformat(),
            f"{WEB}/releases/tag/v2.4.0",
            False,
            run_record("2.4.0", start),
        ),
        ReleaseRun(
            "v2.4.0a1",
            "v2.4.0a1",
            (now - timedelta(days=3)).isoformat(),
            f"{WEB}/releases/tag/v2.4.0a1",
            True,
            None,
        ),
    )
    repo = RepositorySurvey(
        REPO,
        taken_at=now,
        pending_release=Listing.of(
            [
                PendingIssue(101, "Release the frobnicator", f"{WEB}/issues/101", "closed"),
                PendingIssue(97, "Logger drops the sampling rate", f"{WEB}/issues/97", "open"),
            ]
        ),
        blocking_labels=("do-not-merge", "need-issue"),
        blocked=Listing.of(
            [
                BlockedPull(
                    120, "feat(metrics): high resolution", f"{WEB}/pull/120", ("do-not-merge",)
                ),
                BlockedPull(121, "chore: tidy", f"{WEB}/pull/121", ("need-issue",)),
            ]
        ),
        sweep=Listing.of(
            [
                SweepItem(55, "Idea: a YAML logger", f"{WEB}/issues/55", ("stale",)),
                SweepItem(41, "Question about tracing", f"{WEB}/issues/41", ("close",)),
            ]
        ),
        releases=releases,
    )
    budget = ApiBudget(
        requests=40,
        reads=36,
        not_modified=27,
        resource="core",
        limit=5000,
        remaining=4912,
        reset_at=now + timedelta(minutes=40),
    )
    Surveys(engine).save(7, now, [repo], budget)
