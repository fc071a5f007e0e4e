"""The survey (`server.survey`) and its store (`server.surveys`), on SQLite and PostgreSQL,
against the local GitHub App server with releases and their assets (every request and answer
checked against GitHub's OpenAPI description): what the maintainers' page shows of each
repository is read once, stored, read back as typed records; a second survey with nothing
changed stores the same text and downloads no run record again; its reads are counted, with
those the ETag store answered; a repository GitHub refuses is saved with its error; the
worker runs the scheduled job and forgets an uninstalled App's surveys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from steward.errors import GitHubError
from steward.pipeline.release_assets import run_record_bytes
from steward.pipeline.report import RunRecord, gantt_rows
from steward.pipeline.state import ReleaseState
from steward.server import db, intake
from steward.server.github_app import GitHubApp
from steward.server.inbox import Inbox
from steward.server.metrics import Metrics
from steward.server.processing import WorkerDeps
from steward.server.repo_config import RepoConfigs
from steward.server.stores import SqlConfigStore, SqlEtagStore
from steward.server.survey import process_survey
from steward.server.surveys import (
    ApiBudget,
    Listing,
    PendingIssue,
    RepositorySurvey,
    Surveys,
    safe_url,
    title_text,
)
from steward.server.worker import Worker
from tests.pipeline.release_assets_github import AssetGitHub
from tests.server.conftest import make_settings
from tests.support.github_app_server import APP_ID, INSTALLATION_ID, GitHubAppServer
from tests.support.github_server import RESET_AT

REPO = "octo-org/sample"
GONE = "octo-org/gone"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
RECENT = "2026-05-31T00:00:00Z"
LONG_TITLE = "Logger\nloses lines " + "x" * 300


class SurveyGitHub(AssetGitHub, GitHubAppServer):
    """The App server (installation tokens, ETags, contents) with releases and assets."""


def run_state() -> ReleaseState:
    state = ReleaseState("1.0.0")
    for name, status, start, end in (
        ("seal", "completed", 100.0, 101.0),
        ("build", "completed", 101.0, 104.5),
        ("layer-beta", "skipped", None, None),
        ("post-release", "running", 104.5, None),
    ):
        rec = state.stage(name)
        rec.status, rec.started, rec.finished = status, start, end  # type: ignore[assignment]
    state.stages["build"].details["tasks"] = [
        {"title": "x86_64", "started": 101.0, "finished": 103.0},
        {"title": "arm64", "started": 101.5, "finished": 104.0},
    ]
    return state


RECORD = RunRecord.from_state(run_state(), {"build": "Build and seal artifacts"}, 105.0)


@pytest.fixture
def gh() -> Iterator[SurveyGitHub]:
    server = SurveyGitHub(REPO)
    with server:
        server.add_installation(INSTALLATION_ID, (REPO, GONE))
        seed(server)
        yield server
    assert server.violations == []


def seed(gh: SurveyGitHub) -> None:
    gh.add_issue(1, "Sampling rate is dropped", labels=("pending-release", "bug"))
    gh.add_issue(2, "Fixed at merge", labels=("pending-release",), state="closed")
    gh.add_pr(3, "feat: new sink", labels=("do-not-merge", "need-issue"))
    gh.add_pr(4, "fix: typo", labels=("need-issue",)).touch(RECENT)
    gh.add_issue(5, LONG_TITLE)  # idle since 2011: the sweep marks it stale
    gh.add_issue(6, "Marked long ago", labels=("stale",))  # stale and idle: closed
    gh.add_issue(7, "Busy", labels=("bug",)).touch(RECENT)
    gh.add_pr(8, "feat: busy", labels=("bug",)).touch(RECENT)
    old = gh.add_release("v0.9.0")
    del old  # no run record
    done = gh.add_release("v1.0.0")
    gh.add_asset(done, "SHA256SUMS", b"a" * 64 + b"  sample-1.0.0.tar.gz\n")
    gh.add_asset(done, "steward-run.json", run_record_bytes(RECORD))
    broken = gh.add_release("v1.1.0")
    gh.add_asset(broken, "steward-run.json", b'{"format": 1, "version": "1.1.0\\n"}')
    gh.add_draft("v1.2.0")  # a draft: not shown


def app_deps(gh: SurveyGitHub, engine: Engine) -> tuple[WorkerDeps, GitHubApp]:
    app = GitHubApp(
        APP_ID,
        gh.private_key_pem,
        base_url=gh.url,
        etags=SqlEtagStore(engine),
        client_options={"backoff": 0.01},  # a 5xx is retried as in production, sooner
    )
    configs = RepoConfigs(app.github_for, SqlConfigStore(engine))
    deps = WorkerDeps(
        github_for=app.github_for,
        config_for=configs.config_for,
        bot_login="repo-steward[bot]",
        repositories_for=app.repositories,
        clock=lambda: NOW,
    )
    return deps, app


def bodies(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(db.surveys.c.repository, db.surveys.c.body)).all()
    return {r.repository: r.body for r in rows}


def installation_calls(gh: SurveyGitHub) -> int:
    """Requests the installation sent (not the App's own, for its token)."""
    return sum(1 for c in gh.calls if not c.path.startswith("/app"))


def test_a_survey_stores_what_the_page_shows(gh: SurveyGitHub, engine: Engine) -> None:
    deps, app = app_deps(gh, engine)
    store = Surveys(engine)
    with app:
        process_survey(INSTALLATION_ID, deps, store)

    [inst] = store.latest()
    assert inst.installation_id == INSTALLATION_ID
    assert inst.taken_at == NOW
    repos = {r.repository: r for r in inst.repositories}
    assert sorted(repos) == [GONE, REPO]

    gone = repos[GONE]
    assert gone.error is not None
    assert gone.error.startswith("GitHub: ")
    assert "404" in gone.error
    assert gone.pending_release.items == ()
    assert gone.releases == ()

    repo = repos[REPO]
    assert repo.error is None
    assert repo.taken_at == NOW
    assert repo.pending_label == "pending-release"
    # GitHub's order (the newest first) is kept
    assert [(i.number, i.state) for i in repo.pending_release.items] == [
        (2, "closed"),
        (1, "open"),
    ]
    assert repo.pending_release.items[1] == PendingIssue(
        1, "Sampling rate is dropped", f"https://github.com/{REPO}/issues/1", "open"
    )
    assert repo.pending_release.total == 2

    assert repo.blocking_labels == ("do-not-merge", "need-issue")
    assert sorted((p.number, p.labels, p.url) for p in repo.blocked.items) == [
        (3, ("do-not-merge", "need-issue"), f"https://github.com/{REPO}/pull/3"),
        (4, ("need-issue",), f"https://github.com/{REPO}/pull/4"),
    ]  # not #7, an issue, nor #8, a PR without a blocking label

    assert repo.sweep_enabled
    assert {i.number: i.actions for i in repo.sweep.items} == {5: ("stale",), 6: ("close",)}
    stale = next(i for i in repo.sweep.items if i.number == 5)
    assert stale.summary == "mark stale"
    assert stale.title == title_text(LONG_TITLE)
    assert "\n" not in stale.title
    assert len(stale.title) == 200
    # planned, never applied: nothing labelled, closed or said (the one write is the token)
    assert gh.writes() == [("POST", f"/app/installations/{INSTALLATION_ID}/access_tokens")]
    assert "stale" not in gh.labels_of(5)
    assert gh.issues[6].state == "open"

    assert [(r.tag, r.prerelease) for r in repo.releases] == [
        ("v1.1.0", False),
        ("v1.0.0", False),
        ("v0.9.0", False),
    ]  # the draft is left out
    broken, done, old = repo.releases
    assert done.run == RECORD
    assert done.url == f"https://github.com/{REPO}/releases/tag/v1.0.0"
    assert done.published_at == "2026-01-01T00:00:00Z"
    assert [(r.stage, r.start_offset_s, r.seconds) for r in gantt_rows(done.run)] == [
        ("seal", 0.0, 1.0),
        ("build", 1.0, 3.5),
        ("layer-beta", None, None),
        ("post-release", 4.5, 0.5),
    ]
    assert broken.run is None
    assert broken.run_error is not None
    assert "version is not a version" in broken.run_error
    assert old.run is None
    assert old.run_error is None
    assert old.run_asset is None

    budget = inst.budget
    assert budget is not None
    assert budget.requests == installation_calls(gh)
    assert budget.reads == budget.requests  # a survey only reads
    assert budget.not_modified == gh.not_modified == 0  # a first survey: nothing stored yet
    assert budget.saved_percent == 0
    assert (budget.resource, budget.limit) == ("core", 5000)
    assert budget.remaining == gh.rate_remaining(f"installation:{INSTALLATION_ID}")
    assert budget.reset_at == datetime.fromtimestamp(RESET_AT, UTC)


def test_a_second_survey_with_nothing_changed_writes_the_same(
    gh: SurveyGitHub, engine: Engine
) -> None:
    deps, app = app_deps(gh, engine)
    store = Surveys(engine)
    with app:
        process_survey(INSTALLATION_ID, deps, store)
        first = bodies(engine)
        downloads = len(gh.storage.seen)
        assert downloads == 2  # the two run records
        gh.reset_calls()
        before = gh.not_modified
        again = process_survey(INSTALLATION_ID, deps, store)

    assert bodies(engine) == first
    assert len(gh.storage.seen) == downloads  # the same assets: not downloaded again
    assert not any("/releases/assets/" in c.path for c in gh.calls)
    budget = again.budget
    assert budget is not None
    assert budget.requests == installation_calls(gh)
    # the repository list (the config is in the database's cache): a 304, no rate limit
    assert budget.not_modified == gh.not_modified - before >= 1
    assert budget.saved_percent == round(100 * budget.not_modified / budget.reads)
    [inst] = store.latest()
    assert inst.budget == budget


def test_what_changed_is_surveyed_again(gh: SurveyGitHub, engine: Engine) -> None:
    deps, app = app_deps(gh, engine)
    store = Surveys(engine)
    with app:
        process_survey(INSTALLATION_ID, deps, store)
        gh.issues[3].labels.remove("do-not-merge")
        gh.issues[3].labels.remove("need-issue")
        gh.add_issue(9, "Another one", labels=("pending-release",))
        gh.installations[INSTALLATION_ID].pop(GONE.casefold())
        process_survey(INSTALLATION_ID, deps, store)
    [inst] = store.latest()
    [repo] = inst.repositories  # the repository the App lost is forgotten
    assert repo.repository == REPO
    assert [p.number for p in repo.blocked.items] == [4]
    assert [i.number for i in repo.pending_release.items] == [9, 2, 1]


def test_github_failing_saves_nothing_and_keeps_the_last_survey(
    gh: SurveyGitHub, engine: Engine
) -> None:
    from tests.support.github_server import Fault

    deps, app = app_deps(gh, engine)
    store = Surveys(engine)
    with app:
        process_survey(INSTALLATION_ID, deps, store)
        first = bodies(engine)
        gh.faults.append(Fault(502, method="GET", path_contains="/releases", times=100))
        with pytest.raises(GitHubError, match="502"):
            process_survey(INSTALLATION_ID, deps, store, now=datetime(2026, 6, 2, tzinfo=UTC))
    gh.violations.clear()  # the injected 502s are not the test server's fault
    assert bodies(engine) == first
    [inst] = store.latest()
    assert inst.taken_at == NOW


def test_the_worker_runs_the_scheduled_survey_and_forgets_an_uninstalled_app(
    gh: SurveyGitHub, engine: Engine
) -> None:
    deps, app = app_deps(gh, engine)
    inbox = Inbox(engine, rng=lambda: 0.0)
    assert inbox.schedules.ensure(INSTALLATION_ID, 900, kind="survey")
    assert not inbox.schedules.ensure(INSTALLATION_ID, 900, kind="survey")
    assert inbox.schedules.ensure(INSTALLATION_ID, 900)  # the sweep: its own schedule
    with pytest.raises(ValueError, match="no scheduled job of kind"):
        inbox.schedules.ensure(INSTALLATION_ID, 900, kind="other")
    with engine.begin() as conn:  # only the survey is due
        conn.execute(
            db.schedules.update()
            .where(db.schedules.c.kind == "sweep")
            .values(next_run_at=datetime(2999, 1, 1, tzinfo=UTC))
        )
    assert inbox.schedules.enqueue_due() == 1
    job = inbox.jobs.claim("w", 60)
    assert job is not None
    assert (job.kind, job.subject, job.installation_id) == (
        "survey",
        f"survey:{INSTALLATION_ID}",
        INSTALLATION_ID,
    )
    import threading

    metrics = Metrics()
    worker = Worker(inbox, deps, make_settings(), name="w", stop=threading.Event(), metrics=metrics)
    with app:
        assert worker.run_job(job) == "done"
    store = Surveys(engine)
    assert {r.repository for r in store.latest()[0].repositories} == {REPO, GONE}
    assert metrics.value("steward_jobs_processed_total", kind="survey") == 1

    payload = {"action": "deleted", "installation": {"id": INSTALLATION_ID}}
    raw = json.dumps({**payload, "sender": {"login": "octocat"}}).encode()
    item = intake.incoming(intake.Headers("installation", "d1", "", "42"), payload, raw)
    assert inbox.deliveries.record([item]) == ["queued"]
    deleted = inbox.jobs.claim("w", 60)
    assert deleted is not None
    assert deleted.kind == "event"
    worker.run_job(deleted)
    assert store.latest() == []
    with engine.connect() as conn:
        assert conn.execute(select(db.schedules)).all() == []


def test_the_store_round_trips_and_replaces_an_installation(engine: Engine) -> None:
    store = Surveys(engine)
    repo = RepositorySurvey(
        "o/r",
        pending_release=Listing.of(
            PendingIssue(n, f"issue {n}", f"https://github.com/o/r/issues/{n}", "open")
            for n in range(60)
        ),
    )
    budget = ApiBudget(10, 8, 6, "core", 5000, 4990, datetime(2026, 6, 1, 13, tzinfo=UTC))
    store.save(7, NOW, [repo, RepositorySurvey("o/other", error="config: bad")], budget)
    store.save(8, NOW, [RepositorySurvey("o/third")], ApiBudget(0, 0, 0))
    first, second = store.latest()
    assert [r.repository for r in first.repositories] == ["o/other", "o/r"]
    got = first.repositories[1]
    assert len(got.pending_release.items) == 50
    assert (got.pending_release.total, got.pending_release.more) == (60, 10)
    assert got.pending_release.items[0] == repo.pending_release.items[0]
    assert first.repositories[0].error == "config: bad"
    assert first.budget == budget
    assert budget.saved_percent == 75
    assert second.budget is not None
    assert second.budget.saved_percent is None
    assert store.repositories(7)["o/r"] == RepositorySurvey(
        "o/r", taken_at=NOW, pending_release=got.pending_release
    )

    store.save(7, NOW, [RepositorySurvey("o/r")], budget)  # o/other is gone
    assert [r.repository for r in store.latest()[0].repositories] == ["o/r"]
    with engine.begin() as conn:  # a body this version cannot read: an error, not a crash
        conn.execute(db.surveys.update().values(body='{"format": 99}'))
    assert store.latest()[0].repositories[0].error == "survey unreadable: survey again"


def test_untrusted_text_is_one_bounded_line_and_urls_are_web_addresses() -> None:
    assert title_text("a\nb\u202e\tc  d" + "e" * 300) == ("a b c d" + "e" * 300)[:200]
    assert title_text(None) == ""
    assert safe_url("https://github.com/o/r/issues/1") == "https://github.com/o/r/issues/1"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//evil", "https://a b", 42, ""):
        assert safe_url(bad) == ""


def test_0004_adds_the_survey_tables_and_takes_them_away(database_url: str) -> None:
    from sqlalchemy import inspect

    engine = db.make_engine(database_url)
    try:
        db.migrate(engine, "0003")
        assert "surveys" not in inspect(engine).get_table_names()
        db.migrate(engine)
        assert db.current_revision(engine) == "0004"
        assert {"surveys", "survey_budgets"} <= set(inspect(engine).get_table_names())
        Surveys(engine).save(7, NOW, [RepositorySurvey("o/r")], ApiBudget(1, 1, 1))
        db.downgrade(engine, "0003")
        assert "surveys" not in inspect(engine).get_table_names()
        assert "instances" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
